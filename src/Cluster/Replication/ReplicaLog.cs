using System.Buffers.Binary;
using System.IO.Hashing;
using Orleans.Serialization;
using VectorStoreDb.Cluster.Wire;

namespace VectorStoreDb.Cluster.Replication;

/// <summary>
/// A replica's bounded operation log: an append-only file of checksummed records
/// (<c>[length u32][crc32 u32][operation]</c>) plus the same tail in memory for peers that catch up. An operation is
/// logged (and flushed) before the engine applies it, so a crash between the two is repaired by applying the last
/// entry again on restart (upserts and deletes are idempotent). When the log holds twice its budget it is rewritten
/// with the newest half; a peer further behind than that catches up from a snapshot.
/// </summary>
internal sealed class ReplicaLog : IDisposable
{
    private const int HeaderBytes = 8;
    private readonly string _path;
    private readonly string _basePath;
    private readonly int _retain;
    private readonly Serializer _serializer;
    private readonly List<ReplicaOperation> _entries = [];
    private readonly Lock _lock = new();
    private FileStream _file;
    private long _baseSequence;

    public ReplicaLog(string folder, string name, int retain, Serializer serializer)
    {
        _path = Path.Combine(folder, name + ".log");
        _basePath = Path.Combine(folder, name + ".base");
        _retain = retain;
        _serializer = serializer;
        _baseSequence = File.Exists(_basePath) ? long.Parse(File.ReadAllText(_basePath), System.Globalization.CultureInfo.InvariantCulture) : 0;
        _file = new FileStream(_path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        Load();
    }

    /// <summary>Highest sequence number logged (0 when nothing ever was).</summary>
    public long LastSequence
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count > 0 ? _entries[^1].Sequence : _baseSequence;
            }
        }
    }

    /// <summary>Lowest sequence number a peer can still read; below it a peer needs a snapshot.</summary>
    public long FirstSequence
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count > 0 ? _entries[0].Sequence : _baseSequence + 1;
            }
        }
    }

    public ReplicaOperation? Last
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count > 0 ? _entries[^1] : null;
            }
        }
    }

    public void Append(ReplicaOperation operation)
    {
        byte[] payload = _serializer.SerializeToArray(operation);
        var record = new byte[HeaderBytes + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(4), Crc32.HashToUInt32(payload));
        payload.CopyTo(record, HeaderBytes);
        lock (_lock)
        {
            _file.Write(record);
            _file.Flush(flushToDisk: true);
            _entries.Add(operation);
            if (_entries.Count >= 2 * _retain)
            {
                Compact();
            }
        }
    }

    /// <summary>Operations after <paramref name="after"/> (up to <paramref name="max"/>), or null when the log no longer reaches back that far.</summary>
    public ReplicaOperation[]? ReadAfter(long after, int max)
    {
        lock (_lock)
        {
            long first = _entries.Count > 0 ? _entries[0].Sequence : _baseSequence + 1;
            if (after + 1 < first)
            {
                return null;
            }
            int start = (int)(after + 1 - first);
            if (start >= _entries.Count)
            {
                return [];
            }
            return [.. _entries.Skip(start).Take(max)];
        }
    }

    /// <summary>Starts over at <paramref name="sequence"/> (after a snapshot restore): nothing before it can be read here any more.</summary>
    public void Reset(long sequence)
    {
        lock (_lock)
        {
            WriteBase(sequence);
            _entries.Clear();
            _file.SetLength(0);
            _file.Flush(flushToDisk: true);
        }
    }

    /// <summary>Removes the files (the replica was dropped).</summary>
    public void Delete()
    {
        lock (_lock)
        {
            _file.Dispose();
            File.Delete(_path);
            File.Delete(_basePath);
            _entries.Clear();
        }
    }

    public void Dispose() => _file.Dispose();

    private void Load()
    {
        long good = 0;
        var header = new byte[HeaderBytes];
        _file.Position = 0;
        while (true)
        {
            if (_file.Read(header) != HeaderBytes)
            {
                break;
            }
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(header);
            uint crc = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4));
            if (length <= 0 || length > _file.Length - _file.Position)
            {
                break;
            }
            var payload = new byte[length];
            _file.ReadExactly(payload);
            if (Crc32.HashToUInt32(payload) != crc)
            {
                break;
            }
            _entries.Add(_serializer.Deserialize<ReplicaOperation>(payload) ?? throw new InvalidDataException($"{_path}: an empty record."));
            good = _file.Position;
        }
        // A torn tail (the process died mid-append) was never acknowledged by this replica: cut it off.
        if (good != _file.Length)
        {
            _file.SetLength(good);
            _file.Flush(flushToDisk: true);
        }
        _file.Position = good;
    }

    private void Compact()
    {
        int drop = _entries.Count - _retain;
        WriteBase(_entries[drop - 1].Sequence);
        _entries.RemoveRange(0, drop);
        string temp = _path + ".tmp";
        Span<byte> header = stackalloc byte[HeaderBytes];
        using (var rewritten = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            foreach (var operation in _entries)
            {
                byte[] payload = _serializer.SerializeToArray(operation);
                BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)payload.Length);
                BinaryPrimitives.WriteUInt32LittleEndian(header[4..], Crc32.HashToUInt32(payload));
                rewritten.Write(header);
                rewritten.Write(payload);
            }
            rewritten.Flush(flushToDisk: true);
        }
        _file.Dispose();
        File.Move(temp, _path, overwrite: true);
        _file = new FileStream(_path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        _file.Seek(0, SeekOrigin.End);
    }

    private void WriteBase(long sequence)
    {
        _baseSequence = sequence;
        string temp = _basePath + ".tmp";
        File.WriteAllText(temp, sequence.ToString(System.Globalization.CultureInfo.InvariantCulture));
        File.Move(temp, _basePath, overwrite: true);
    }
}
