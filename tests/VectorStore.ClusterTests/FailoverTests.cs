using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using VectorStoreDb.Cluster.Replication;
using VectorStoreDb.Engine;

namespace VectorStoreDb.ClusterTests;

/// <summary>
/// A silo of three is killed: reads go on from the other replicas, writes go on where the consistency rule allows
/// and are refused (Unavailable, nothing written) where it does not, and the silo catches up when it comes back.
/// </summary>
public sealed class FailoverTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task A_killed_silo_keeps_reads_answering_and_catches_up_when_it_returns()
    {
        var coordinator = fixture.Coordinator(0);
        await coordinator.CreateCollectionAsync(Documents.Request("two", shards: 3), replicas: 2);
        await coordinator.CreateCollectionAsync(Documents.Request("three", shards: 3), replicas: 3);
        var first = Documents.Make(200, seed: 11);
        foreach (var batch in first.Chunk(100))
        {
            await coordinator.UpsertAsync("two", batch);
            await coordinator.UpsertAsync("three", batch);
        }

        var victim = fixture.Cluster.Silos[2];
        string victimName = victim.Name;
        await fixture.Cluster.KillSiloAsync(victim);
        await WaitUntilAsync(async () => (await coordinator.GetStatusAsync()).Nodes.All(n => n.Name != victimName || n.Status != "Active"),
            TimeSpan.FromSeconds(60), "the killed silo is declared dead");

        // Every shard still has a live replica: reads answer in full.
        Assert.Equal(200, await coordinator.CountAsync("two"));
        var all = await coordinator.QueryAsync("two", new QueryRequest { Vector = Documents.Vector(new Random(1)), K = 200, Exact = true });
        Assert.Equal(200, all.Count);
        var listed = await coordinator.ListDocumentsAsync("two", limit: 1000);
        Assert.Equal(first.Select(d => d.Id).Order(StringComparer.Ordinal), listed.Documents.Select(d => d.Id));

        // Two replicas, majority: a shard with one replica down cannot meet the rule, so the batch is refused whole.
        var more = Documents.Make(100, seed: 12, prefix: "more");
        var refused = await Assert.ThrowsAsync<VectorStoreException>(() => coordinator.UpsertAsync("two", more));
        Assert.Equal(ErrorCode.Unavailable, refused.Code);
        Assert.Equal(200, await coordinator.CountAsync("two"));

        // Three replicas, majority: two live replicas are enough.
        foreach (var batch in more.Chunk(50))
        {
            await fixture.Coordinator(1).UpsertAsync("three", batch);
        }
        await coordinator.DeleteDocumentAsync("three", "doc-00000");
        Assert.Equal(299, await coordinator.CountAsync("three"));

        // Same instance number, so the same silo name and data folder: the node comes back with its replicas' files.
        var returned = await fixture.Cluster.StartSiloAsync(victim.InstanceNumber, fixture.Cluster.Options);
        Assert.Equal(victimName, returned.Name);
        await WaitUntilAsync(async () => (await coordinator.GetStatusAsync()).Nodes.Any(n => n.Name == victimName && n.Status == "Active"),
            TimeSpan.FromSeconds(60), "the restarted silo is active");

        // The returning replicas compare themselves with their peers before they serve, so each holds every
        // acknowledged write and nothing else.
        var grains = ((InProcessSiloHandle)fixture.Cluster.Silos[0]).SiloHost.Services.GetRequiredService<IGrainFactory>();
        var expected = first.Concat(more).Select(d => d.Id).Where(id => id != "doc-00000").Order(StringComparer.Ordinal).ToArray();
        var status = await coordinator.GetStatusAsync();
        var three = Assert.Single(status.Collections, c => c.Name == "three");
        string incarnation = (await grains.GetGrain<Cluster.Catalog.ICatalogGrain>(Cluster.Catalog.ICatalogGrain.Key).GetAsync("three"))!.Incarnation;
        var idsPerNode = new Dictionary<string, List<string>>();
        foreach (var shard in three.ShardStates)
        {
            foreach (var replica in shard.Replicas)
            {
                var grain = grains.GetGrain<IReplicaGrain>(new ShardKey("three", incarnation, shard.Shard).OnNode(replica.Node).ToString());
                var ids = (await grain.ListAsync(null, 1000, includeVectors: false)).Select(d => d.Id);
                (idsPerNode.TryGetValue(replica.Node, out var list) ? list : idsPerNode[replica.Node] = []).AddRange(ids);
            }
        }
        Assert.Equal(3, idsPerNode.Count);
        Assert.All(idsPerNode.Values, ids => Assert.Equal(expected, ids.Order(StringComparer.Ordinal)));
        var after = await coordinator.GetStatusAsync();
        Assert.All(after.Collections.Single(c => c.Name == "three").ShardStates,
            s => Assert.Single(s.Replicas.Select(r => r.AppliedSequence).Distinct()));

        // With the node back, the two-replica collection takes writes again.
        await coordinator.UpsertAsync("two", more);
        Assert.Equal(300, await fixture.Coordinator(returned).CountAsync("two"));
        await fixture.Cluster.StopSiloAsync(returned);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < timeout, $"Timed out waiting until {what}.");
            await Task.Delay(250);
        }
    }
}
