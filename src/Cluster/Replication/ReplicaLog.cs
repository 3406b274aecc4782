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
/// with the newest half; a peer further behind than that catches up from a snapshot. Beside it, the base file keeps
/// the number and epoch of the operation just before the first one held, and the promise file the highest sequencer
/// epoch this replica has promised to follow (both written whole, then renamed, then flushed).
/// </summary>
internal sealed class ReplicaLog : IDisposable
{
    private const int HeaderBytes = 8;
    private readonly string _path;
    private readonly string _basePath;
    private readonly string _promisePath;
    private readonly int _retain;
    private readonly Serializer _serializer;
    private readonly List<ReplicaOperation> _entries = [];
    private readonly Lock _lock = new();
    private FileStream _file;
    private long _baseSequence;
    private long _baseEpoch;
    private long _promised;

    public ReplicaLog(string folder, string name, int retain, Serializer serializer)
    {
        _path = Path.Combine(folder, name + ".log");
        _basePath = Path.Combine(folder, name + ".base");
        _retain = retain;
        _serializer = serializer;
        _promisePath = Path.Combine(folder, name + ".promise");
        if (File.Exists(_basePath))
        {
            // "sequence" (written before epochs existed) or "sequence epoch".
            var parts = File.ReadAllText(_basePath).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            _baseSequence = long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
            _baseEpoch = parts.Length > 1 ? long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) : 0;
        }
        _promised = File.Exists(_promisePath) ? long.Parse(File.ReadAllText(_promisePath), System.Globalization.CultureInfo.InvariantCulture) : 0;
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

    /// <summary>Epoch of the last operation logged (of the base when the log is empty).</summary>
    public long LastEpoch
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count > 0 ? _entries[^1].Epoch : _baseEpoch;
            }
        }
    }

    /// <summary>The highest sequencer epoch promised; operations of older epochs are refused.</summary>
    public long Promised => Interlocked.Read(ref _promised);

    /// <summary>Promises <paramref name="epoch"/> durably (before the promise is answered).</summary>
    public void Promise(long epoch)
    {
        lock (_lock)
        {
            WriteDurably(_promisePath, epoch.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Interlocked.Exchange(ref _promised, epoch);
        }
    }

    /// <summary>
    /// The epoch of the operation numbered <paramref name="sequence"/>, when this log can tell: it holds the operation,
    /// or the number is the base's (0 is the empty history's); null when it is older than that or not logged yet.
    /// </summary>
    public long? EpochAt(long sequence)
    {
        lock (_lock)
        {
            if (sequence == _baseSequence)
            {
                return _baseEpoch;
            }
            long first = _entries.Count > 0 ? _entries[0].Sequence : _baseSequence + 1;
            if (sequence < first || sequence - first >= _entries.Count)
            {
                return null;
            }
            return _entries[(int)(sequence - first)].Epoch;
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

    /// <summary>Starts over at <paramref name="sequence"/> of <paramref name="epoch"/> (after a snapshot restore): nothing before it can be read here any more.</summary>
    public void Reset(long sequence, long epoch)
    {
        lock (_lock)
        {
            WriteBase(sequence, epoch);
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
            File.Delete(_promisePath);
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
        WriteBase(_entries[drop - 1].Sequence, _entries[drop - 1].Epoch);
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

    private void WriteBase(long sequence, long epoch)
    {
        _baseSequence = sequence;
        _baseEpoch = epoch;
        WriteDurably(_basePath, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{sequence} {epoch}"));
    }

    private static void WriteDurably(string path, string text)
    {
        string temp = path + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            file.Write(System.Text.Encoding.UTF8.GetBytes(text));
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }
}
