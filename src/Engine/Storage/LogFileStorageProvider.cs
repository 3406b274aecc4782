using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace VectorStore.Engine.Storage;

/// <summary>
/// Collections as folders under <c>{DataPath}/collections</c>: a <c>collection.json</c> and one append-only
/// log per shard. Every record carries its length and a CRC-32, and an append returns only after fsync,
/// so an acknowledged write survives a crash; a torn tail left by a crash is cut off at the last whole record.
/// </summary>
public sealed class LogFileStorageProvider : IStorageProvider
{
    private const string SettingsFile = "collection.json";
    private const string PendingSuffix = ".pending-";
    private const string DeletedSuffix = ".deleted-";

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private readonly string _root;
    private readonly ILogger _logger;

    public LogFileStorageProvider(string dataPath, ILogger<LogFileStorageProvider> logger)
    {
        _root = Path.Combine(Path.GetFullPath(dataPath), "collections");
        _logger = logger;
        Directory.CreateDirectory(_root);
        RemoveLeftovers();
    }

    public IReadOnlyList<string> ListCollections() =>
        [.. Directory.EnumerateDirectories(_root)
            .Select(Path.GetFileName)
            .Where(name => name is not null && !name.Contains(PendingSuffix, StringComparison.Ordinal) && !name.Contains(DeletedSuffix, StringComparison.Ordinal))
            .Where(name => File.Exists(Path.Combine(_root, name!, SettingsFile)))
            .Order(StringComparer.Ordinal)!];

    public CollectionSettings LoadSettings(string collection)
    {
        string path = Path.Combine(_root, collection, SettingsFile);
        return JsonSerializer.Deserialize<CollectionSettings>(File.ReadAllBytes(path), JsonOptions)
            ?? throw new InvalidDataException($"{path} is empty.");
    }

    public void CreateCollection(CollectionSettings settings)
    {
        // Build the folder under a temporary name and rename it into place, so a crash never leaves a
        // half-created collection that start-up would trip over.
        string final = Path.Combine(_root, settings.Name);
        string pending = final + PendingSuffix + Guid.NewGuid().ToString("N");
        Directory.CreateDirectory(pending);
        using (var file = new FileStream(Path.Combine(pending, SettingsFile), FileMode.CreateNew, FileAccess.Write))
        {
            JsonSerializer.Serialize(file, settings, JsonOptions);
            file.Flush(flushToDisk: true);
        }
        Directory.Move(pending, final);
    }

    public void DeleteCollection(string collection)
    {
        string folder = Path.Combine(_root, collection);
        if (!Directory.Exists(folder))
        {
            return;
        }
        string doomed = folder + DeletedSuffix + Guid.NewGuid().ToString("N");
        Directory.Move(folder, doomed);
        Directory.Delete(doomed, recursive: true);
    }

    public IShardStore OpenShard(string collection, int shard) =>
        new LogFileShardStore(Path.Combine(_root, collection, $"shard-{shard}.log"), _logger);

    public void Dispose()
    {
    }

    private void RemoveLeftovers()
    {
        foreach (var folder in Directory.EnumerateDirectories(_root))
        {
            string name = Path.GetFileName(folder);
            if (name.Contains(PendingSuffix, StringComparison.Ordinal) || name.Contains(DeletedSuffix, StringComparison.Ordinal))
            {
                _logger.LogInformation("Removing leftover folder {Folder} from an interrupted create or delete", folder);
                Directory.Delete(folder, recursive: true);
            }
        }
    }
}

/// <summary>
/// One shard's log file: <c>[u32 payload length][u32 CRC-32][payload]</c> records. Appends are
/// serialised and each batch is fsync'd once before its task completes.
/// </summary>
internal sealed class LogFileShardStore : IShardStore
{
    private const int HeaderBytes = 8;
    private const int MaxRecordBytes = 256 * 1024 * 1024;

    private readonly string _path;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _appendLock = new(1, 1);
    private FileStream? _file;

    public LogFileShardStore(string path, ILogger logger)
    {
        _path = path;
        _logger = logger;
    }

