using System.Text;
using System.Text.Json;

namespace VectorStoreDb.Engine.Storage.Format;

/// <summary>
/// The byte layout of a snapshot file (inside the checksummed framing; docs/contributors/on-disk-format.md draws
/// it): header (magic, version, settings JSON, shard count, fitted projection), one shard state per shard in
/// <see cref="CheckpointFormat"/>'s layout, end marker. A snapshot is read and checked whole, to the last byte of
/// the file, before a restore creates anything.
/// </summary>
internal static class SnapshotFormat
{
    public const int Magic = 0x4E535356; // "VSSN"
    // Version 2 adds the fitted projection (a PCA's matrix) after the shard count; version 1 snapshots still restore.
    public const int Version = 2;
    public const int EndMarker = 0x444E4553;
    private const int MaxProjectionBytes = 1 << 30;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static void WriteHeader(Stream destination, CollectionSettings settings, byte[] projection)
    {
        using var writer = new BinaryWriter(destination, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(Version);
        writer.Write(JsonSerializer.Serialize(settings, Json));
        writer.Write(settings.Shards);
        writer.Write(projection.Length);
        writer.Write(projection);
    }

    public static void WriteEnd(Stream destination)
    {
        using var writer = new BinaryWriter(destination, Encoding.UTF8, leaveOpen: true);
        writer.Write(EndMarker);
    }

    /// <summary>
    /// Reads a whole snapshot file: checksums of every frame, the header, every shard state, the end marker, and that
    /// no byte follows. Throws <see cref="InvalidDataException"/> naming what is wrong (a version, a shard, a
    /// section, an offset); nothing it read outlives a failure.
    /// </summary>
    public static SnapshotContent Read(Stream file)
    {
        var reader = new ChecksummedReader(file, "snapshot");
        CollectionSettings settings;
        byte[] projection = [];
        using (var binary = new BinaryReader(reader, Encoding.UTF8, leaveOpen: true))
        {
            try
            {
                int magic = binary.ReadInt32();
                int version = binary.ReadInt32();
                if (magic != Magic)
                {
                    throw new InvalidDataException("not a snapshot file (its first bytes are not the snapshot magic number).");
                }
                if (version is not (1 or Version))
                {
                    throw new InvalidDataException($"snapshot format version {version} is not supported (this server reads versions 1 and {Version}).");
                }
                settings = JsonSerializer.Deserialize<CollectionSettings>(binary.ReadString(), Json) ?? throw new InvalidDataException("the settings are empty.");
                int shards = binary.ReadInt32();
                if (shards != settings.Shards || shards < 1)
                {
                    throw new InvalidDataException($"the snapshot holds {shards} shards but its settings say {settings.Shards}.");
                }
                if (version >= 2)
                {
                    int length = binary.ReadInt32();
                    if (length < 0 || length > MaxProjectionBytes)
                    {
                        throw new InvalidDataException($"bad projection length {length}.");
                    }
                    projection = binary.ReadBytes(length);
                    if (projection.Length != length)
                    {
                        throw new EndOfStreamException("the projection is cut short.");
                    }
                }
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"the settings are not valid JSON: {ex.Message}", ex);
            }
            catch (EndOfStreamException)
            {
                throw new InvalidDataException("the header is cut short.");
            }
        }
        var content = new SnapshotContent(settings, projection);
        try
        {
            for (int i = 0; i < settings.Shards; i++)
            {
                try
                {
                    content.Shards.Add(CheckpointFormat.Read(reader, settings));
                }
                catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException)
                {
                    throw new InvalidDataException($"shard {i} of {settings.Shards}: {ex.Message}", ex);
                }
            }
            using (var binary = new BinaryReader(reader, Encoding.UTF8, leaveOpen: true))
            {
                try
                {
                    if (binary.ReadInt32() != EndMarker)
                    {
                        throw new InvalidDataException($"the end marker is missing after the {settings.Shards} shard sections (a shard section is repeated or the file was put together from parts).");
                    }
                }
                catch (EndOfStreamException)
                {
                    throw new InvalidDataException($"the file ends after the {settings.Shards} shard sections, without the end marker.");
                }
            }
            reader.VerifyEndOfFile();
            return content;
        }
        catch
        {
            content.Dispose();
            throw;
        }
    }
}
