using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VectorStoreDb.Cluster.Catalog;
using VectorStoreDb.Cluster.Wire;

namespace VectorStoreDb.Cluster.Replication;

/// <summary>
/// A shard's sequencer. Not reentrant, so writes to one shard are numbered and sent one at a time and every replica
/// applies them in the same order. It keeps nothing on disk: when it (re)activates it takes the highest sequence
/// number any live replica has applied, which covers every acknowledged write because an acknowledgement needs the
/// consistency floor (a majority by default) of replicas.
/// </summary>
internal sealed class ShardGrain(
    IGrainFactory grains,
    IClusterMembershipService membership,
    IOptions<ClusterOptions> options,
    ILogger<ShardGrain> logger) : Grain, IShardGrain
{
    private ShardKey _key;
    private CollectionEntry _entry = null!;
    private long _next;
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

    public async Task<ApplyResult> WriteAsync(ReplicaDocument[]? upserts, string? deleteId)
    {
        await StartAsync();
        var live = LiveReplicas();
        int required = WriteQuorum.Required(_entry.WriteConsistency, _entry.Replicas, live.Count);
        if (live.Count < required)
        {
            throw ClusterException.Unavailable(
                $"Shard {_key.Shard} of collection '{_key.Collection}' has {live.Count} of {_entry.Replicas} replicas live; writeConsistency '{_entry.WriteConsistency}' needs {required}. Nothing was written.");
        }
        var operation = new ReplicaOperation(_next, upserts, deleteId);
        _next++;
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
        var entry = await grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key).GetAsync(_key.Collection);
        if (entry is null || entry.Incarnation != _key.Incarnation)
        {
            throw new ClusterException(ErrorCode.NotFound, $"Collection '{_key.Collection}' does not exist.", "name");
        }
        _entry = entry;
        var live = LiveReplicas();
        var states = await Task.WhenAll(live.Select(async r =>
        {
            try
            {
                return (await r.Grain.GetStateAsync().WaitAsync(Timeout)).AppliedSequence;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Replica on {Node} of {Shard} did not report its position", r.Node, _key);
                return -1;
            }
        }));
        int answered = states.Count(s => s >= 0);
        int floor = WriteQuorum.Required(_entry.WriteConsistency, _entry.Replicas, live: 0);
        if (answered < floor)
        {
            throw ClusterException.Unavailable(
                $"Shard {_key.Shard} of collection '{_key.Collection}': only {answered} of {_entry.Replicas} replicas answered; {floor} are needed to resume numbering writes.");
        }
        long highest = states.Max();
        _next = highest + 1;
        _acknowledged = highest;
        _started = true;
    }

    private List<(string Node, IReplicaGrain Grain)> LiveReplicas()
    {
        var live = membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active)
            .Select(m => m.Name)
            .ToHashSet(StringComparer.Ordinal);
        return [.. _entry.Placement[_key.Shard]
            .Where(live.Contains)
            .Select(n => (n, grains.GetGrain<IReplicaGrain>(_key.OnNode(n).ToString())))];
    }
}
