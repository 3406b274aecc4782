using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VectorStoreDb.Cluster.Catalog;
using VectorStoreDb.Cluster.Wire;

namespace VectorStoreDb.Cluster.Replication;

/// <summary>
/// A shard's sequencer. Not reentrant, so writes to one shard are numbered and sent one at a time and every replica
/// applies them in the same order. It keeps nothing on disk. When it (re)activates, or after a write failed, it starts
/// a new epoch, higher than any its replicas promised before, and needs at least the consistency floor (a majority by
/// default) of replicas to promise it; it then numbers on from the promising replica furthest along the history
/// (latest epoch, then highest number). Any acknowledged write is on a floor of replicas, so at least one promiser
/// holds it. Replicas refuse operations of older epochs from then on, so a sequencer that was declared dead but is
/// not (or a second activation while the grain directory heals after a node failure) can no longer get a write
/// acknowledged; and every operation names the epoch of the one before it, so a replica holding a never-acknowledged
/// write under a reused number notices and copies a peer instead.
/// </summary>
internal sealed class ShardGrain(
    NodeStore node,
    IGrainFactory grains,
    IClusterMembershipService membership,
    IOptions<ClusterOptions> options,
    ILogger<ShardGrain> logger) : Grain, IShardGrain
{
    private ShardKey _key;
    private CollectionEntry _entry = null!;
    private long _next;
    private long _epoch;
    private long _previousEpoch;
    private long _acknowledged;
    private bool _started;

    private TimeSpan Timeout => TimeSpan.FromSeconds(options.Value.ReplicaTimeoutSeconds);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _key = ShardKey.Parse(this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    public Task<long> GetAcknowledgedAsync() => Task.FromResult(_acknowledged);

    public Task RefreshAsync()
    {
        _started = false;
        return Task.CompletedTask;
    }

    public async Task<bool> AdmitAsync(string replicaNode)
    {
        if (!_started || !_entry.Placement[_key.Shard].Contains(replicaNode, StringComparer.Ordinal))
        {
            // A replica that joined since this sequencer read the placement: the next write starts a new epoch over
            // the placement read here, which names it.
            _entry = await grains.GetCollectionEntryAsync(_key);
            _started = false;
        }
        return _entry.Placement[_key.Shard].Contains(replicaNode, StringComparer.Ordinal) && membership.CurrentSnapshot.ActiveNodeNames().Contains(replicaNode);
    }

    public async Task<ApplyResult> WriteAsync(ReplicaDocument[]? upserts, string? deleteId)
    {
        await StartAsync();
        if (node.BeforeSequencerWrite is { } hold)
        {
            await hold(_key.ToString(), _next);
        }
        var live = LiveReplicas();
        int required = WriteQuorum.Required(_entry.WriteConsistency, _entry.Replicas, live.Count);
        if (live.Count < required)
        {
            throw ClusterException.Unavailable(
                $"Shard {_key.Shard} of collection '{_key.Collection}' has {live.Count} of {_entry.Replicas} replicas live; writeConsistency '{_entry.WriteConsistency}' needs {required}. Nothing was written.");
        }
        var operation = new ReplicaOperation(_next, upserts, deleteId, _epoch, _previousEpoch);
        _next++;
        _previousEpoch = _epoch;
        var calls = live.Select(async r =>
        {
            try
            {
                return (r.Node, Result: await r.Grain.ApplyAsync(operation).WaitAsync(Timeout), Error: (Exception?)null);
            }
            catch (Exception ex)
            {
                return (r.Node, Result: (ApplyResult?)null, Error: ex);
            }
        }).ToArray();
        var outcomes = await Task.WhenAll(calls);
        var applied = outcomes.Where(o => o.Result is not null).ToArray();
        foreach (var failed in outcomes.Where(o => o.Error is not null))
        {
            logger.LogWarning(failed.Error, "Replica on {Node} did not apply sequence {Sequence} of {Shard}", failed.Node, operation.Sequence, _key);
            _ = grains.GetGrain<IReplicaGrain>(_key.OnNode(failed.Node).ToString()).MarkStaleAsync();
        }
        if (applied.Length < required)
        {
            // Numbering goes on from where the replicas stand, under a new epoch, rather than past a write that may
            // be on some replicas only.
            _started = false;
            throw ClusterException.Unavailable(
                $"Shard {_key.Shard} of collection '{_key.Collection}': {applied.Length} of the {required} replicas needed have the write; it is not acknowledged (it may still appear once the replicas catch up; retrying an upsert is safe). {string.Join("; ", outcomes.Where(o => o.Error is not null).Select(o => $"{o.Node}: {o.Error!.Message}"))}");
        }
        _acknowledged = operation.Sequence;
        var first = applied[0].Result!;
        return first with { Existed = applied.Any(a => a.Result!.Existed) };
    }

    private async Task StartAsync()
    {
        if (_started)
        {
            return;
        }
        _entry = await grains.GetCollectionEntryAsync(_key);
        var live = LiveReplicas();
        int floor = WriteQuorum.Required(_entry.WriteConsistency, _entry.Replicas, live: 0);
        // Two tries: a replica may already have promised the epoch this sequencer picks to a rival activation.
        for (int attempt = 1; ; attempt++)
        {
            var states = await Task.WhenAll(live.Select(r => AskAsync(r, g => g.GetStateAsync())));
            long epoch = Math.Max(_epoch, states.Where(s => s is not null).Select(s => s!.PromisedEpoch).DefaultIfEmpty(0).Max()) + 1;
            var promises = await Task.WhenAll(live.Select(r => AskAsync(r, g => g.PromiseAsync(epoch))));
            var promised = promises.Where(p => p is { Accepted: true }).Select(p => p!.State).ToArray();
            if (promised.Length >= floor)
            {
                var furthest = promised.Aggregate((a, b) => b.IsAhead(a) ? b : a);
                _epoch = epoch;
                _previousEpoch = furthest.LastEpoch;
                _next = furthest.AppliedSequence + 1;
                _acknowledged = furthest.AppliedSequence;
                _started = true;
                logger.LogInformation("Sequencer of {Shard} starts epoch {Epoch} at sequence {Sequence} ({Promised} of {Live} live replicas promised)",
                    _key, epoch, _next, promised.Length, live.Count);
                return;
            }
            if (attempt == 2)
            {
                throw ClusterException.Unavailable(
                    $"Shard {_key.Shard} of collection '{_key.Collection}': {promised.Length} of {_entry.Replicas} replicas followed a new sequencer epoch; {floor} are needed to resume numbering writes.");
            }
            _epoch = Math.Max(epoch, promises.Where(p => p is not null).Select(p => p!.State.PromisedEpoch).DefaultIfEmpty(0).Max());
        }
    }

    /// <summary>A replica's answer, or null (logged) when it failed or did not answer in time.</summary>
    private async Task<T?> AskAsync<T>((string Node, IReplicaGrain Grain) replica, Func<IReplicaGrain, Task<T>> ask) where T : class
    {
        try
        {
            return await ask(replica.Grain).WaitAsync(Timeout);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Replica on {Node} of {Shard} did not answer the sequencer", replica.Node, _key);
            return null;
        }
    }

    private List<(string Node, IReplicaGrain Grain)> LiveReplicas()
    {
        var live = membership.CurrentSnapshot.ActiveNodeNames();
        return [.. _entry.Placement[_key.Shard]
            .Where(live.Contains)
            .Select(n => (n, grains.GetGrain<IReplicaGrain>(_key.OnNode(n).ToString())))];
    }
}
