using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using VectorStoreDb.Cluster.Catalog;
using VectorStoreDb.Cluster.Replication;
using VectorStoreDb.Cluster.Wire;

namespace VectorStoreDb.ClusterTests;

/// <summary>
/// A sequencer dies after one replica applied its write; a new sequencer, which could not reach that replica, gives
/// the same sequence number to another write and gets it acknowledged. The replica that kept the first write must
/// not mistake the second for one it already has: it gives up the unacknowledged write and holds the acknowledged one.
/// The history is played straight against the replica grains, step by step, so the race is the same every run.
/// </summary>
public sealed class SequencerEpochTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task A_replica_holding_an_unacknowledged_write_under_a_reused_number_converges_on_the_acknowledged_one()
    {
        var coordinator = fixture.Coordinator(0);
        await coordinator.CreateCollectionAsync(Documents.Request("fork", shards: 1), replicas: 3);
        await coordinator.UpsertAsync("fork", Documents.Make(1, seed: 1, prefix: "first"));

        var grains = ((InProcessSiloHandle)fixture.Cluster.Silos[0]).SiloHost.Services.GetRequiredService<IGrainFactory>();
        var entry = (await grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key).GetAsync("fork"))!;
        var replicas = entry.Placement[0].Select(n => grains.GetGrain<IReplicaGrain>(new ShardKey("fork", entry.Incarnation, 0).OnNode(n).ToString())).ToArray();
        Assert.Equal(3, replicas.Length);
        var start = await replicas[0].GetStateAsync();
        Assert.Equal(1, start.AppliedSequence);
        long old = start.LastEpoch;
        Assert.True(old > 0, "the first write carries its sequencer's epoch");

        // The old sequencer numbers "orphan" 2 and dies after only the third replica applied it: never acknowledged.
        await replicas[2].ApplyAsync(new ReplicaOperation(2, [Wire("orphan", 7)], null, old, old));
        // A new sequencer that could not reach the third replica starts a newer epoch on the other two and gives 2 to
        // "kept".
        long newer = old + 1;
        Assert.True((await replicas[0].PromiseAsync(newer)).Accepted);
        Assert.True((await replicas[1].PromiseAsync(newer)).Accepted);
        Assert.False((await replicas[1].PromiseAsync(newer)).Accepted);
        var kept = new ReplicaOperation(2, [Wire("kept", 8)], null, newer, old);
        await replicas[0].ApplyAsync(kept);
        await replicas[1].ApplyAsync(kept);
        // The third replica is back in time for the same operation. It already has a number 2, from the old epoch: it
        // must not answer "already applied", but copy a peer that has the new history and then hold "kept".
        await replicas[2].ApplyAsync(kept);
        var third = (await replicas[2].ListAsync(null, 100, includeVectors: false)).Select(d => d.Id).ToArray();
        Assert.Contains("kept", third);
        Assert.DoesNotContain("orphan", third);

        // The old epoch is fenced off where the new one was promised.
        await Assert.ThrowsAnyAsync<Exception>(() => replicas[0].ApplyAsync(new ReplicaOperation(3, [Wire("late", 9)], null, old, old)));

        // The shard's real sequencer still numbers in the old epoch: its next write is refused by the promising
        // replicas, so it starts a newer epoch from the replica furthest along, and a retry goes through.
        var written = false;
        for (int attempt = 0; attempt < 3 && !written; attempt++)
        {
            try
            {
                await coordinator.UpsertAsync("fork", Documents.Make(1, seed: 2, prefix: "after"));
                written = true;
            }
            catch (VectorStoreDb.Engine.VectorStoreException ex) when (ex.Code == VectorStoreDb.Engine.ErrorCode.Unavailable)
            {
                // Expected once: the write that finds out the sequencer's epoch is stale.
            }
        }
        Assert.True(written, "a write after the new epoch was refused three times");

        string[] expected = ["after-00000", "first-00000", "kept"];
        foreach (var replica in replicas)
        {
            var state = await replica.GetStateAsync();
            var ids = (await replica.ListAsync(null, 100, includeVectors: false)).Select(d => d.Id).Order(StringComparer.Ordinal).ToArray();
            Assert.True(expected.SequenceEqual(ids), $"replica on {state.Node} at {state.AppliedSequence} (epoch {state.LastEpoch}) holds {string.Join(", ", ids)}");
            Assert.True(state.LastEpoch > newer, $"replica on {state.Node} is at epoch {state.LastEpoch}");
        }
        var positions = await Task.WhenAll(replicas.Select(r => r.GetStateAsync()));
        Assert.Single(positions.Select(p => (p.AppliedSequence, p.LastEpoch)).Distinct());
    }

    /// <summary>
    /// A replica moves while a write is on its way: the write was numbered for the old set of replicas, and the
    /// catalog names the joining replica before the sequencer has read the new placement. A read of the joining
    /// replica in that moment must not make it serve early, or the write, acknowledged without it, would be missing
    /// from its answers afterwards. The write is held in the sequencer so that the moment is there every run.
    /// </summary>
    [Fact]
    public async Task A_joining_replica_does_not_serve_reads_that_miss_a_write_sent_to_the_old_replicas()
    {
        var coordinator = fixture.Coordinator(0);
        await coordinator.CreateCollectionAsync(Documents.Request("joining", shards: 1), replicas: 2);
        await coordinator.UpsertAsync("joining", Documents.Make(10, seed: 3, prefix: "before"));
        var grains = ClusterFixture.Service<IGrainFactory>(fixture.Cluster.Silos[0]);
        var catalog = grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key);
        var entry = (await catalog.GetAsync("joining"))!;
        var key = new ShardKey("joining", entry.Incarnation, 0);
        string from = entry.Placement[0][1];
        var target = fixture.LiveSilos.Single(s => !entry.Placement[0].Contains(s.Name));
        var joining = grains.GetGrain<IReplicaGrain>(key.OnNode(target.Name).ToString());

        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stores = fixture.LiveSilos.Select(ClusterFixture.Service<NodeStore>).ToArray();
        foreach (var store in stores)
        {
            store.BeforeSequencerWrite = (shard, _) =>
            {
                if (shard != key.ToString())
                {
                    return Task.CompletedTask;
                }
                held.TrySetResult();
                return release.Task;
            };
        }
        Task write;
        Task<bool> move;
        Task<long>? earlyRead = null;
        try
        {
            write = coordinator.UpsertAsync("joining", Documents.Make(1, seed: 4, prefix: "during"));
            await held.Task.WaitAsync(TimeSpan.FromSeconds(30));
            move = catalog.MoveReplicaAsync(new ReplicaMove("joining", 0, from, target.Name));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (!(await catalog.GetAsync("joining"))!.Placement[0].Contains(target.Name))
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "the catalog did not name the joining replica");
                await Task.Delay(20);
            }
            // The catalog names the joining replica; the sequencer still holds a write numbered for the old set.
            earlyRead = joining.CountAsync();
            await Task.WhenAny(earlyRead, Task.Delay(500));
        }
        finally
        {
            release.TrySetResult();
            foreach (var store in stores)
            {
                store.BeforeSequencerWrite = null;
            }
        }
        await write;
        Assert.True(await move);
        try
        {
            long early = await earlyRead!;
            Assert.InRange(early, 10, 11);
        }
        catch (ClusterException ex) when (ex.Code == VectorStoreDb.Engine.ErrorCode.Unavailable)
        {
            // Refusing to answer before it takes part in the writes is fine too.
        }

        // Acknowledged before these reads began: every replica has it, the joined one included, read by grain call or
        // straight from its node's engine.
        Assert.Equal(11, await joining.CountAsync());
        Assert.Equal(11, await fixture.Coordinator(target).CountAsync("joining"));
        var ids = (await joining.ListAsync(null, 100, includeVectors: false)).Select(d => d.Id).ToArray();
        Assert.Contains("during-00000", ids);
    }

    private static ReplicaDocument Wire(string id, int seed) => new(id, null, Documents.Vector(new Random(seed)), null);
}