    public IEnumerable<StorageRecord> Replay()
    {
        if (!File.Exists(_path))
        {
            yield break;
        }
        long validLength = 0;
        using (var file = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16))
        {
            var header = new byte[HeaderBytes];
            byte[] payload = [];
            while (true)
            {
                int read = file.ReadAtLeast(header, HeaderBytes, throwOnEndOfStream: false);
                if (read == 0)
                {
                    break;
                }
                uint length = BinaryPrimitives.ReadUInt32LittleEndian(header);
                uint crc = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4));
                if (read < HeaderBytes || length > MaxRecordBytes || file.Length - file.Position < length)
                {
                    break; // torn tail: the crash hit mid-record
                }
                if (payload.Length < length)
                {
                    payload = new byte[Math.Max(length, payload.Length * 2)];
                }
                file.ReadExactly(payload, 0, (int)length);
                if (Crc32Of(payload.AsSpan(0, (int)length)) != crc)
                {
                    break;
                }
                validLength = file.Position;
                yield return Decode(payload.AsSpan(0, (int)length));
            }
        }
        long actual = new FileInfo(_path).Length;
        if (actual > validLength)
        {
            _logger.LogWarning("Log {Path} ends in an incomplete record (a crash during a write that was never acknowledged); cutting {Bytes} bytes at offset {Offset}", _path, actual - validLength, validLength);
            using var file = new FileStream(_path, FileMode.Open, FileAccess.Write);
            file.SetLength(validLength);
            file.Flush(flushToDisk: true);
        }
    }

    public async Task AppendAsync(IReadOnlyList<StorageRecord> records, CancellationToken cancellationToken = default)
    {
        var buffer = new MemoryStream();
        foreach (var record in records)
        {
            Encode(record, buffer);
        }
        await _appendLock.WaitAsync(cancellationToken);
        try
        {
            _file ??= new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.Read, 1 << 16);
            // Once writing starts it runs to the end: a half-written batch would be acknowledged to no one.
            await _file.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), CancellationToken.None);
            _file.Flush(flushToDisk: true);
        }
        finally
        {
            _appendLock.Release();
        }
    }

    public void Dispose()
    {
        _file?.Dispose();
        _appendLock.Dispose();
    }

    private static void Encode(StorageRecord record, MemoryStream output)
    {
        var payload = new MemoryStream();
        var writer = new BinaryWriter(payload, Encoding.UTF8);
        writer.Write((byte)record.Kind);
        writer.Write(record.Id);
        byte flags = (byte)((record.Text is null ? 0 : 1) | (record.Vector is null ? 0 : 2) | (record.Metadata is null ? 0 : 4));
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
        if (record.Metadata is not null)
        {
            var json = Metadata.ToUtf8Json(record.Metadata);
            writer.Write(json.Length);
            writer.Write(json);
        }
        writer.Flush();
        var bytes = payload.GetBuffer().AsSpan(0, (int)payload.Length);
        Span<byte> header = stackalloc byte[HeaderBytes];
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)bytes.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], Crc32Of(bytes));
        output.Write(header);
        output.Write(bytes);
    }

    private static StorageRecord Decode(ReadOnlySpan<byte> payload)
    {
        var reader = new BinaryReader(new MemoryStream(payload.ToArray()), Encoding.UTF8);
        var kind = (RecordKind)reader.ReadByte();
        string id = reader.ReadString();
        byte flags = reader.ReadByte();
        string? text = (flags & 1) != 0 ? reader.ReadString() : null;
        float[]? vector = null;
        if ((flags & 2) != 0)
        {
            vector = new float[reader.ReadInt32()];
            reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(vector.AsSpan()));
        }
        IReadOnlyDictionary<string, MetadataValue>? metadata = null;
        if ((flags & 4) != 0)
        {
            metadata = Metadata.FromUtf8Json(reader.ReadBytes(reader.ReadInt32()));
        }
        return new StorageRecord(kind, id, text, vector, metadata);
    }

    private static uint Crc32Of(ReadOnlySpan<byte> data) => Crc32.HashToUInt32(data);
}
