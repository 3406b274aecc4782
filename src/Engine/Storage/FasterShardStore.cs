using System.Buffers.Binary;
using FASTER.core;
using Microsoft.Extensions.Logging;

namespace VectorStoreDb.Engine.Storage;

/// <summary>
/// One shard's durable state: a <see cref="FasterLog"/> write-ahead log and checkpoint files of the shard's whole
/// state. A single committer task flushes the log, so every writer waiting when a flush starts is covered by it
/// (group commit) and throughput does not fall to one fsync per document. After a checkpoint the log is
/// truncated to the older of the two checkpoints kept, so recovery can still fall back to it.
/// </summary>
internal sealed class FasterShardStore : IShardStore
{
    private const int CheckpointMagic = 0x4B435356; // "VSCK"
    private const int CheckpointVersion = 1;
    private const int CheckpointsKept = 2;
    private const int PageSizeBits = 20;
    private const long MaxEntryBytes = (1L << PageSizeBits) / 2;
    /// <summary>Largest record written (as fragments); far above what the request limits let through.</summary>
    private const long MaxRecordBytes = 256L << 20;
    /// <summary>FasterLog's first address: a log that starts later has been truncated.</summary>
    private const long FirstLogAddress = 64;

    private readonly string _folder;
    private readonly string _checkpoints;
    private readonly DurabilityOptions _durability;
    private readonly ILogger _logger;
    private readonly IDevice _device;
    private readonly FasterLog _log;
    private readonly SemaphoreSlim _commitSignal = new(0, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _committer;
    private readonly Lock _checkpointLock = new();
    private int _commitRequested;
    private long _nextCheckpointSequence;
    private long _checkpointPosition;
    private bool _tornTail;
    private bool _disposed;

    public FasterShardStore(string folder, DurabilityOptions durability, ILogger<FasterShardStore> logger)
    {
        _folder = folder;
        _checkpoints = Path.Combine(folder, "checkpoints");
        _durability = durability;
        _logger = logger;
        string wal = Path.Combine(folder, "wal");
        Directory.CreateDirectory(wal);
        Directory.CreateDirectory(_checkpoints);
        foreach (var temp in Directory.EnumerateFiles(_checkpoints, "*" + FasterStorageProvider.TempSuffix))
        {
            _logger.LogInformation("Removing unfinished checkpoint {File}", temp);
            File.Delete(temp);
        }
        _device = Devices.CreateLogDevice(Path.Combine(wal, "log"), preallocateFile: false, deleteOnClose: false);
        try
        {
            _log = new FasterLog(new FasterLogSettings
            {
                LogDevice = _device,
                LogCommitDir = Path.Combine(wal, "commits"),
                PageSizeBits = PageSizeBits,
                MemorySizeBits = PageSizeBits + 1,
                SegmentSizeBits = PageSizeBits + int.Log2(durability.LogSegmentSizeMb),
                LogChecksum = LogChecksumType.PerEntry,
                TryRecoverLatest = true,
                RemoveOutdatedCommits = true,
            });
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _device.Dispose();
            throw new InvalidDataException($"{wal}: the write-ahead log cannot be opened: {ex.Message}", ex);
        }
        _committer = Task.Run(CommitLoopAsync);
    }

    public long Position => _log.TailAddress;

    public long CheckpointPosition => Volatile.Read(ref _checkpointPosition);

    public ShardRecoveryInfo Recover(Action<Stream> loadCheckpoint, Action<StorageRecord> apply, Action resetState)
    {
        long from = -1;
        var files = CheckpointFiles();
        _nextCheckpointSequence = files.Count == 0 ? 1 : files[^1].Sequence + 1;
        for (int i = files.Count - 1; i >= 0 && from < 0; i--)
        {
            try
            {
                from = LoadCheckpoint(files[i].Path, loadCheckpoint);
                if (from < _log.BeginAddress)
                {
                    throw new InvalidDataException($"{files[i].Path}: covers the log up to {from}, but the log now starts at {_log.BeginAddress}.");
                }
            }
            catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or IOException)
            {
                from = -1;
                resetState();
                _logger.LogWarning("Checkpoint {File} is unusable ({Reason}); falling back to an older checkpoint or the log", files[i].Path, ex.Message);
            }
        }
        bool fromCheckpoint = from >= 0;
        if (!fromCheckpoint)
        {
            if (_log.BeginAddress > FirstLogAddress)
            {
                throw new InvalidDataException($"{_checkpoints}: no intact checkpoint, and the write-ahead log was truncated at {_log.BeginAddress} after an earlier checkpoint; the shard cannot be rebuilt (restore it from a snapshot).");
            }
            from = _log.BeginAddress;
        }
        _checkpointPosition = from;
        long replayed = 0;
        long end = _log.CommittedUntilAddress;
        long reached = from;
        List<byte[]>? fragments = null;
        int fragmentCount = 0;
        using (var iterator = _log.Scan(from, end))
        {
            while (true)
            {
                byte[] entry;
                int length;
                long address;
                long next;
                try
                {
                    if (!iterator.GetNext(out entry, out length, out address, out next))
                    {
                        break;
                    }
                }
                catch (Exception ex) when (ex is FasterException or IOException or InvalidOperationException)
                {
                    _tornTail = true;
                    _logger.LogWarning("Write-ahead log {Folder} ends in a damaged entry after address {Address} ({Reason}); recovering up to the last whole entry", _folder, reached, ex.Message);
                    break;
                }
                List<StorageRecord>? records;
                if (RecordCodec.TryReadFragment(entry.AsSpan(0, length), out int index, out int count, out var bytes))
                {
                    // A fragment out of sequence is the tail of a set a crash cut short: that record was never acknowledged.
                    if (index != (fragments?.Count ?? 0) || (fragments is not null && count != fragmentCount))
                    {
                        _tornTail = true;
                        _logger.LogWarning("Write-ahead log {Folder} holds an incomplete large record before address {Address}; recovering up to the last whole entry", _folder, address);
                        break;
                    }
                    (fragments ??= []).Add(bytes.ToArray());
                    fragmentCount = count;
                    if (index < count - 1)
                    {
                        continue;
                    }
                    records = RecordCodec.TryDecodeBatch(Concatenate(fragments));
                    fragments = null;
                }
                else
                {
                    records = fragments is null ? RecordCodec.TryDecodeBatch(entry.AsSpan(0, length)) : null;
                }
                if (records is null)
                {
                    _tornTail = true;
                    _logger.LogWarning("Write-ahead log {Folder} ends in an incomplete entry at address {Address} ({Bytes} bytes to the end are discarded); recovering up to the last whole entry", _folder, address, end - address);
                    break;
                }
                foreach (var record in records)
                {
                    apply(record);
                }
                replayed += records.Count;
                reached = next;
            }
        }
        if (fragments is not null && !_tornTail)
        {
            _tornTail = true;
            _logger.LogWarning("Write-ahead log {Folder} ends in an incomplete large record after address {Address}; it was never acknowledged and is discarded", _folder, reached);
        }
        return new ShardRecoveryInfo(fromCheckpoint, replayed, _tornTail);
    }

