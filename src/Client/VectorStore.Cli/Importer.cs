using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using VectorStoreDb.Client;

namespace VectorStoreDb.Cli;

/// <summary>
/// Streams a JSONL or CSV file into a collection in batches. After each committed batch the record number is
/// written to <c>&lt;file&gt;.checkpoint</c>, so an interrupted import continues where it stopped. Records without
/// an id get a stable one (<c>&lt;file-name&gt;-&lt;record&gt;</c>), so replaying a batch after a crash upserts the
/// same documents rather than duplicating them.
/// </summary>
internal sealed class Importer(IVectorStoreClient client, TextWriter output, ImportProgress progress = ImportProgress.Lines)
{
    public static string CheckpointPath(FileInfo file) => file.FullName + ".checkpoint";

    public async Task ImportAsync(FileInfo file, string collection, int batchSize, bool restart, CancellationToken cancellationToken)
    {
        if (!file.Exists)
        {
            throw new FileNotFoundException($"{file.FullName} does not exist.");
        }
        if (batchSize < 1)
        {
            throw new VectorStoreClientException(VectorStoreErrorCode.InvalidArgument, "--batch: must be at least 1.", "batch");
        }
        bool csv = file.Extension.Equals(".csv", StringComparison.OrdinalIgnoreCase);
        string checkpointPath = CheckpointPath(file);
        long resumeAfter = restart ? 0 : ReadCheckpoint(checkpointPath, collection);
        if (resumeAfter > 0)
        {
            await output.WriteLineAsync($"Resuming after record {resumeAfter:N0} (checkpoint {checkpointPath}).");
        }

        string idPrefix = StableIdPrefix(file);
        await using var stream = new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var records = csv ? ReadCsv(reader, idPrefix) : ReadJsonLines(reader, idPrefix);

        var batch = new List<DocumentWrite>(batchSize);
        long record = 0, imported = 0, lastInBatch = 0;
        var clock = Stopwatch.StartNew();
        var lastReport = TimeSpan.MinValue;
        foreach (var (number, document) in records)
        {
            record = number;
            if (number <= resumeAfter)
            {
                continue;
            }
            batch.Add(document);
            lastInBatch = number;
            if (batch.Count == batchSize)
            {
                await CommitAsync();
            }
        }
        if (batch.Count > 0)
        {
            await CommitAsync();
        }
        File.Delete(checkpointPath);
        if (progress == ImportProgress.Bar)
        {
            // The finished bar stays on screen; the summary goes on the next line.
            await output.WriteLineAsync(BarLine(imported, 1, Rate(imported, clock.Elapsed), "00:00:00"));
        }
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"Imported {imported:N0} documents into {collection} in {clock.Elapsed.TotalSeconds:F1} s ({Rate(imported, clock.Elapsed):N0} docs/s); {record:N0} records in the file."));

        async Task CommitAsync()
        {
            await client.UpsertAsync(collection, batch, cancellationToken);
            imported += batch.Count;
            batch.Clear();
            WriteCheckpoint(checkpointPath, collection, lastInBatch);
            // A bar redraws in place ten times a second; lines (a log, a pipe) come at most twice a second, since a
            // line per batch would flood the reader.
            var every = progress == ImportProgress.Bar ? TimeSpan.FromMilliseconds(100) : TimeSpan.FromMilliseconds(500);
            if (progress != ImportProgress.None && (lastReport == TimeSpan.MinValue || clock.Elapsed - lastReport > every))
            {
                lastReport = clock.Elapsed;
                double fraction = stream.Length == 0 ? 1 : Math.Min(1, (double)stream.Position / stream.Length);
                double rate = Rate(imported, clock.Elapsed);
                string eta = fraction is > 0 and < 1 ? TimeSpan.FromSeconds(clock.Elapsed.TotalSeconds * (1 - fraction) / fraction).ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture) : "--:--:--";
                if (progress == ImportProgress.Bar)
                {
                    await output.WriteAsync(BarLine(imported, fraction, rate, eta));
                    await output.FlushAsync(cancellationToken);
                }
                else
                {
                    await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"{imported:N0} documents ({fraction:P0} of the file), {rate:N0} docs/s, ETA {eta}"));
                }
            }
        }
    }

    /// <summary>One redraw of the bar: a carriage return, then a line of fixed width so a shorter one leaves no tail.</summary>
    internal static string BarLine(long imported, double fraction, double rate, string eta)
    {
        const int Width = 30;
        int filled = (int)Math.Round(Math.Clamp(fraction, 0, 1) * Width);
        string line = string.Create(CultureInfo.InvariantCulture,
            $"[{new string('#', filled)}{new string('-', Width - filled)}] {(int)Math.Round(Math.Clamp(fraction, 0, 1) * 100),3}%  {imported:N0} documents  {rate:N0} docs/s  ETA {eta}");
        return "\r" + line.PadRight(90);
    }

    private static double Rate(long count, TimeSpan elapsed) => elapsed.TotalSeconds > 0 ? count / elapsed.TotalSeconds : 0;

    private static string StableIdPrefix(FileInfo file)
    {
        var name = new StringBuilder();
        foreach (char c in Path.GetFileNameWithoutExtension(file.Name))
        {
            name.Append(char.IsControl(c) || c == '/' ? '_' : c);
        }
        return name.Length > 200 ? name.ToString(0, 200) : name.ToString();
    }

    private static long ReadCheckpoint(string path, string collection)
    {
        if (!File.Exists(path))
        {
            return 0;
        }
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        if (json.RootElement.GetProperty("collection").GetString() != collection)
        {
            throw new InvalidDataException($"{path} records an import into '{json.RootElement.GetProperty("collection").GetString()}'; delete it or pass --restart to import into '{collection}'.");
        }
        return json.RootElement.GetProperty("record").GetInt64();
    }

    private static void WriteCheckpoint(string path, string collection, long record)
    {
        // Write then rename, so a crash leaves the old checkpoint or the new one, never half of one.
        string temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(new { collection, record }));
        File.Move(temporary, path, overwrite: true);
    }

    private static IEnumerable<(long Record, DocumentWrite Document)> ReadJsonLines(StreamReader reader, string idPrefix)
    {
        long number = 0;
        while (reader.ReadLine() is { } line)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            DocumentWrite document;
            try
            {
                using var json = JsonDocument.Parse(line);
                var root = json.RootElement;
                document = new DocumentWrite
                {
                    Id = root.TryGetProperty("id", out var id) && id.ValueKind != JsonValueKind.Null ? id.ToString() : $"{idPrefix}-{number}",
                    Text = root.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String ? text.GetString() : null,
                    Metadata = root.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
                        ? metadata.EnumerateObject().ToDictionary(p => p.Name, p => JsonValues.ToObject(p.Value))
                        : null,
                    Vector = root.TryGetProperty("vector", out var vector) && vector.ValueKind == JsonValueKind.Array
                        ? [.. vector.EnumerateArray().Select(v => v.GetSingle())]
                        : null,
                };
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or KeyNotFoundException)
            {
                throw new InvalidDataException($"line {number}: {e.Message}", e);
            }
            yield return (number, document);
        }
    }

    private static IEnumerable<(long Record, DocumentWrite Document)> ReadCsv(StreamReader reader, string idPrefix)
    {
        long lines = 0;
        var header = Csv.ReadRecord(reader, ref lines) ?? throw new InvalidDataException("The CSV file is empty; it needs a header line with at least a 'text' column.");
        int idColumn = header.FindIndex(h => h.Trim().Equals("id", StringComparison.OrdinalIgnoreCase));
        int textColumn = header.FindIndex(h => h.Trim().Equals("text", StringComparison.OrdinalIgnoreCase));
        if (textColumn < 0)
        {
            throw new InvalidDataException("The CSV header needs a 'text' column (and optionally 'id'; other columns become metadata).");
        }
        long number = 0;
        while (Csv.ReadRecord(reader, ref lines) is { } fields)
        {
            number++;
            if (fields.Count == 1 && fields[0].Length == 0)
            {
                continue;
            }
            if (fields.Count != header.Count)
            {
                throw new InvalidDataException($"CSV record {number} (line {lines}): {fields.Count} fields, the header has {header.Count}.");
            }
            var metadata = new Dictionary<string, object?>();
            for (int i = 0; i < header.Count; i++)
            {
                if (i != idColumn && i != textColumn && fields[i].Length > 0)
                {
                    metadata[header[i].Trim()] = JsonValues.FromCsv(fields[i]);
                }
            }
            yield return (number, new DocumentWrite
            {
                Id = idColumn >= 0 && fields[idColumn].Length > 0 ? fields[idColumn] : $"{idPrefix}-{number}",
                Text = fields[textColumn],
                Metadata = metadata.Count > 0 ? metadata : null,
            });
        }
    }
}

/// <summary>Conversions between JSON / CSV values and the SDK's metadata values (string, double, bool, arrays).</summary>
internal static class JsonValues
{
    public static object? ToObject(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Array => value.EnumerateArray().Select(ToObject).ToArray(),
        JsonValueKind.Null => null,
        _ => value.GetRawText(),
    };

    /// <summary>Numbers and booleans become typed values so range filters work on them; everything else stays text.</summary>
    public static object FromCsv(string field) =>
        double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out double number) ? number
        : bool.TryParse(field, out bool flag) ? flag
        : field;
}

/// <summary>How an import shows its progress.</summary>
internal enum ImportProgress
{
    /// <summary>Nothing but the closing summary.</summary>
    None,

    /// <summary>A line at most twice a second: for logs and pipes.</summary>
    Lines,

    /// <summary>One bar redrawn in place: for an interactive terminal.</summary>
    Bar,
}
