using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;

namespace VectorStoreDb.Engine.Storage;

/// <summary>
/// Binary form of a batch of <see cref="StorageRecord"/>s as one write-ahead-log entry:
/// <c>[u32 CRC-32 of the rest][u8 version][i32 count][records]</c>. The CRC is ours, on top of whatever the log
/// engine checks, so a damaged entry is never applied whatever the log underneath is. A batch larger than one log
/// entry may hold (a long document with all its chunk vectors) is written as consecutive fragment entries,
/// <c>[u32 CRC][u8 fragment version][i32 index][i32 count][bytes]</c>, whose bytes joined are the batch entry.
/// </summary>
internal static class RecordCodec
{
    private const byte Version = 1;
    private const byte FragmentVersion = 2;
    private const int FragmentHeader = 4 + 1 + 4 + 4;

    /// <summary>Splits an encoded batch entry into fragment entries of at most <paramref name="maxEntryBytes"/> bytes each.</summary>
    public static List<byte[]> Fragment(byte[] entry, long maxEntryBytes)
    {
        int piece = (int)Math.Min(int.MaxValue, maxEntryBytes - FragmentHeader);
        int count = (entry.Length + piece - 1) / piece;
        var fragments = new List<byte[]>(count);
        for (int index = 0; index < count; index++)
        {
            var part = entry.AsSpan(index * piece, Math.Min(piece, entry.Length - (index * piece)));
            var fragment = new byte[FragmentHeader + part.Length];
            fragment[4] = FragmentVersion;
            BinaryPrimitives.WriteInt32LittleEndian(fragment.AsSpan(5), index);
            BinaryPrimitives.WriteInt32LittleEndian(fragment.AsSpan(9), count);
            part.CopyTo(fragment.AsSpan(FragmentHeader));
            BinaryPrimitives.WriteUInt32LittleEndian(fragment, Crc32.HashToUInt32(fragment.AsSpan(4)));
            fragments.Add(fragment);
        }
        return fragments;
    }

    /// <summary>True when <paramref name="entry"/> is an intact fragment entry; its position, count and bytes are returned.</summary>
    public static bool TryReadFragment(ReadOnlySpan<byte> entry, out int index, out int count, out ReadOnlySpan<byte> bytes)
    {
        index = count = 0;
        bytes = default;
        if (entry.Length <= FragmentHeader || entry[4] != FragmentVersion || Crc32.HashToUInt32(entry[4..]) != BinaryPrimitives.ReadUInt32LittleEndian(entry))
        {
            return false;
        }
        index = BinaryPrimitives.ReadInt32LittleEndian(entry[5..]);
        count = BinaryPrimitives.ReadInt32LittleEndian(entry[9..]);
        bytes = entry[FragmentHeader..];
        return count > 1 && index >= 0 && index < count;
    }

