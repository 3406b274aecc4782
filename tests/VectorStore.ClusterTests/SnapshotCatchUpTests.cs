using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using VectorStoreDb.Cluster.Catalog;
using VectorStoreDb.Cluster.Replication;

namespace VectorStoreDb.ClusterTests;

/// <summary>A replica that missed more writes than its peers' logs keep catches up from a peer's engine snapshot.</summary>
public sealed class SnapshotCatchUpTests(SmallLogClusterFixture fixture) : IClassFixture<SmallLogClusterFixture>
{
    [Fact]
    public async Task A_replica_far_behind_restores_a_peer_snapshot_then_follows_the_log()
    {
        var coordinator = fixture.Coordinator(0);
        await coordinator.CreateCollectionAsync(Documents.Request("far", shards: 1), replicas: 3);
        await coordinator.UpsertAsync("far", Documents.Make(10, seed: 1, prefix: "early"));

        var victim = fixture.Cluster.Silos[1];
        await fixture.Cluster.StopSiloAsync(victim);
        // 60 single-document writes: far more than the 2 × 16 operations a peer's log can hold.
        var missed = Documents.Make(60, seed: 2, prefix: "missed");
        foreach (var document in missed)
        {
            await coordinator.UpsertAsync("far", [document]);
        }
        var returned = await fixture.Cluster.StartSiloAsync(victim.InstanceNumber, fixture.Cluster.Options);
        // The other silos learn of the returning one from the membership table; until then its replicas cannot be placed.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!(await coordinator.GetStatusAsync()).Nodes.Any(n => n.Name == returned.Name && n.Status == "Active"))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "the restarted silo did not become active");
            await Task.Delay(250);
        }

        var grains = ((InProcessSiloHandle)fixture.Cluster.Silos[0]).SiloHost.Services.GetRequiredService<IGrainFactory>();
        string incarnation = (await grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key).GetAsync("far"))!.Incarnation;
        var replica = grains.GetGrain<IReplicaGrain>(new ShardKey("far", incarnation, 0).OnNode(returned.Name).ToString());
        Assert.Equal(70, await replica.CountAsync());
        var state = await replica.GetStateAsync();
        Assert.True(state.Serving);
        Assert.Equal(61, state.AppliedSequence);
        // It restored a snapshot, so its own log starts after the snapshot's position, not at 1.
        Assert.True(state.LogFirstSequence > 1, $"log starts at {state.LogFirstSequence}");

        // And it follows the log again from there.
        await coordinator.UpsertAsync("far", Documents.Make(5, seed: 3, prefix: "late"));
        Assert.Equal(62, (await replica.GetStateAsync()).AppliedSequence);
        var ids = (await replica.ListAsync(null, 1000, includeVectors: false)).Select(d => d.Id).ToHashSet();
        Assert.Contains("late-00004", ids);
        Assert.Contains("missed-00059", ids);
        var hit = await coordinator.GetDocumentAsync("far", "missed-00030");
        Assert.Equal("document number 30", hit.Text);
        await fixture.Cluster.StopSiloAsync(returned);
    }
}
