using VectorStoreDb.Cluster.Catalog;
using VectorStoreDb.Cluster.Replication;
using VectorStoreDb.Cluster.Wire;
using VectorStoreDb.Engine;

namespace VectorStoreDb.ClusterTests;

/// <summary>
/// Snapshots travel between replicas in 1 KiB chunks through a spool file checked against the sender's XxHash128:
/// the copy equals the source, and a corrupted or aborted transfer is caught, retried or refused, and never replaces
/// the replica's old data.
/// </summary>
public sealed class SnapshotTransferTests(SmallChunkClusterFixture fixture) : IClassFixture<SmallChunkClusterFixture>
{
    [Fact]
    public async Task A_move_copies_in_many_chunks_retries_a_corrupted_transfer_and_refuses_one_that_stays_corrupted()
    {
        var coordinator = fixture.Coordinator(0);
        var grains = ClusterFixture.Service<IGrainFactory>(fixture.Cluster.Silos[0]);
        var catalog = grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key);
        await coordinator.CreateCollectionAsync(Documents.Request("chunked", shards: 1), replicas: 2);
        await coordinator.UpsertAsync("chunked", Documents.Make(200, seed: 5, prefix: "m"));
        var entry = (await catalog.GetAsync("chunked"))!;
        var key = new ShardKey("chunked", entry.Incarnation, 0);
        string from = entry.Placement[0][0];
        var target = fixture.LiveSilos.Single(s => !entry.Placement[0].Contains(s.Name));
        var targetStore = ClusterFixture.Service<NodeStore>(target);
        var sourceStore = ClusterFixture.Service<NodeStore>(fixture.LiveSilos.Single(s => s.Name == from));

        // Every attempt corrupted: the move is refused, the placement is unchanged, nothing is left on either side.
        long rejected = targetStore.SnapshotTransfersRejected;
        targetStore.ReceivedChunkFault = (_, offset, chunk) => offset == 2048 ? Flip(chunk) : chunk;
        await Assert.ThrowsAnyAsync<Exception>(() => catalog.MoveReplicaAsync(new ReplicaMove("chunked", 0, from, target.Name)));
        Assert.True(targetStore.SnapshotTransfersRejected - rejected >= 3, $"{targetStore.SnapshotTransfersRejected - rejected} rejected transfers");
        Assert.Equal(entry.Placement[0], (await catalog.GetAsync("chunked"))!.Placement[0]);
        Assert.Throws<VectorStoreException>(() => targetStore.Engine.GetCollection(key.LocalCollection));
        Assert.Empty(Directory.EnumerateFiles(targetStore.SpoolPath));
        Assert.Empty(sourceStore.Engine.ListSnapshots(key.LocalCollection));

        // The first attempt corrupted, the second clean: the move goes through with one rejected transfer.
        rejected = targetStore.SnapshotTransfersRejected;
        long chunks = targetStore.SnapshotChunksReceived;
        targetStore.ReceivedChunkFault = (attempt, offset, chunk) => attempt == 1 && offset == 1024 ? Flip(chunk) : chunk;
        try
        {
            Assert.True(await catalog.MoveReplicaAsync(new ReplicaMove("chunked", 0, from, target.Name)));
        }
        finally
        {
            targetStore.ReceivedChunkFault = null;
        }
        Assert.Equal(1, targetStore.SnapshotTransfersRejected - rejected);
        Assert.True(targetStore.SnapshotChunksReceived - chunks >= 40, $"{targetStore.SnapshotChunksReceived - chunks} chunks");
        Assert.Contains(target.Name, (await catalog.GetAsync("chunked"))!.Placement[0]);
        Assert.Empty(Directory.EnumerateFiles(targetStore.SpoolPath));
        Assert.Empty(sourceStore.Engine.ListSnapshots(key.LocalCollection));