    public static byte[] EncodeBatch(IReadOnlyList<StorageRecord> records, int start, int count)
    {
        var payload = new MemoryStream();
        payload.Write(stackalloc byte[4]);
        var writer = new BinaryWriter(payload, Encoding.UTF8, leaveOpen: true);
        writer.Write(Version);
        writer.Write(count);
        for (int i = start; i < start + count; i++)
        {
            Write(writer, records[i]);
        }
        writer.Flush();
        var bytes = payload.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, Crc32.HashToUInt32(bytes.AsSpan(4)));
        return bytes;
    }

    /// <summary>Decodes an entry, or returns null when its checksum or structure is wrong.</summary>
    public static List<StorageRecord>? TryDecodeBatch(ReadOnlySpan<byte> entry)
    {
        if (entry.Length < 9 || Crc32.HashToUInt32(entry[4..]) != BinaryPrimitives.ReadUInt32LittleEndian(entry))
        {
            return null;
        }
        try
        {
            using var reader = new BinaryReader(new MemoryStream(entry[4..].ToArray()), Encoding.UTF8);
            if (reader.ReadByte() != Version)
            {
                return null;
            }
            int count = reader.ReadInt32();
            var records = new List<StorageRecord>(count);
            for (int i = 0; i < count; i++)
            {
                records.Add(Read(reader));
            }
            return records;
        }
        catch (Exception ex) when (ex is EndOfStreamException or InvalidDataException or System.Text.Json.JsonException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>Rough encoded size, used to split large batches into log entries that fit a log page.</summary>
    public static long EstimateSize(StorageRecord record) =>
        16 + (record.Id.Length * 3L) + (record.Text?.Length * 3L ?? 0) + (record.Vector?.Length * 4L ?? 0) + (record.Metadata is null ? 0 : Metadata.ToUtf8Json(record.Metadata).Length)
        + (record.Chunks?.Sum(c => 12L + (c.Vector.Length * 4L)) ?? 0);

    public static void Write(BinaryWriter writer, StorageRecord record)
    {
        writer.Write((byte)record.Kind);
        writer.Write(record.Id);
        var metadata = record.Metadata is { Count: > 0 } ? record.Metadata : null; // empty is what absent means
        var chunks = record.Chunks is { Count: > 1 } ? record.Chunks : null;
        byte flags = (byte)((record.Text is null ? 0 : 1) | (record.Vector is null ? 0 : 2) | (metadata is null ? 0 : 4) | (chunks is null ? 0 : 8));
        writer.Write(flags);
        if (record.Text is not null)
        {
            writer.Write(record.Text);
        }
        if (record.Vector is not null)
        {
            writer.Write(record.Vector.Length);
            writer.Write(MemoryMarshal.AsBytes(record.Vector.AsSpan()));
        }
        if (metadata is not null)
        {
            var json = Metadata.ToUtf8Json(metadata);
            writer.Write(json.Length);
            writer.Write(json);
        }
        if (chunks is not null)
        {
            // Chunk 0's vector is the record's vector; only the others are written again.
            writer.Write(chunks.Count);
            for (int i = 0; i < chunks.Count; i++)
            {
                writer.Write(chunks[i].Start);
                writer.Write(chunks[i].End);
                if (i > 0)
                {
                    writer.Write(chunks[i].Vector.Length);
                    writer.Write(MemoryMarshal.AsBytes(chunks[i].Vector.AsSpan()));
                }
            }
        }
    }

    public static StorageRecord Read(BinaryReader reader)
    {
        var kind = (RecordKind)reader.ReadByte();
        if (kind is not (RecordKind.Upsert or RecordKind.Delete))
        {
            throw new InvalidDataException($"Unknown record kind {(byte)kind}.");
        }
        string id = reader.ReadString();
        byte flags = reader.ReadByte();
        string? text = (flags & 1) != 0 ? reader.ReadString() : null;
        float[]? vector = (flags & 2) != 0 ? ReadVector(reader) : null;
        IReadOnlyDictionary<string, MetadataValue>? metadata = null;
        if ((flags & 4) != 0)
        {
            int length = reader.ReadInt32();
            if (length < 0)
            {
                throw new InvalidDataException($"Bad metadata length {length}.");
            }
            metadata = Metadata.FromUtf8Json(reader.ReadBytes(length));
        }
        List<ChunkRecord>? chunks = null;
        if ((flags & 8) != 0)
        {
            int count = reader.ReadInt32();
            if (count is < 2 or > 1 << 20 || vector is null || text is null)
            {
                throw new InvalidDataException($"Bad chunk count {count} for '{id}'.");
            }
            chunks = new List<ChunkRecord>(count);
            for (int i = 0; i < count; i++)
            {
                int start = reader.ReadInt32();
                int end = reader.ReadInt32();
                if (start < 0 || end < start || end > text.Length)
                {
                    throw new InvalidDataException($"Bad chunk range [{start}, {end}) for '{id}'.");
                }
                chunks.Add(new ChunkRecord(start, end, i == 0 ? vector : ReadVector(reader)));
            }
        }
        return new StorageRecord(kind, id, text, vector, metadata) { Chunks = chunks };
    }

    private static float[] ReadVector(BinaryReader reader)
    {
        int length = reader.ReadInt32();
        if (length is < 0 or > 1 << 20)
        {
            throw new InvalidDataException($"Bad vector length {length}.");
        }
        var vector = new float[length];
        reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(vector.AsSpan()));
        return vector;
    }
}
