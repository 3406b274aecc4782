using VectorStoreDb.Cluster.Catalog;
using VectorStoreDb.Cluster.Hosting;
using VectorStoreDb.Cluster.Replication;
using VectorStoreDb.Cluster.Wire;

namespace VectorStoreDb.ClusterTests;

/// <summary>
/// A node that was down when one of its replicas was deleted, or that stopped during a moved replica's grace period,
/// removes those replicas when it comes back, and keeps the ones the catalog still places on it.
/// </summary>
public sealed class OrphanCleanupTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task A_returning_node_removes_replicas_deleted_or_moved_away_while_it_was_down()
    {
        var coordinator = fixture.Coordinator(0);
        var grains = ClusterFixture.Service<IGrainFactory>(fixture.Cluster.Silos[0]);
        var catalog = grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key);
        var victim = fixture.Cluster.Silos[1];
        foreach (string name in new[] { "kept", "gone", "moved" })
        {
            await coordinator.CreateCollectionAsync(Documents.Request(name, shards: 1), replicas: name == "moved" ? 2 : 3);
            await coordinator.UpsertAsync(name, Documents.Make(30, seed: name.Length, prefix: name));
        }
        async Task<string> Local(string name) => new ShardKey(name, (await catalog.GetAsync(name))!.Incarnation, 0).LocalCollection;
        string kept = await Local("kept"), gone = await Local("gone"), moved = await Local("moved");

        // "moved" leaves the victim: first put a replica there if the placement did not, then move it off.
        var placement = (await catalog.GetAsync("moved"))!.Placement[0];
        if (!placement.Contains(victim.Name))
        {
            Assert.True(await catalog.MoveReplicaAsync(new ReplicaMove("moved", 0, placement[0], victim.Name)));
            placement = (await catalog.GetAsync("moved"))!.Placement[0];
        }
        string elsewhere = fixture.Cluster.Silos.Select(s => s.Name).Single(n => !placement.Contains(n));
        Assert.True(await catalog.MoveReplicaAsync(new ReplicaMove("moved", 0, victim.Name, elsewhere)));
        // Stopped within the retired replica's 10 s grace: its data is still on disk.
        await fixture.Cluster.StopSiloAsync(victim);
        await coordinator.DeleteCollectionAsync("gone");

        var returned = await fixture.RestartAsync(victim);
        var cleaner = ClusterFixture.Service<OrphanReplicaCleaner>(returned);
        await cleaner.Completed.WaitAsync(TimeSpan.FromSeconds(90));
        Assert.Equal(2, cleaner.Dropped);

        var store = ClusterFixture.Service<NodeStore>(returned);
        var local = store.Engine.ListCollections().Select(c => c.Settings.Name).ToArray();
        var logs = Directory.EnumerateFiles(store.LogPath).Select(Path.GetFileName).ToArray();
        Assert.Contains(kept, local);
        Assert.DoesNotContain(gone, local);
        Assert.DoesNotContain(moved, local);
        Assert.DoesNotContain(logs, f => f!.StartsWith(gone, StringComparison.Ordinal) || f.StartsWith(moved, StringComparison.Ordinal));
        Assert.Contains(logs, f => f!.StartsWith(kept, StringComparison.Ordinal));
        Assert.Equal(30, store.Engine.Count(kept));
        // The collections the cluster still has answer in full.
        Assert.Equal(30, await fixture.Coordinator(0).CountAsync("moved"));
        Assert.Equal(30, await ClusterFixture.Service<VectorStoreDb.Cluster.ClusterCoordinator>(returned).CountAsync("kept"));
    }
}
