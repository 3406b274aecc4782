using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using VectorStoreDb.Cluster;
using VectorStoreDb.Cluster.Catalog;
using VectorStoreDb.Cluster.Replication;
using VectorStoreDb.Engine;
using Xunit.Abstractions;

namespace VectorStoreDb.ClusterTests;

/// <summary>
/// Replicas move while a writer and a reader keep going: a fourth silo joins and gets its share by itself, then a
/// node is drained. Afterwards every acknowledged write is there once, on every replica, and nothing else is.
/// </summary>
public sealed class RebalanceTests(RebalanceClusterFixture fixture, ITestOutputHelper output) : IClassFixture<RebalanceClusterFixture>
{
    private const string Name = "moving";

    [Fact]
    public async Task A_joining_node_and_a_drained_node_move_replicas_while_writes_and_reads_go_on()
    {
        var coordinator = fixture.Coordinator(0);
        await coordinator.CreateCollectionAsync(Documents.Request(Name, shards: 4), replicas: 2);
        var initial = Documents.Make(200, seed: 21, prefix: "first");
        await coordinator.UpsertAsync(Name, initial);

        var written = new ConcurrentDictionary<string, DocumentInput>(initial.ToDictionary(d => d.Id!));
        var unacknowledged = new ConcurrentBag<string>();
        var readErrors = new ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            var random = new Random(22);
            for (int batch = 0; !stop.IsCancellationRequested; batch++)
            {
                // New documents, and a rewrite of an earlier one, so a replayed write would show as a duplicate.
                var docs = Documents.Make(10, seed: 100 + batch, prefix: $"w{batch:D4}").ToList();
                var rewrite = initial[random.Next(initial.Length)] with { Text = $"rewritten in batch {batch}" };
                docs.Add(rewrite);
                try
                {
                    await fixture.Coordinator(batch % 3).UpsertAsync(Name, docs);
                    foreach (var d in docs)
                    {
                        written[d.Id!] = d;
                    }
                }
                catch (VectorStoreException ex) when (ex.Code == ErrorCode.Unavailable)
                {
                    docs.ForEach(d => unacknowledged.Add(d.Id!));
                }
                await Task.Delay(20);
            }
        });
        var reader = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                int before = written.Count;
                try
                {
                    long count = await fixture.Coordinator(1).CountAsync(Name);
                    if (count < before)
                    {
                        readErrors.Add($"count {count} < {before} acknowledged");
                    }
                    var page = await fixture.Coordinator(2).ListDocumentsAsync(Name, limit: 1000);
                    if (page.Documents.Select(d => d.Id).Distinct().Count() != page.Documents.Count)
                    {
                        readErrors.Add("a listing held an id twice");
                    }
                }
                catch (VectorStoreException ex) when (ex.Code == ErrorCode.Unavailable)
                {
                    // A clear refusal is allowed while a replica moves; a wrong answer is not.
                }
            }
        });

        try
        {
            await fixture.Cluster.StartAdditionalSiloAsync();
            // A shard in the middle of a move lists both its old and its new node for a moment, so wait for the end.
            await WaitUntilAsync(async () =>
                {
                    var perNode = Replicas(await coordinator.GetStatusAsync()).GroupBy(n => n).ToList();
                    return perNode.Count == 4 && perNode.All(g => g.Count() == 2);
                },
                TimeSpan.FromSeconds(90), "the joining node holds its share and every node 2 of the 8 replicas");

            string drained = fixture.Cluster.Silos[1].Name;
            var moves = await fixture.Coordinator(2).DrainAsync(drained);
            Assert.Equal(2, moves.Count);
            Assert.DoesNotContain(drained, Replicas(await coordinator.GetStatusAsync()));
            await Task.Delay(500);
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(writer, reader);
        }

        output.WriteLine($"{written.Count} documents acknowledged, {unacknowledged.Count} writes refused with Unavailable during the moves");
        Assert.Empty(readErrors);
        Assert.True(written.Count > initial.Length, "the writer got writes through during the moves");
        var expected = written.Keys.Order(StringComparer.Ordinal).ToArray();
        var maybe = unacknowledged.ToHashSet(StringComparer.Ordinal);

        // Every replica of every shard holds the same documents: each acknowledged one once, nothing unexplained.
        var grains = ((InProcessSiloHandle)fixture.Cluster.Silos[0]).SiloHost.Services.GetRequiredService<IGrainFactory>();
        var entry = (await grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key).GetAsync(Name))!;
        var all = new List<string>();
        for (int shard = 0; shard < entry.Shards; shard++)
        {
            Assert.Equal(2, entry.Placement[shard].Length);
            List<string>? first = null;
            foreach (string node in entry.Placement[shard])
            {
                var replica = grains.GetGrain<IReplicaGrain>(new ShardKey(Name, entry.Incarnation, shard).OnNode(node).ToString());
                var docs = await ListAllAsync(replica);
                var ids = docs.Select(d => d.Id).ToList();
                Assert.Equal(ids.Count, ids.Distinct().Count());
                if (first is null)
                {
                    first = ids;
                    all.AddRange(ids);
                    foreach (var doc in docs.Where(d => written.ContainsKey(d.Id) && !maybe.Contains(d.Id)))
                    {
                        Assert.Equal(written[doc.Id].Text, doc.Text);
                    }
                }
                else
                {
                    Assert.Equal(first, ids);
                }
            }
        }
        Assert.Empty(expected.Except(all));
        Assert.All(all.Except(expected), id => Assert.Contains(id, maybe));
        Assert.Equal(all.Count, await coordinator.CountAsync(Name));
    }

    private static async Task<List<Cluster.Wire.ShardDocument>> ListAllAsync(IReplicaGrain replica)
    {
        var all = new List<Cluster.Wire.ShardDocument>();
        string? after = null;
        while (true)
        {
            var page = await replica.ListAsync(after, 1000, includeVectors: false);
            all.AddRange(page);
            if (page.Length < 1000)
            {
                return all;
            }
            after = page[^1].Id;
        }
    }

    private static IEnumerable<string> Replicas(ClusterStatus status) =>
        status.Collections.Single(c => c.Name == Name).ShardStates.SelectMany(s => s.Replicas.Select(r => r.Node));

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
