using System.Text.RegularExpressions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using VectorStoreDb.Cluster.Catalog;
using VectorStoreDb.Cluster.Replication;

namespace VectorStoreDb.Cluster.Hosting;

/// <summary>
/// Once this node is active, compares the replicas on its disk (local engine collections and replica logs) with the
/// catalog and drops those the catalog no longer places here: a collection deleted (or deleted and created again)
/// while this node was down, or a replica moved away whose node stopped before its grace period ran out. The
/// decision is the replica grain's own (<see cref="IReplicaGrain.DropIfOrphanedAsync"/>), so it is serialised with a
/// move that is copying a shard onto this node at the same moment.
/// </summary>
internal sealed partial class OrphanReplicaCleaner(
    IClusterMembershipService membership,
    IGrainFactory grains,
    NodeStore node,
    ILogger<OrphanReplicaCleaner> logger) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    /// <summary>Replicas found and dropped by the last pass (tests and logs).</summary>
    public int Dropped { get; private set; }

    /// <summary>Completes when the start-up pass has run (whatever it found).</summary>
    public Task Completed => _completed.Task;

    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await node.Engine.WhenReady.WaitAsync(stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    if (IsActive())
                    {
                        Dropped = await CleanAsync(stoppingToken);
                        _completed.TrySetResult();
                        return;
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The catalog may not answer yet right after start-up; the next pass tries again.
                    logger.LogDebug(ex, "Orphaned replica clean-up on node {Node} could not run yet", node.NodeName);
                }
                await Task.Delay(RetryDelay, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        _completed.TrySetResult();
    }

    private bool IsActive() => membership.CurrentSnapshot.Members.Values.Any(m => m.Name == node.NodeName && m.Status == SiloStatus.Active);

    private async Task<int> CleanAsync(CancellationToken cancellationToken)
    {
        var catalog = await grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key).ListAsync().WaitAsync(cancellationToken);
        // Local names are truncated collection names; the catalog's entries give the full key back where one exists.
        var known = new Dictionary<string, (ReplicaKey Key, bool PlacedHere)>(StringComparer.Ordinal);
        foreach (var entry in catalog)
        {
            for (int s = 0; s < entry.Shards; s++)
            {
                var key = new ShardKey(entry.Name, entry.Incarnation, s).OnNode(node.NodeName);
                known[key.LocalCollection] = (key, entry.Placement[s].Contains(node.NodeName));
            }
        }
        var local = node.Engine.ListCollections().Select(c => c.Settings.Name)
            .Concat(Directory.EnumerateFiles(node.LogPath, "*.log").Select(Path.GetFileNameWithoutExtension).OfType<string>())
            .Distinct(StringComparer.Ordinal);
        int dropped = 0;
        foreach (string name in local)
        {
            if (LocalName().Match(name) is not { Success: true } match)
            {
                continue;
            }
            ReplicaKey key;
            if (known.TryGetValue(name, out var found))
            {
                if (found.PlacedHere)
                {
                    continue;
                }
                key = found.Key;
            }
            else
            {
                // No catalog entry has this name: the (possibly truncated) prefix names the replica grain well enough,
                // since its local collection name is the same and the catalog has nothing under it.
                key = new ReplicaKey(node.NodeName, match.Groups["collection"].Value, match.Groups["incarnation"].Value,
                    int.Parse(match.Groups["shard"].Value, System.Globalization.CultureInfo.InvariantCulture));
            }
            if (await grains.GetGrain<IReplicaGrain>(key.ToString()).DropIfOrphanedAsync().WaitAsync(cancellationToken))
            {
                dropped++;
            }
        }
        if (dropped > 0)
        {
            logger.LogInformation("Node {Node} removed {Count} orphaned replicas (collections deleted or moved away while it was down)", node.NodeName, dropped);
        }
        return dropped;
    }

    [GeneratedRegex("^(?<collection>[a-z0-9_-]{1,40})--(?<incarnation>[0-9a-f]{8})-s(?<shard>[0-9]{1,4})$")]
    private static partial Regex LocalName();
}
