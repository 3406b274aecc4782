using System.Text;

namespace VectorStoreDb.Cli;

/// <summary>RFC 4180 records: commas, double-quoted fields with "" escapes and line breaks inside quotes.</summary>
internal static class Csv
{
    /// <summary>Reads one record; null at the end. <paramref name="lines"/> counts physical lines consumed.</summary>
    public static List<string>? ReadRecord(TextReader reader, ref long lines)
    {
        int c = reader.Read();
        if (c < 0)
        {
            return null;
        }
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        lines++;
        while (true)
        {
            if (c < 0)
            {
                fields.Add(field.ToString());
                return fields;
            }
            char ch = (char)c;
            if (quoted)
            {
                if (ch == '"')
                {
                    if (reader.Peek() == '"')
                    {
                        field.Append('"');
                        reader.Read();
                    }
                    else
                    {
                        quoted = false;
                    }
                }
                else
                {
                    if (ch == '\n')
                    {
                        lines++;
                    }
                    field.Append(ch);
                }
            }
            else if (ch == '"' && field.Length == 0)
            {
                quoted = true;
            }
            else if (ch == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else if (ch == '\r' && reader.Peek() == '\n')
            {
                // CRLF: the \n ends the record below.
            }
            else if (ch == '\n')
            {
                fields.Add(field.ToString());
                return fields;
            }
            else
            {
                field.Append(ch);
            }
            c = reader.Read();
        }
    }
}