        string peer = (await catalog.GetAsync("chunked"))!.Placement[0].Single(n => n != target.Name);
        await AssertSameDocumentsAsync(grains, key, target.Name, peer, expected: 200);
    }

    [Fact]
    public async Task A_returning_replica_keeps_its_old_data_through_aborted_transfers_then_catches_up_in_chunks()
    {
        var coordinator = fixture.Coordinator(0);
        await coordinator.CreateCollectionAsync(Documents.Request("behind", shards: 1), replicas: 3);
        await coordinator.UpsertAsync("behind", Documents.Make(10, seed: 1, prefix: "early"));

        var victim = fixture.Cluster.Silos[1];
        await fixture.Cluster.StopSiloAsync(victim);
        // 60 single-document writes: far more than the 2 × 16 operations a peer's log holds.
        foreach (var document in Documents.Make(60, seed: 2, prefix: "missed"))
        {
            await coordinator.UpsertAsync("behind", [document]);
        }
        var returned = await fixture.RestartAsync(victim);
        var store = ClusterFixture.Service<NodeStore>(returned);
        // Every transfer to it breaks off after 4 KiB, as when the sender dies mid-stream.
        store.ReceivedChunkFault = (_, offset, chunk) => offset >= 4096 ? throw new IOException("connection lost (test)") : chunk;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!(await coordinator.GetStatusAsync()).Nodes.Any(n => n.Name == returned.Name && n.Status == "Active"))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "the restarted silo did not become active");
            await Task.Delay(250);
        }

        var grains = ClusterFixture.Service<IGrainFactory>(fixture.Cluster.Silos[0]);
        var key = new ShardKey("behind", (await grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key).GetAsync("behind"))!.Incarnation, 0);
        var replica = grains.GetGrain<IReplicaGrain>(key.OnNode(returned.Name).ToString());
        var refused = await Assert.ThrowsAsync<ClusterException>(() => replica.CountAsync());
        Assert.Equal(ErrorCode.Unavailable, refused.Code);
        // Both peers tried, three transfers each, all refused; the old data is untouched and no spool is left.
        Assert.True(store.SnapshotTransfersRejected >= 6, $"{store.SnapshotTransfersRejected} rejected transfers");
        Assert.Equal(10, store.Engine.Count(key.LocalCollection));
        Assert.Equal(1, (await replica.GetStateAsync()).AppliedSequence);
        Assert.False((await replica.GetStateAsync()).Serving);
        Assert.Empty(Directory.EnumerateFiles(store.SpoolPath));

        store.ReceivedChunkFault = null;
        long chunks = store.SnapshotChunksReceived;
        Assert.Equal(70, await replica.CountAsync());
        Assert.True(store.SnapshotChunksReceived - chunks >= 10, $"{store.SnapshotChunksReceived - chunks} chunks");
        Assert.Equal(61, (await replica.GetStateAsync()).AppliedSequence);
        string peer = fixture.LiveSilos.First(s => s.Name != returned.Name).Name;
        await AssertSameDocumentsAsync(grains, key, returned.Name, peer, expected: 70);
        // The silo stays up: the move test (in any order) needs three.
    }

    private static byte[] Flip(byte[] chunk)
    {
        var copy = (byte[])chunk.Clone();
        copy[copy.Length / 2] ^= 0x40;
        return copy;
    }

    private static async Task AssertSameDocumentsAsync(IGrainFactory grains, ShardKey key, string copy, string source, int expected)
    {
        var a = await grains.GetGrain<IReplicaGrain>(key.OnNode(copy).ToString()).ListAsync(null, 10_000, includeVectors: true);
        var b = await grains.GetGrain<IReplicaGrain>(key.OnNode(source).ToString()).ListAsync(null, 10_000, includeVectors: true);
        Assert.Equal(expected, a.Length);
        Assert.Equal(b.Select(d => d.Id), a.Select(d => d.Id));
        for (int i = 0; i < a.Length; i++)
        {
            Assert.Equal(b[i].Text, a[i].Text);
            Assert.Equal(b[i].Vector, a[i].Vector);
            Assert.Equal(b[i].MetadataJson, a[i].MetadataJson);
        }
    }
}
