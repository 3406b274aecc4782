using System.Text.Json;
using VectorStoreDb.Cluster;
using VectorStoreDb.Engine;
using VectorStoreDb.Engine.Filtering;
using VectorStoreDb.Rag;

namespace VectorStoreDb.ClusterTests;

/// <summary>
/// Batch get, scroll, batch queries and chat retrieval through a three-silo cluster answer exactly as the single-node
/// engine does on the same documents and shards.
/// </summary>
public sealed class ClusterReadParityTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>, IDisposable
{
    private readonly string _singleNodePath = Path.Combine(Path.GetTempPath(), "vs-single-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task Batch_get_and_scroll_equal_the_single_node_pages()
    {
        const string name = "bulk";
        var docs = Documents.Make(300, seed: 21);
        using var single = VectorStoreEngine.Open(_singleNodePath);
        await single.CreateCollectionAsync(Documents.Request(name, shards: 3));
        await single.UpsertAsync(name, docs);
        await fixture.Coordinator(0).CreateCollectionAsync(Documents.Request(name, shards: 3), replicas: 2);
        await fixture.Coordinator(1).UpsertAsync(name, docs);
        var coordinator = fixture.Coordinator(2);

        // Request order, missing ids left out, a repeated id returned twice, ids from every shard.
        string[] ids = ["doc-00250", "nope", "doc-00003", "doc-00117", "doc-00003", "doc-00042", "also-missing", "doc-00299"];
        var expected = await single.GetDocumentsAsync(name, ids, includeVectors: true);
        var actual = await coordinator.GetDocumentsAsync(name, ids, includeVectors: true);
        Assert.Equal(["doc-00250", "doc-00003", "doc-00117", "doc-00003", "doc-00042", "doc-00299"], actual.Select(d => d.Id));
        AssertSameDocuments(expected, actual);
        Assert.Empty(await coordinator.GetDocumentsAsync(name, ["nope"]));
        var tooMany = await Assert.ThrowsAsync<VectorStoreException>(() => coordinator.GetDocumentsAsync(name, [.. Enumerable.Range(0, 1001).Select(i => $"x{i}")]));
        Assert.Equal((await Assert.ThrowsAsync<VectorStoreException>(() => single.GetDocumentsAsync(name, [.. Enumerable.Range(0, 1001).Select(i => $"x{i}")]))).Field, tooMany.Field);
        Assert.Equal(ErrorCode.NotFound, (await Assert.ThrowsAsync<VectorStoreException>(() => coordinator.GetDocumentsAsync("no-such", ["a"]))).Code);

        // Every page and cursor of a scroll equals the engine's: id order with and without a filter, ordered by a field
        // both ways (years repeat, so ids break the ties across shards).
        var pet = Filter("""{"kind":"pet"}""");
        ScrollRequest[] scrolls =
        [
            new() { Limit = 41 },
            new() { Limit = 17, Filter = pet, IncludeVectors = true },
            new() { Limit = 23, OrderBy = new ScrollOrder("year") },
            new() { Limit = 50, OrderBy = new ScrollOrder("year", Descending: true), Filter = Filter("""{"year":{"$gte":2010}}""") },
        ];
        foreach (var first in scrolls)
        {
            var request = first;
            var seen = new List<string>();
            int pages = 0;
            while (true)
            {
                var want = await single.ScrollAsync(name, request);
                var got = await fixture.Coordinator(pages % 3).ScrollAsync(name, request);
                AssertSameDocuments(want.Documents, got.Documents);
                Assert.Equal(want.Next, got.Next);
                seen.AddRange(got.Documents.Select(d => d.Id));
                pages++;
                if (got.Next is null)
                {
                    break;
                }
                request = request with { After = got.Next };
            }
            int matching = docs.Count(d => first.Filter is null || first.Filter.Matches(d.Metadata!));
            Assert.Equal(matching, seen.Count);
            Assert.Equal(matching, seen.Distinct().Count());
            Assert.True(pages > 1, "the scroll should take several pages");
        }

        // A cursor of another order is refused with the engine's own message.
        var idCursor = (await coordinator.ScrollAsync(name, new ScrollRequest { Limit = 5 })).Next;
        var wrong = await Assert.ThrowsAsync<VectorStoreException>(() => coordinator.ScrollAsync(name, new ScrollRequest { Limit = 5, After = idCursor, OrderBy = new ScrollOrder("year") }));
        var wrongSingle = await Assert.ThrowsAsync<VectorStoreException>(() => single.ScrollAsync(name, new ScrollRequest { Limit = 5, After = idCursor, OrderBy = new ScrollOrder("year") }));
        Assert.Equal((wrongSingle.Code, wrongSingle.Field, wrongSingle.Message), (wrong.Code, wrong.Field, wrong.Message));
        var badLimit = await Assert.ThrowsAsync<VectorStoreException>(() => coordinator.ScrollAsync(name, new ScrollRequest { Limit = 0 }));
        Assert.Equal("limit", badLimit.Field);
    }

    [Fact]
    public async Task Batch_queries_equal_the_single_node_answers_and_name_the_refused_query()
    {
        const string name = "batch";
        // Words drawn unevenly from a small vocabulary, so BM25 scores rarely tie (a tie at the cut may keep either
        // document, on one node as in a cluster).
        var words = new Random(6);
        var docs = Documents.Make(240, seed: 5)
            .Select(d => d with { Text = string.Join(' ', Enumerable.Range(0, words.Next(3, 30)).Select(_ => $"w{(int)(80 * Math.Pow(words.NextDouble(), 2))}")) })
            .ToArray();
        var create = Documents.Request(name, shards: 3) with { Text = true };
        using var single = VectorStoreEngine.Open(_singleNodePath);
        await single.CreateCollectionAsync(create);
        await single.UpsertAsync(name, docs);
        await fixture.Coordinator(1).CreateCollectionAsync(create, replicas: 2);
        await fixture.Coordinator(0).UpsertAsync(name, docs);

        var random = new Random(8);
        var queries = new List<QueryRequest>();
        for (int i = 0; i < 12; i++)
        {
            // Batched together on every shard (dense, no filter, same k and exact) ...
            queries.Add(new QueryRequest { Vector = Documents.Vector(random), K = 7, Exact = true, Explain = i == 3 });
        }
        // ... and one by one: filters, another k, text and hybrid (which need the collection-wide statistics).
        queries.Add(new QueryRequest { Vector = Documents.Vector(random), K = 12, Exact = true, Filter = Filter("""{"kind":"plant"}""") });
        queries.Add(new QueryRequest { Vector = Documents.Vector(random), K = 3, Exact = true });
        queries.Add(new QueryRequest { Text = "w17 w3 w60", Mode = QueryModes.Text, K = 5 });
        queries.Add(new QueryRequest { Text = "w40 w2", Vector = Documents.Vector(random), Mode = QueryModes.Hybrid, K = 6, Exact = true });

        var expected = await single.QueryBatchAsync(name, queries);
        var actual = await fixture.Coordinator(2).QueryBatchAsync(name, queries);
        Assert.Equal(queries.Count, actual.Count);
        for (int i = 0; i < queries.Count; i++)
        {
            Assert.True(expected[i].Select(h => h.Score).SequenceEqual(actual[i].Select(h => h.Score), new ScoreComparer()),
                $"query {i}: [{string.Join(", ", expected[i].Select(h => h.Score))}] vs [{string.Join(", ", actual[i].Select(h => h.Score))}]");
            if (queries[i].Mode is null)
            {
                // Dense exact: the same documents in the same order, with the same explanation ranks.
                Assert.Equal(expected[i].Select(h => h.Id), actual[i].Select(h => h.Id));
                Assert.Equal(expected[i].Select(h => h.Explanation), actual[i].Select(h => h.Explanation));
                Assert.Equal(expected[i].Select(h => h.Metadata["year"]), actual[i].Select(h => h.Metadata["year"]));
            }
        }
        Assert.NotNull(actual[3][0].Explanation);
        // Each answer equals the single query's answer through the cluster, too.
        Assert.Equal((await fixture.Coordinator(0).QueryAsync(name, queries[12])).Select(h => h.Id), actual[12].Select(h => h.Id));

        // Refusals name the query as the engine does: a rule checked before any shard (k) and one only a replica
        // knows (the vector's dimension), which makes the shards' batch fail and the queries run one by one.
        foreach (var (index, bad) in new[] { (4, queries[4] with { K = 0 }), (9, queries[9] with { Vector = [1f, 2f] }) })
        {
            var withBad = queries.ToList();
            withBad[index] = bad;
            var want = await Assert.ThrowsAsync<VectorStoreException>(() => single.QueryBatchAsync(name, withBad));
            var got = await Assert.ThrowsAsync<VectorStoreException>(() => fixture.Coordinator(1).QueryBatchAsync(name, withBad));
            Assert.Equal((want.Code, want.Field), (got.Code, got.Field));
            Assert.StartsWith($"queries[{index}].", got.Field);
        }
        var empty = await Assert.ThrowsAsync<VectorStoreException>(() => fixture.Coordinator(1).QueryBatchAsync(name, []));
        Assert.Equal("queries", empty.Field);
    }

    [Fact]
    public async Task Chat_retrieves_the_same_passages_through_the_cluster()
    {
        const string name = "chat";
        // The demo encoder and the collection's default (dense) mode: chat asks for chunk hits, as on one node.
        var create = new CreateCollectionRequest { Name = name, Shards = 3 };
        string[] topics = ["harbour", "glacier", "orchard", "volcano", "library", "meadow"];
        var docs = Enumerable.Range(0, 90).Select(i => new DocumentInput
        {
            Id = $"p-{i:D3}",
            Text = $"The {topics[i % topics.Length]} note {i}: visitors to the {topics[(i * 7) % topics.Length]} come in season {i % 4}.",
            Metadata = new Dictionary<string, MetadataValue> { ["season"] = MetadataValue.Of(i % 4) },
        }).ToArray();
        using var single = VectorStoreEngine.Open(_singleNodePath);
        await single.CreateCollectionAsync(create);
        await single.UpsertAsync(name, docs);
        await fixture.Coordinator(0).CreateCollectionAsync(create, replicas: 2);
        await fixture.Coordinator(2).UpsertAsync(name, docs);

        var generators = new GeneratorRegistry(new RagOptions());
        var local = new RagService(single, generators);
        var clustered = new RagService(single, generators, retriever: new CoordinatorRetriever(fixture.Coordinator(1)));
        // The clustered service must not read the single-node engine: a name only the cluster has proves it.
        await fixture.Coordinator(1).CreateCollectionAsync(new CreateCollectionRequest { Name = "cluster-only", Shards = 2 }, replicas: 1);
        await fixture.Coordinator(1).UpsertAsync("cluster-only", docs.Take(10).ToArray());
        Assert.NotEmpty((await clustered.ChatAsync("cluster-only", new RagRequest { Question = "glacier visitors" })).Citations);
        Assert.Equal(ErrorCode.NotFound, (await Assert.ThrowsAsync<VectorStoreException>(() => local.ChatAsync("cluster-only", new RagRequest { Question = "glacier" }))).Code);

        RagRequest[] requests =
        [
            new() { Question = "Who visits the glacier?", K = 5 },
            new() { Question = "orchard in season", K = 8, Filter = Filter("""{"season":2}""") },
            new() { Messages = [new RagMessage("user", "tell me about the volcano library")], K = 4 },
        ];
        foreach (var request in requests)
        {
            var want = await local.ChatAsync(name, request);
            var got = await clustered.ChatAsync(name, request);
            Assert.Equal(want.Citations.Select(c => (c.DocumentId, c.Chunk, c.Text)), got.Citations.Select(c => (c.DocumentId, c.Chunk, c.Text)));
            Assert.Equal(want.Citations.Select(c => c.Score), got.Citations.Select(c => c.Score), (a, b) => Math.Abs(a - b) <= 1e-5f);
            Assert.Equal(want.Answer, got.Answer);
            Assert.NotEmpty(got.Citations);
        }
        Assert.Equal(ErrorCode.NotFound, (await Assert.ThrowsAsync<VectorStoreException>(() => clustered.ChatAsync("missing", new RagRequest { Question = "x" }))).Code);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_singleNodePath, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private sealed class ScoreComparer : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= 1e-5f * Math.Max(1f, Math.Abs(a));

        public int GetHashCode(float value) => 0;
    }

    private static MetadataFilter Filter(string json) => MetadataFilter.Parse(JsonDocument.Parse(json).RootElement);

    private static void AssertSameDocuments(IReadOnlyList<Document> expected, IReadOnlyList<Document> actual)
    {
        Assert.Equal(expected.Select(d => d.Id), actual.Select(d => d.Id));
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Text, actual[i].Text);
            Assert.Equal(expected[i].Vector, actual[i].Vector);
            Assert.Equal(expected[i].Metadata.OrderBy(p => p.Key), actual[i].Metadata.OrderBy(p => p.Key));
        }
    }

    /// <summary>Chat retrieval through a node's coordinator, as the server wires it in cluster mode.</summary>
    private sealed class CoordinatorRetriever(ClusterCoordinator coordinator) : IRagRetriever
    {
        public Task<CollectionSettings> GetSettingsAsync(string collection, CancellationToken cancellationToken) =>
            coordinator.GetSettingsAsync(collection, cancellationToken);

        public Task<IReadOnlyList<QueryHit>> QueryAsync(string collection, QueryRequest request, CancellationToken cancellationToken) =>
            coordinator.QueryAsync(collection, request, cancellationToken);
    }
}
