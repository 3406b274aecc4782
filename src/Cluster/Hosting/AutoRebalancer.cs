using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VectorStoreDb.Cluster.Replication;

namespace VectorStoreDb.Cluster.Hosting;

/// <summary>
/// Rebalances when a node joins: once the set of active nodes has gained a name and then stayed unchanged for
/// <see cref="ClusterOptions.RebalanceDelaySeconds"/>, the first active node (by name) moves replicas onto the
/// newcomers. Departures trigger nothing: a node that is down keeps its replicas and catches up when it returns;
/// draining is how replicas leave a node for good.
/// </summary>
internal sealed class AutoRebalancer(
    IClusterMembershipService membership,
    ClusterCoordinator coordinator,
    NodeStore node,
    IOptions<ClusterOptions> options,
    ILogger<AutoRebalancer> logger) : BackgroundService
{
    private long _dueAt;
    private HashSet<string> _active = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.AutoRebalance)
        {
            return;
        }
        var worker = RunDueRebalancesAsync(stoppingToken);
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stoppingToken))
            {
                var active = snapshot.ActiveNodeNames();
                bool joined = active.Any(n => !_active.Contains(n));
                bool changed = joined || active.Count != _active.Count;
                _active = active;
                if (joined || (changed && Interlocked.Read(ref _dueAt) != 0))
                {
                    // Wait for membership to settle: several nodes starting together make one rebalance, not several.
                    Interlocked.Exchange(ref _dueAt, Stopwatch.GetTimestamp() + (long)(options.Value.RebalanceDelaySeconds * Stopwatch.Frequency));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await worker;
    }

    private async Task RunDueRebalancesAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            long due = Interlocked.Read(ref _dueAt);
            if (due == 0 || Stopwatch.GetTimestamp() < due)
            {
                continue;
            }
            Interlocked.CompareExchange(ref _dueAt, 0, due);
            var active = _active;
            if (!active.Contains(node.NodeName) || active.Min(StringComparer.Ordinal) != node.NodeName)
            {
                continue;
            }
            try
            {
                var moves = await coordinator.RebalanceAsync(stoppingToken);
                if (moves.Count > 0)
                {
                    logger.LogInformation("Rebalanced after a node joined: {Moves} replica moves", moves.Count);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Rebalancing after a node joined failed; it is tried again when membership changes, or run POST /cluster/rebalance");
            }
        }
    }
}
