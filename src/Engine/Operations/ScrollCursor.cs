using System.Buffers.Text;
using System.Text;

namespace VectorStoreDb.Engine.Operations;

/// <summary>
/// The opaque <c>after</c> cursor of a scroll: base64url of a small binary record holding the position of the last
/// document of the previous page, and for an ordered scroll the field and direction it belongs to, so a cursor is
/// never silently applied to another order.
/// </summary>
internal static class ScrollCursor
{
    private const byte IdOrder = 1;
    private const byte FieldOrder = 2;

    public static string ForId(string id)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(IdOrder);
            writer.Write(id);
        }
        return Base64Url.EncodeToString(buffer.ToArray());
    }

    public static string ForKey(ScrollOrder order, ScrollKey key)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(FieldOrder);
            writer.Write(order.Field);
            writer.Write(order.Descending);
            writer.Write((byte)key.Rank);
            writer.Write(key.Number);
            writer.Write(key.Text ?? "");
            writer.Write(key.Id);
        }
        return Base64Url.EncodeToString(buffer.ToArray());
    }

    /// <summary>The id after which an id-ordered scroll resumes.</summary>
    public static string ReadId(string cursor)
    {
        using var reader = Open(cursor);
        try
        {
            if (reader.ReadByte() != IdOrder)
            {
                throw Refused("it belongs to a scroll ordered by a field; pass the same orderBy as the first page.");
            }
            return reader.ReadString();
        }
        catch (Exception ex) when (ex is EndOfStreamException or IOException or FormatException)
        {
            throw Refused("it is damaged.");
        }
    }

    /// <summary>The position after which a field-ordered scroll resumes.</summary>
    public static ScrollKey ReadKey(string cursor, ScrollOrder order)
    {
        using var reader = Open(cursor);
        try
        {
            if (reader.ReadByte() != FieldOrder || reader.ReadString() != order.Field || reader.ReadBoolean() != order.Descending)
            {
                throw Refused("it belongs to a scroll with another order; pass the same orderBy as the first page.");
            }
            int rank = reader.ReadByte();
            double number = reader.ReadDouble();
            string text = reader.ReadString();
            string id = reader.ReadString();
            if (rank > ScrollKey.MissingRank)
            {
                throw Refused("it is damaged.");
            }
            return new ScrollKey(rank, number, rank == ScrollKey.StringRank ? text : null, id);
        }
        catch (Exception ex) when (ex is EndOfStreamException or IOException or FormatException)
        {
            throw Refused("it is damaged.");
        }
    }

    private static BinaryReader Open(string cursor)
    {
        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(cursor);
        }
        catch (FormatException)
        {
            throw Refused("it is not a cursor this store returned.");
        }
        return new BinaryReader(new MemoryStream(bytes, writable: false), Encoding.UTF8);
    }

    private static VectorStoreException Refused(string why) => VectorStoreException.Invalid("after", $"the cursor cannot be used: {why}");
}
