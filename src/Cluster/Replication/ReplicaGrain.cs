using System.Diagnostics;
using System.IO.Hashing;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Serialization;
using VectorStoreDb.Cluster.Catalog;
using VectorStoreDb.Cluster.Placement;
using VectorStoreDb.Cluster.Wire;
using VectorStoreDb.Engine;

namespace VectorStoreDb.Cluster.Replication;

/// <summary>
/// Owns one replica's local engine collection and log on its node. Writes are applied strictly in sequence order
/// under <see cref="_applyGate"/>, which a snapshot also takes, so a snapshot is exactly "everything up to N".
/// A replica serves reads only after it has compared itself with its live peers since activation (or since it was
/// marked stale) and caught up, so a node back from the dead never answers from old data.
/// <para>
/// Every operation carries its sequencer's epoch and the epoch of the operation before it. A replica follows only the
/// newest epoch it has promised, and applies an operation only on top of the history it was numbered on: a replica
/// that kept a write a dead sequencer never got acknowledged, under a number a newer sequencer has since given to
/// another write, notices the mismatch and copies a peer on the current history instead of skipping the new write.
/// </para>
/// </summary>
[NodePinnedPlacement]
internal sealed class ReplicaGrain(
    NodeStore node,
    LocalReplicas localReplicas,
    Serializer serializer,
    IGrainFactory grains,
    IClusterMembershipService membership,
    IOptions<ClusterOptions> options,
    ILogger<ReplicaGrain> logger) : Grain, IReplicaGrain
{
    private const int CatchUpBatch = 500;
    private const int MaxChunkBytes = 64 * 1024 * 1024;
    private const int SnapshotAttempts = 3;

    /// <summary>Engine snapshots taken for a transfer to a peer are named with this prefix (anything else is a user's).</summary>
    private const string TransferPrefix = "transfer-";

    /// <summary>How long a retired replica keeps its data: beyond coordinators' catalog cache, so reads in flight finish.</summary>
    private static readonly TimeSpan RetiredGrace = TimeSpan.FromSeconds(10);
    private readonly SemaphoreSlim _applyGate = new(1, 1);
    private ReplicaKey _key;
    private ReplicaLog _log = null!;
    private long _applied;
    private long _lastEpoch;
    // Serving and retired, shared with this node's coordinator (LocalReplicas), which reads a serving replica directly.
    private readonly ReplicaReadState _state = new();

    /// <summary>Created or joined in this activation: the catalog may not name it yet, but it is no orphan.</summary>
    private bool _placedByCatalog;
    private IGrainTimer? _dropTimer;
    private IGrainTimer? _transferTimer;

    /// <summary>Snapshot transfers this replica serves to peers: id → when the receiver last read from it.</summary>
    private readonly Dictionary<string, long> _transfers = new(StringComparer.Ordinal);

    private VectorStoreEngine Engine => node.Engine;

    private string Local => _key.LocalCollection;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _key = ReplicaKey.Parse(this.GetPrimaryKeyString());
        localReplicas.Register(_key.ToString(), _state);
        await Engine.WhenReady;
        _log = new ReplicaLog(node.LogPath, Local, options.Value.ReplicaLogOperations, serializer);
        _applied = _log.LastSequence;
        _lastEpoch = _log.LastEpoch;
        DeleteStaleTransfers();
        if (HasLocalCollection() && _log.Last is { } last)
        {
            // The last logged operation may not have reached the engine before a crash; applying it again is harmless.
            await ApplyToEngineAsync(last);
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        localReplicas.Unregister(_key.ToString(), _state);
        _log.Dispose();
        return Task.CompletedTask;
    }

    public Task<string> CreateAsync(string requestJson) => Guard(async () =>
    {
        var request = JsonSerializer.Deserialize<CreateCollectionRequest>(requestJson, WireMapping.Json)
            ?? throw new VectorStoreException(ErrorCode.InvalidArgument, "The collection request is empty.");
        _placedByCatalog = true;
        CollectionInfo info;
        try
        {
            info = await Engine.CreateCollectionAsync(request with { Name = Local, Shards = 1 });
        }
        catch (VectorStoreException ex) when (ex.Code == ErrorCode.AlreadyExists)
        {
            info = Engine.GetCollection(Local);
        }
        _state.Serving = true;
        return JsonSerializer.Serialize(info.Settings, WireMapping.Json);
    });

    public async Task DropAsync()
    {
        await _applyGate.WaitAsync();
        try
        {
            if (HasLocalCollection())
            {
                await Engine.DeleteCollectionAsync(Local);
            }
            _log.Delete();
            _transfers.Clear();
            DeleteStaleTransfers();
            _state.Serving = false;
        }
        finally
        {
            _applyGate.Release();
        }
        DeactivateOnIdle();
    }

    public Task<Promise> PromiseAsync(long epoch) => Guard(async () =>
    {
        await _applyGate.WaitAsync();
        try
        {
            bool accepted = epoch > _log.Promised;
            if (accepted)
            {
                _log.Promise(epoch);
            }
            return new Promise(accepted, State());
        }
        finally
        {
            _applyGate.Release();
        }
    });

    public Task<ApplyResult> ApplyAsync(ReplicaOperation operation) => Guard(async () =>
    {
        await _applyGate.WaitAsync();
        try
        {
            if (operation.Epoch < _log.Promised)
            {
                throw ClusterException.Unavailable(
                    $"Replica {_key} follows sequencer epoch {_log.Promised}; sequence {operation.Sequence} came from the older epoch {operation.Epoch}.");
            }
            if (operation.Epoch > _log.Promised)
            {
                // A sequencer that started while this replica did not answer: the newest one there is, so follow it.
                _log.Promise(operation.Epoch);
            }
            if (HasApplied(operation))
            {
                return new ApplyResult(_applied, Existed: true, null, null, null);
            }
            if (_applied != operation.Sequence - 1 || _lastEpoch != operation.PreviousEpoch || !HasLocalCollection())
            {
                await CatchUpLockedAsync(operation.Sequence - 1, operation.PreviousEpoch,
                    () => HasApplied(operation) || (HasLocalCollection() && _applied == operation.Sequence - 1 && _lastEpoch == operation.PreviousEpoch));
                if (HasApplied(operation))
                {
                    return new ApplyResult(_applied, Existed: true, null, null, null);
                }
                if (_applied != operation.Sequence - 1 || _lastEpoch != operation.PreviousEpoch)
                {
                    throw ClusterException.Unavailable(
                        $"Replica {_key} is at {_applied} (epoch {_lastEpoch}) and could not reach {operation.Sequence - 1} (epoch {operation.PreviousEpoch}) to apply {operation.Sequence}.");
                }
            }
            var result = await ApplyLockedAsync(operation);
            _state.Serving = !_state.Retired;
            return result;
        }
        finally
        {
            _applyGate.Release();
        }
    });

    public Task JoinAsync() => Guard(async () =>
    {
        await _applyGate.WaitAsync();
        try
        {
            _dropTimer?.Dispose();
            _dropTimer = null;
            _state.Retired = false;
            _placedByCatalog = true;
            await CatchUpWithPeersLockedAsync(requireAnswers: true);
            // Writes go on while this replica is not yet in the placement: it compares itself with its peers again
            // (EnsureServingAsync) before its first read, or catches up on its first write.
            _state.Serving = false;
            logger.LogInformation("Replica {Replica} joined at sequence {Sequence}", _key, _applied);
            return true;
        }
        finally
        {
            _applyGate.Release();
        }
    });

    public async Task<bool> DropIfOrphanedAsync()
    {
        if (_placedByCatalog)
        {
            return false;
        }
        var entry = await grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key).GetAsync(_key.Collection);
        if (entry is not null && entry.Incarnation == _key.Incarnation && _key.Shard < entry.Shards && entry.Placement[_key.Shard].Contains(_key.Node))
        {
            return false;
        }
        logger.LogInformation("Replica {Replica} is not in the catalog's placement (deleted or moved away while its node was down); deleting its data", _key);
        await DropAsync();
        return true;
    }

    public Task RetireAsync()
    {
        _state.Retired = true;
        _state.Serving = false;
        _dropTimer?.Dispose();
        _dropTimer = this.RegisterGrainTimer(DropIfStillRetiredAsync, new GrainTimerCreationOptions(RetiredGrace, System.Threading.Timeout.InfiniteTimeSpan));
        return Task.CompletedTask;
    }

    private async Task DropIfStillRetiredAsync(CancellationToken cancellationToken)
    {
        _dropTimer?.Dispose();
        _dropTimer = null;
        var entry = await grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key).GetAsync(_key.Collection);
        // Moved back here in the meantime: keep the data.
        if (_state.Retired && (entry is null || entry.Incarnation != _key.Incarnation || !entry.Placement[_key.Shard].Contains(_key.Node)))
        {
            logger.LogInformation("Replica {Replica} moved to another node; deleting its data", _key);
            await DropAsync();
        }
    }

    public Task MarkStaleAsync()
    {
        _state.Serving = false;
        return Task.CompletedTask;
    }

    public Task<LogSlice> ReadLogAsync(LogRead read)
    {
        long applied = Interlocked.Read(ref _applied);
        if (read.Until > applied || _log.EpochAt(read.Until) is { } untilEpoch && untilEpoch != read.UntilEpoch)
        {
            return Task.FromResult(new LogSlice([], applied, LogSliceStatus.Elsewhere));
        }
        if (!HasLocalCollection())
        {
            return Task.FromResult(new LogSlice([], applied, LogSliceStatus.Truncated));
        }
        if (read.After >= read.Until)
        {
            // The reader is at or past the position it must reach, yet not on it: its extra writes go with a snapshot.
            return Task.FromResult(new LogSlice([], applied, LogSliceStatus.Diverged));
        }
        long? afterEpoch = _log.EpochAt(read.After);
        if (afterEpoch is null)
        {
            // Older than this log reaches (or past its end): only a snapshot can tell the reader what it lacks.
            return Task.FromResult(new LogSlice([], applied, LogSliceStatus.Truncated));
        }
        if (afterEpoch != read.AfterEpoch)
        {
            return Task.FromResult(new LogSlice([], applied, LogSliceStatus.Diverged));
        }
        var operations = _log.ReadAfter(read.After, (int)Math.Min(read.Max, read.Until - read.After)) ?? [];
        return Task.FromResult(new LogSlice(operations, applied, LogSliceStatus.Follows));
    }

    public Task<ShardSnapshot> BeginSnapshotAsync() => Guard(async () =>
    {
        string id = $"{TransferPrefix}{Guid.NewGuid():N}";
        long applied, epoch;
        await _applyGate.WaitAsync();
        try
        {
            if (!HasLocalCollection())
            {
                throw ClusterException.Unavailable($"Shard {_key.Shard} of collection '{_key.Collection}' has no data on node '{_key.Node}' to copy.");
            }
            await Engine.CreateSnapshotAsync(Local, id);
            applied = _applied;
            epoch = _lastEpoch;
        }
        finally
        {
            _applyGate.Release();
        }
        try
        {
            // Hashed outside the apply lock: the file no longer changes, and writes need not wait for a read of it.
            var hash = new XxHash128();
            long length;
            using (var stream = Engine.OpenSnapshot(Local, id))
            {
                await hash.AppendAsync(stream);
                length = stream.Length;
            }
            _transfers[id] = Stopwatch.GetTimestamp();
            _transferTimer ??= this.RegisterGrainTimer(ExpireTransfersAsync, new GrainTimerCreationOptions(TransferIdle, TransferIdle) { Interleave = true });
            return new ShardSnapshot(id, applied, length, hash.GetCurrentHash(), epoch);
        }
        catch
        {
            DeleteTransfer(id);
            throw;
        }
    });

    public Task<byte[]> ReadSnapshotAsync(string transferId, long offset, int count) => Guard(async () =>
    {
        if (!_transfers.ContainsKey(transferId))
        {
            throw ClusterException.Unavailable($"Snapshot transfer '{transferId}' of replica {_key} has ended or expired; start a new one.");
        }
        _transfers[transferId] = Stopwatch.GetTimestamp();
        using var stream = Engine.OpenSnapshot(Local, transferId);
        if (offset < 0 || offset > stream.Length || count <= 0)
        {
            throw new ClusterException(ErrorCode.InvalidArgument, $"offset {offset} / count {count} is outside the snapshot's {stream.Length} bytes.", "offset");
        }
        var chunk = new byte[(int)Math.Min(Math.Min(count, MaxChunkBytes), stream.Length - offset)];
        stream.Position = offset;
        await stream.ReadExactlyAsync(chunk);
        return chunk;
    });

    public Task EndSnapshotAsync(string transferId)
    {
        if (_transfers.Remove(transferId))
        {
            DeleteTransfer(transferId);
        }
        return Task.CompletedTask;
    }

    /// <summary>A receiver that died or gave up mid-transfer never calls <see cref="EndSnapshotAsync"/>: its snapshot goes after a while idle.</summary>
    private Task ExpireTransfersAsync(CancellationToken cancellationToken)
    {
        long idle = (long)(TransferIdle.TotalSeconds * Stopwatch.Frequency);
        foreach (var (id, touched) in _transfers.ToArray())
        {
            if (Stopwatch.GetTimestamp() - touched > idle)
            {
                logger.LogWarning("Snapshot transfer {Transfer} of replica {Replica} was abandoned by its receiver; deleting it", id, _key);
                _transfers.Remove(id);
                DeleteTransfer(id);
            }
        }
        if (_transfers.Count == 0)
        {
            _transferTimer?.Dispose();
            _transferTimer = null;
        }
        return Task.CompletedTask;
    }

    private void DeleteTransfer(string id)
    {
        try
        {
            Engine.DeleteSnapshot(Local, id);
        }
        catch (Exception ex) when (ex is VectorStoreException or IOException)
        {
            logger.LogDebug(ex, "Snapshot {Transfer} of replica {Replica} was already gone", id, _key);
        }
    }

    /// <summary>Transfer snapshots this replica's node still holds (a crash mid-transfer, or a drop while one ran).</summary>
    private void DeleteStaleTransfers()
    {
        foreach (var snapshot in Engine.ListSnapshots(Local).Where(s => s.Name.StartsWith(TransferPrefix, StringComparison.Ordinal) && !_transfers.ContainsKey(s.Name)))
        {
            DeleteTransfer(snapshot.Name);
        }
    }

    public Task<ReplicaState> GetStateAsync() => Task.FromResult(State());

    private ReplicaState State() => new(
        _key.Node, Interlocked.Read(ref _applied), _log.FirstSequence, _state.Serving, HasLocalCollection() ? Engine.Count(Local) : 0,
        Interlocked.Read(ref _lastEpoch), _log.Promised);

    /// <summary>True when this replica already holds <paramref name="operation"/> (the same number from the same epoch).</summary>
    private bool HasApplied(ReplicaOperation operation)
    {
        if (operation.Sequence > _applied || !HasLocalCollection())
        {
            return false;
        }
        // Past the log's reach (a snapshot or an old log compacted away): an epoch numbers each sequence once, and
        // epochs only grow along a history, so holding a later operation of the same epoch means holding this one.
        return (_log.EpochAt(operation.Sequence) ?? _lastEpoch) == operation.Epoch;
    }

    public Task<ShardHit[]> QueryAsync(ShardQuery query) => Guard(async () =>
    {
        await EnsureServingAsync();
        var hits = await Engine.QueryAsync(Local, WireMapping.ToEngine(query));
        return hits.Select(WireMapping.ToWire).ToArray();
    });

    public Task<ShardTextStatistics> GetTextStatisticsAsync(string text) => Guard(async () =>
    {
        await EnsureServingAsync();
        return WireMapping.ToWire(Engine.GetTextStatistics(Local, text));
    });

    public Task<ShardDocument?> GetAsync(string id, bool includeVector) => Guard(async () =>
    {
        await EnsureServingAsync();
        try
        {
            return WireMapping.ToWire(Engine.GetDocument(Local, id, includeVector));
        }
        catch (VectorStoreException ex) when (ex.Code == ErrorCode.NotFound && ex.Field == "id")
        {
            return null;
        }
    });

    public Task<ShardDocument[]> ListAsync(string? after, int limit, bool includeVectors) => Guard(async () =>
    {
        await EnsureServingAsync();
        var page = Engine.ListDocuments(Local, 0, Math.Min(limit, VectorStoreEngine.MaxListLimit), after, includeVectors);
        return page.Documents.Select(WireMapping.ToWire).ToArray();
    });

    public Task<long> CountAsync() => Guard(async () =>
    {
        await EnsureServingAsync();
        return Engine.Count(Local);
    });

    public Task<ShardDocument[]> GetManyAsync(string[] ids, bool includeVectors) => Guard(async () =>
    {
        await EnsureServingAsync();
        var found = await Engine.GetDocumentsAsync(Local, ids, includeVectors);
        return found.Select(WireMapping.ToWire).ToArray();
    });

    public Task<ShardScrollPage> ScrollAsync(ShardScroll scroll) => Guard(async () =>
    {
        await EnsureServingAsync();
        var page = await Engine.ScrollAsync(Local, WireMapping.ToEngine(scroll));
        return new ShardScrollPage([.. page.Documents.Select(WireMapping.ToWire)], page.Next is not null);
    });

    public Task<ShardHit[][]> QueryBatchAsync(ShardQuery[] queries) => Guard(async () =>
    {
        await EnsureServingAsync();
        var results = await Engine.QueryBatchAsync(Local, [.. queries.Select(WireMapping.ToEngine)]);
        return results.Select(hits => hits.Select(WireMapping.ToWire).ToArray()).ToArray();
    });

    private bool HasLocalCollection()
    {
        try
        {
            Engine.GetCollection(Local);
            return true;
        }
        catch (VectorStoreException ex) when (ex.Code == ErrorCode.NotFound)
        {
            return false;
        }
    }

    private async Task EnsureServingAsync()
    {
        if (_state.Retired)
        {
            throw ClusterException.Unavailable($"Shard {_key.Shard} of collection '{_key.Collection}' has moved off node '{_key.Node}'.");
        }
        if (_state.Serving)
        {
            return;
        }
        // Outside the apply lock: the sequencer answers between writes, and a write it is sending may be waiting for
        // this lock. Catching up before the sequencer counts this replica in its writes would leave a gap: a write
        // still going to the old set of replicas would be acknowledged without this one, after it began to serve.
        if (!await grains.GetGrain<IShardGrain>(_key.ShardKey.ToString()).AdmitAsync(_key.Node).WaitAsync(Timeout))
        {
            throw ClusterException.Unavailable($"Shard {_key.Shard} of collection '{_key.Collection}' does not send its writes to node '{_key.Node}' yet.");
        }
        await _applyGate.WaitAsync();
        try
        {
            if (_state.Serving)
            {
                return;
            }
            var entry = await grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key).GetAsync(_key.Collection);
            if (entry is not null && entry.Incarnation == _key.Incarnation && !entry.Placement[_key.Shard].Contains(_key.Node))
            {
                // Joining (not in the placement yet) or left: either way not a replica to read from.
                throw ClusterException.Unavailable($"Shard {_key.Shard} of collection '{_key.Collection}' is not placed on node '{_key.Node}'.");
            }
            await CatchUpWithPeersLockedAsync(requireAnswers: false);
            _state.Serving = true;
        }
        finally
        {
            _applyGate.Release();
        }
    }

    /// <summary>
    /// Compares this replica with its live peers and, when one is further along the shard's history (a later epoch, or
    /// the same epoch and a higher sequence number), catches up to where that peer stands.
    /// </summary>
    private async Task CatchUpWithPeersLockedAsync(bool requireAnswers)
    {
        var self = State();
        ReplicaState? best = null;
        foreach (var peer in await LivePeersAsync())
        {
            ReplicaState state;
            try
            {
                state = await peer.GetStateAsync().WaitAsync(Timeout);
            }
            catch (Exception ex) when (!requireAnswers && ex is not ClusterException { Code: ErrorCode.NotFound })
            {
                logger.LogDebug(ex, "Peer of replica {Replica} did not answer", _key);
                continue;
            }
            if (best is null || state.IsAhead(best))
            {
                best = state;
            }
        }
        bool local = HasLocalCollection();
        if (best is null && !local)
        {
            throw ClusterException.Unavailable($"Shard {_key.Shard} of collection '{_key.Collection}' has no data on node '{_key.Node}' and no live peer to copy.");
        }
        if (best is null || (local && !best.IsAhead(self)))
        {
            return;
        }
        long sequence = best.AppliedSequence, epoch = best.LastEpoch;
        await CatchUpLockedAsync(sequence, epoch, () => HasLocalCollection() && (_lastEpoch > epoch || (_lastEpoch == epoch && _applied >= sequence)));
    }

    /// <summary>
    /// Brings this replica to <paramref name="sequence"/> of the history on which that number has
    /// <paramref name="epoch"/>, until <paramref name="reached"/>: from a live peer that holds that position, by its
    /// log when the log follows on from this replica's last operation, else by its snapshot (its log no longer reaches
    /// back, or this replica kept writes the history does not have, which were never acknowledged).
    /// </summary>
    private async Task CatchUpLockedAsync(long sequence, long epoch, Func<bool> reached)
    {
        var peers = await LivePeersAsync();
        while (!reached())
        {
            bool progressed = false;
            foreach (var peer in peers)
            {
                try
                {
                    var slice = await peer.ReadLogAsync(new LogRead(_applied, _lastEpoch, sequence, epoch, CatchUpBatch)).WaitAsync(Timeout);
                    if (slice.Status == LogSliceStatus.Elsewhere)
                    {
                        continue;
                    }
                    if (slice.Status == LogSliceStatus.Follows && HasLocalCollection())
                    {
                        if (slice.Operations.Length == 0)
                        {
                            continue;
                        }
                        foreach (var operation in slice.Operations)
                        {
                            await ApplyLockedAsync(operation);
                        }
                    }
                    else
                    {
                        if (slice.Status == LogSliceStatus.Diverged)
                        {
                            logger.LogWarning("Replica {Replica} at {Applied} (epoch {Epoch}) holds writes the shard's history does not (never acknowledged); replacing its data with a peer's copy at {Sequence} (epoch {Target})",
                                _key, _applied, _lastEpoch, sequence, epoch);
                        }
                        await RestoreFromAsync(peer);
                    }
                    progressed = true;
                    break;
                }
                catch (Exception ex) when (ex is not ClusterException { Code: ErrorCode.InvalidArgument })
                {
                    logger.LogWarning(ex, "Replica {Replica} could not catch up from a peer; trying the next", _key);
                }
            }
            if (!progressed)
            {
                throw ClusterException.Unavailable(
                    $"Shard {_key.Shard} of collection '{_key.Collection}' on node '{_key.Node}' is at {_applied} (epoch {_lastEpoch}), needs {sequence} (epoch {epoch}), and no live peer can bring it there.");
            }
        }
    }

    /// <summary>
    /// Copies a peer's snapshot in chunks into a spool file, checks the file against the peer's XxHash128, and only
    /// then replaces this replica's data with it. A transfer that fails (peer gone, chunk missing, checksum wrong) is
    /// tried again from a new snapshot, up to <see cref="SnapshotAttempts"/> times; the replica's old data stays until a
    /// verified copy is complete.
    /// </summary>
    private async Task RestoreFromAsync(IReplicaGrain peer)
    {
        for (int attempt = 1; ; attempt++)
        {
            FileStream? spooled = null;
            ShardSnapshot snapshot;
            try
            {
                (spooled, snapshot) = await ReceiveSnapshotAsync(peer, attempt);
            }
            catch (Exception ex) when (ex is not ClusterException { Code: ErrorCode.NotFound } && attempt < SnapshotAttempts)
            {
                spooled?.Dispose();
                logger.LogWarning(ex, "Snapshot transfer {Attempt} to replica {Replica} failed; trying again", attempt, _key);
                continue;
            }
            await using (spooled)
            {
                // This node's coordinator reads a serving replica straight from the engine: not while it is replaced.
                _state.Serving = false;
                if (HasLocalCollection())
                {
                    await Engine.DeleteCollectionAsync(Local);
                }
                // Should the restore itself fail (local disk), the replica has no collection: it serves nothing and
                // copies a peer again on its next read or write.
                await Engine.RestoreSnapshotAsync(spooled, Local);
            }
            _log.Reset(snapshot.AppliedSequence, snapshot.LastEpoch);
            Interlocked.Exchange(ref _applied, snapshot.AppliedSequence);
            Interlocked.Exchange(ref _lastEpoch, snapshot.LastEpoch);
            logger.LogInformation("Replica {Replica} restored from a peer's snapshot at sequence {Sequence} ({Bytes} bytes)", _key, snapshot.AppliedSequence, snapshot.Length);
            return;
        }
    }

    /// <summary>One transfer: the peer's snapshot, verified, in a delete-on-close spool file positioned at its start.</summary>
    private async Task<(FileStream File, ShardSnapshot Snapshot)> ReceiveSnapshotAsync(IReplicaGrain peer, int attempt)
    {
        var snapshot = await peer.BeginSnapshotAsync().WaitAsync(Timeout * 6);
        // Delete-on-close: however the transfer ends, the spool goes with the handle (a crash leaves it to NodeStore).
        var file = new FileStream(Path.Combine(node.SpoolPath, $"{Local}.{snapshot.TransferId}.part"), FileMode.CreateNew,
            FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        try
        {
            try
            {
                int chunkBytes = options.Value.SnapshotChunkBytes;
                long offset = 0;
                while (offset < snapshot.Length)
                {
                    int want = (int)Math.Min(chunkBytes, snapshot.Length - offset);
                    byte[] chunk = await peer.ReadSnapshotAsync(snapshot.TransferId, offset, want).WaitAsync(Timeout);
                    if (node.ReceivedChunkFault is { } fault)
                    {
                        chunk = fault(attempt, offset, chunk);
                    }
                    if (chunk.Length == 0 || chunk.Length > want)
                    {
                        throw new InvalidDataException($"The peer sent {chunk.Length} bytes at offset {offset} of a {snapshot.Length}-byte snapshot (asked for {want}).");
                    }
                    await file.WriteAsync(chunk);
                    node.CountChunk(chunk.Length);
                    offset += chunk.Length;
                }
            }
            finally
            {
                await EndTransferQuietlyAsync(peer, snapshot.TransferId);
            }
            await file.FlushAsync();
            // Hash what the spool file holds, not what arrived: end to end, from the peer's file to the one restored.
            file.Position = 0;
            var hash = new XxHash128();
            await hash.AppendAsync(file);
            if (file.Length != snapshot.Length || !hash.GetCurrentHash().AsSpan().SequenceEqual(snapshot.Checksum))
            {
                throw new InvalidDataException($"The snapshot received from a peer ({file.Length} of {snapshot.Length} bytes) does not match its checksum.");
            }
            file.Position = 0;
            return (file, snapshot);
        }
        catch
        {
            node.CountRejected();
            await file.DisposeAsync();
            throw;
        }
    }

    private async Task EndTransferQuietlyAsync(IReplicaGrain peer, string transferId)
    {
        try
        {
            await peer.EndSnapshotAsync(transferId).WaitAsync(Timeout);
        }
        catch (Exception ex)
        {
            // The peer deletes an abandoned transfer itself once it has been idle for a while.
            logger.LogDebug(ex, "Replica {Replica} could not end snapshot transfer {Transfer} on its peer", _key, transferId);
        }
    }

    private async Task<ApplyResult> ApplyLockedAsync(ReplicaOperation operation)
    {
        _log.Append(operation);
        var result = await ApplyToEngineAsync(operation);
        Interlocked.Exchange(ref _applied, operation.Sequence);
        Interlocked.Exchange(ref _lastEpoch, operation.Epoch);
        return result;
    }

    private async Task<ApplyResult> ApplyToEngineAsync(ReplicaOperation operation)
    {
        try
        {
            if (operation.Upserts is { } upserts)
            {
                await Engine.UpsertAsync(Local, upserts.Select(WireMapping.ToEngine).ToArray());
                return new ApplyResult(operation.Sequence, Existed: true, null, null, null);
            }
            await Engine.DeleteDocumentAsync(Local, operation.DeleteId!);
            return new ApplyResult(operation.Sequence, Existed: true, null, null, null);
        }
        catch (VectorStoreException ex) when (ex.Code == ErrorCode.NotFound && ex.Field == "id")
        {
            return new ApplyResult(operation.Sequence, Existed: false, null, null, null);
        }
        catch (VectorStoreException ex) when (ex.Code is ErrorCode.InvalidArgument or ErrorCode.LimitExceeded)
        {
            // Refused by the engine's rules, which every replica applies alike: the sequence number is spent on nothing.
            return new ApplyResult(operation.Sequence, Existed: false, (int)ex.Code, ex.Message, ex.Field);
        }
    }

    private async Task<IReadOnlyList<IReplicaGrain>> LivePeersAsync()
    {
        var entry = await grains.GetCollectionEntryAsync(_key.ShardKey);
        var live = membership.CurrentSnapshot.ActiveNodeNames();
        return [.. entry.Placement[_key.Shard]
            .Where(n => n != _key.Node && live.Contains(n))
            .Select(n => grains.GetGrain<IReplicaGrain>(_key.ShardKey.OnNode(n).ToString()))];
    }

    private TimeSpan Timeout => TimeSpan.FromSeconds(options.Value.ReplicaTimeoutSeconds);

    /// <summary>A transfer nobody has read from for this long is abandoned (its receiver died or gave up).</summary>
    private TimeSpan TransferIdle => TimeSpan.FromSeconds(Math.Max(60, 6 * options.Value.ReplicaTimeoutSeconds));

    private static async Task<T> Guard<T>(Func<Task<T>> action)
    {
        try
        {
            return await action();
        }
        catch (VectorStoreException ex)
        {
            throw ClusterException.From(ex);
        }
    }
}