    private static byte[] Concatenate(List<byte[]> parts)
    {
        var whole = new byte[parts.Sum(p => p.Length)];
        int offset = 0;
        foreach (var part in parts)
        {
            part.CopyTo(whole, offset);
            offset += part.Length;
        }
        return whole;
    }

    public long Append(IReadOnlyList<StorageRecord> records)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        // One log entry per batch when it fits a log page, so a batch is recovered whole or not at all.
        int start = 0;
        long size = 0;
        for (int i = 0; i < records.Count; i++)
        {
            long recordSize = RecordCodec.EstimateSize(records[i]);
            if (recordSize > MaxRecordBytes)
            {
                throw new VectorStoreException(ErrorCode.LimitExceeded, $"documents: the document '{records[i].Id}' takes about {recordSize} bytes; one document may take at most {MaxRecordBytes}.", "documents");
            }
            if (recordSize > MaxEntryBytes)
            {
                // Too big for one log entry: it goes alone, as consecutive fragments (appended under the shard's
                // write lock, so no other entry falls between them); recovery applies it only when all arrived.
                if (i > start)
                {
                    _log.Enqueue(RecordCodec.EncodeBatch(records, start, i - start));
                }
                foreach (var fragment in RecordCodec.Fragment(RecordCodec.EncodeBatch(records, i, 1), MaxEntryBytes))
                {
                    _log.Enqueue(fragment);
                }
                start = i + 1;
                size = 0;
                continue;
            }
            if (size + recordSize > MaxEntryBytes && i > start)
            {
                _log.Enqueue(RecordCodec.EncodeBatch(records, start, i - start));
                start = i;
                size = 0;
            }
            size += recordSize;
        }
        if (start < records.Count)
        {
            _log.Enqueue(RecordCodec.EncodeBatch(records, start, records.Count - start));
        }
        return _log.TailAddress;
    }

    public ValueTask WaitForDurableAsync(long position, CancellationToken cancellationToken = default)
    {
        if (_durability.Mode == DurabilityMode.Async || _log.CommittedUntilAddress >= position)
        {
            return ValueTask.CompletedTask;
        }
        RequestCommit();
        return _log.WaitForCommitAsync(position, token: cancellationToken);
    }

    public IPendingFile BeginCheckpoint(long position)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long sequence = Interlocked.Increment(ref _nextCheckpointSequence) - 1;
        Span<byte> header = stackalloc byte[24];
        BinaryPrimitives.WriteInt32LittleEndian(header, CheckpointMagic);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], CheckpointVersion);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], sequence);
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], position);
        string final = Path.Combine(_checkpoints, $"ckpt-{sequence:D12}.vsc");
        return new CheckpointFile(this, final, header, position);
    }

    private void OnCheckpointCommitted(long position)
    {
        lock (_checkpointLock)
        {
            Volatile.Write(ref _checkpointPosition, Math.Max(_checkpointPosition, position));
            var files = CheckpointFiles();
            // After a damaged log tail the older checkpoints would replay into the damage: keep only the new one.
            int keep = _tornTail ? 1 : CheckpointsKept;
            _tornTail = false;
            if (files.Count > keep)
            {
                foreach (var old in files.Take(files.Count - keep))
                {
                    File.Delete(old.Path);
                }
            }
            long truncateTo = long.MaxValue;
            foreach (var kept in files.Skip(Math.Max(0, files.Count - keep)))
            {
                truncateTo = Math.Min(truncateTo, ReadPosition(kept.Path));
            }
            if (truncateTo != long.MaxValue && truncateTo > _log.BeginAddress)
            {
                _log.TruncateUntil(truncateTo);
                // The new begin address is persisted by a commit; old segment files are then deleted.
                _log.Commit(spinWait: true);
            }
        }
    }

    private void EnsureDurable(long position)
    {
        if (_log.CommittedUntilAddress < position)
        {
            _log.Commit(spinWait: true);
            _log.WaitForCommit(position);
        }
    }

    private long LoadCheckpoint(string path, Action<Stream> load)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using var reader = new ChecksummedReader(file, path);
        var position = ReadHeader(reader, path);
        load(reader);
        reader.VerifyEnd();
        return position;
    }

    private static long ReadPosition(string path)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096);
            using var reader = new ChecksummedReader(file, path);
            return ReadHeader(reader, path);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException)
        {
            return 0; // a damaged checkpoint covers nothing: keep all the log it might have needed
        }
    }

    private static long ReadHeader(Stream reader, string path)
    {
        Span<byte> header = stackalloc byte[24];
        reader.ReadExactly(header);
        if (BinaryPrimitives.ReadInt32LittleEndian(header) != CheckpointMagic || BinaryPrimitives.ReadInt32LittleEndian(header[4..]) != CheckpointVersion)
        {
            throw new InvalidDataException($"{path}: not a checkpoint of a supported version (offset 0).");
        }
        return BinaryPrimitives.ReadInt64LittleEndian(header[16..]);
    }

    private List<(long Sequence, string Path)> CheckpointFiles()
    {
        var found = new List<(long, string)>();
        foreach (var path in Directory.EnumerateFiles(_checkpoints, "ckpt-*.vsc"))
        {
            string name = Path.GetFileNameWithoutExtension(path);
            if (long.TryParse(name.AsSpan(5), out long sequence))
            {
                found.Add((sequence, path));
            }
        }
        found.Sort();
        return found;
    }

    private void RequestCommit()
    {
        if (Interlocked.Exchange(ref _commitRequested, 1) == 0)
        {
            try
            {
                _commitSignal.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already signalled.
            }
        }
    }

    private async Task CommitLoopAsync()
    {
        var token = _stopping.Token;
        using var timer = _durability.Mode == DurabilityMode.Async ? new PeriodicTimer(TimeSpan.FromMilliseconds(_durability.CommitIntervalMs)) : null;
        try
        {
            while (!token.IsCancellationRequested)
            {
                if (timer is not null)
                {
                    await timer.WaitForNextTickAsync(token);
                }
                else
                {
                    await _commitSignal.WaitAsync(token);
                }
                // Writers that arrive while this flush runs set the flag again and are covered by the next one.
                Volatile.Write(ref _commitRequested, 0);
                if (_log.TailAddress > _log.CommittedUntilAddress)
                {
                    try
                    {
                        await _log.CommitAsync(token);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        _logger.LogError(ex, "Flushing the write-ahead log of {Folder} failed", _folder);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose()
    {
        lock (_checkpointLock)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
        }
        _stopping.Cancel();
        try
        {
            _committer.Wait();
        }
        catch (AggregateException)
        {
        }
        try
        {
            // Orderly close: whatever async mode acknowledged is made durable now.
            if (_log.TailAddress > _log.CommittedUntilAddress)
            {
                _log.Commit(spinWait: true);
            }
        }
        finally
        {
            _log.Dispose();
            _device.Dispose();
            _stopping.Dispose();
            _commitSignal.Dispose();
        }
    }

    /// <summary>A checkpoint is renamed into place only once the log up to its position is durable.</summary>
    private sealed class CheckpointFile(FasterShardStore store, string final, ReadOnlySpan<byte> header, long position) : IPendingFile
    {
        private readonly PendingFile _file = new(final, header, () => store.EnsureDurable(position));

        public Stream Stream => _file.Stream;

        public void Commit()
        {
            _file.Commit();
            store.OnCheckpointCommitted(position);
        }

        public void Dispose() => _file.Dispose();
    }
}
