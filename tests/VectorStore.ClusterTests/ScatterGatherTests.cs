using System.Text.Json;
using VectorStoreDb.Engine;
using VectorStoreDb.Engine.Filtering;

namespace VectorStoreDb.ClusterTests;

/// <summary>A three-silo cluster answers exactly as the single-node engine does on the same documents.</summary>
public sealed class ScatterGatherTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>, IDisposable
{
    private readonly string _singleNodePath = Path.Combine(Path.GetTempPath(), "vs-single-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task Exact_queries_filters_gets_counts_and_listing_equal_the_single_node_answers()
    {
        const string name = "parity";
        var docs = Documents.Make(400, seed: 7);
        using var single = VectorStoreEngine.Open(_singleNodePath);
        await single.CreateCollectionAsync(Documents.Request(name, shards: 3));
        var coordinator = fixture.Coordinator(0);
        await coordinator.CreateCollectionAsync(Documents.Request(name, shards: 3), replicas: 2);
        foreach (var batch in docs.Chunk(150))
        {
            await single.UpsertAsync(name, batch);
            await fixture.Coordinator(1).UpsertAsync(name, batch);
        }

        Assert.Equal(single.Count(name), await coordinator.CountAsync(name));
        Assert.Equal(400, await fixture.Coordinator(2).CountAsync(name));

        var random = new Random(99);
        string[] filters = ["""{"kind":"pet"}""", """{"year":{"$gte":2010}}""", """{"$or":[{"kind":"pet"},{"year":2003}]}"""];
        for (int q = 0; q < 10; q++)
        {
            var vector = Documents.Vector(random);
            string? filterJson = q < 4 ? null : filters[q % filters.Length];
            var request = new QueryRequest { Vector = vector, K = 15, Exact = true, Filter = filterJson is null ? null : MetadataFilter.Parse(JsonDocument.Parse(filterJson).RootElement) };
            var expected = await single.QueryAsync(name, request);
            var actual = await fixture.Coordinator(q % 3).QueryAsync(name, request);
            Assert.Equal(expected.Select(h => h.Id), actual.Select(h => h.Id));
            Assert.Equal(expected.Select(h => h.Score), actual.Select(h => h.Score));
            Assert.All(actual, h => Assert.Equal(single.GetDocument(name, h.Id).Metadata["kind"], h.Metadata["kind"]));
        }

        var got = await coordinator.GetDocumentAsync(name, "doc-00042", includeVector: true);
        var want = single.GetDocument(name, "doc-00042", includeVector: true);
        Assert.Equal(want.Text, got.Text);
        Assert.Equal(want.Vector, got.Vector);
        var missing = await Assert.ThrowsAsync<VectorStoreException>(() => coordinator.GetDocumentAsync(name, "nope"));
        Assert.Equal(ErrorCode.NotFound, missing.Code);

        // Cursor paging and offsets walk the ids in the same order as the engine, page for page.
        string? after = null;
        var listed = new List<string>();
        do
        {
            var page = await coordinator.ListDocumentsAsync(name, limit: 64, after: after);
            var expectedPage = single.ListDocuments(name, limit: 64, after: after);
            Assert.Equal(expectedPage.Documents.Select(d => d.Id), page.Documents.Select(d => d.Id));
            Assert.Equal(expectedPage.NextAfter, page.NextAfter);
            Assert.Equal(400, page.Total);
            listed.AddRange(page.Documents.Select(d => d.Id));
            after = page.NextAfter;
        }
        while (after is not null);
        Assert.Equal(docs.Select(d => d.Id).Order(StringComparer.Ordinal), listed);
        var offsetPage = await coordinator.ListDocumentsAsync(name, offset: 130, limit: 20);
        Assert.Equal(single.ListDocuments(name, offset: 130, limit: 20).Documents.Select(d => d.Id), offsetPage.Documents.Select(d => d.Id));

        // Deletes go through the sequencer like upserts; a second delete of the same id is NotFound, as on one node.
        await coordinator.DeleteDocumentAsync(name, "doc-00001");
        var again = await Assert.ThrowsAsync<VectorStoreException>(() => coordinator.DeleteDocumentAsync(name, "doc-00001"));
        Assert.Equal(ErrorCode.NotFound, again.Code);
        Assert.Equal(399, await fixture.Coordinator(2).CountAsync(name));
    }

    [Fact]
    public async Task Text_and_hybrid_scores_equal_the_single_node_scores()
    {
        const string name = "bm25";
        // Shards see different term frequencies: "rare" words sit mostly in a few documents, so per-shard idf and
        // average length would differ from the collection's and move the scores.
        var random = new Random(11);
        string[] vocabulary = [.. Enumerable.Range(0, 120).Select(i => $"w{i}")];
        var docs = Enumerable.Range(0, 300).Select(i => new DocumentInput
        {
            Id = $"t-{i:D4}",
            Vector = Documents.Vector(random),
            Text = string.Join(' ', Enumerable.Range(0, random.Next(3, 40)).Select(_ => vocabulary[(int)(vocabulary.Length * Math.Pow(random.NextDouble(), 2))])),
            Metadata = new Dictionary<string, MetadataValue> { ["kind"] = MetadataValue.Of(i % 3 == 0 ? "pet" : "plant") },
        }).ToArray();
        var request = Documents.Request(name, shards: 3) with { Text = true };
        using var single = VectorStoreEngine.Open(_singleNodePath);
        await single.CreateCollectionAsync(request);
        await single.UpsertAsync(name, docs);
        await fixture.Coordinator(0).CreateCollectionAsync(request, replicas: 2);
        await fixture.Coordinator(1).UpsertAsync(name, docs);

        string[] queries = ["w3 w40 w77", "w1 w2", "w90 w5 w17 w33", "w60"];
        for (int q = 0; q < queries.Length; q++)
        {
            var vector = Documents.Vector(random);
            var filter = q == 2 ? MetadataFilter.Parse(JsonDocument.Parse("""{"kind":"plant"}""").RootElement) : null;
            QueryRequest[] requests =
            [
                new() { Text = queries[q], Mode = QueryModes.Text, K = 10, Filter = filter, Explain = true },
                new() { Text = queries[q], Vector = vector, Mode = QueryModes.Hybrid, K = 10, Exact = true, Filter = filter, Explain = true },
                new() { Text = queries[q], Vector = vector, Mode = QueryModes.Hybrid, K = 10, Exact = true, Filter = filter, Prefetch = 30, TextWeight = 0.5f, Fusion = FusionKinds.Rrf },
            ];
            foreach (var query in requests)
            {
                var expected = await single.QueryAsync(name, query);
                var actual = await fixture.Coordinator(q % 3).QueryAsync(name, query);
                Assert.Equal(expected.Count, actual.Count);
                Assert.Equal(expected.Select(h => h.Score), actual.Select(h => h.Score), (a, b) => Math.Abs(a - b) <= 1e-5f * Math.Max(1f, Math.Abs(a)));
                // Ids whose score is not tied with the last kept one are the same documents (a tie at the cut may keep either).
                float last = expected[^1].Score;
                var byId = expected.ToDictionary(h => h.Id);
                foreach (var hit in actual.Where(h => h.Score > last + 1e-5f))
                {
                    Assert.True(byId.TryGetValue(hit.Id, out var want), $"{query.Mode} '{queries[q]}': {hit.Id} is not in the single-node answer");
                    // Ranks may differ by tied documents ahead of this one; the retrievers' scores may not.
                    Assert.Equal(want.Explanation?.DenseScore, hit.Explanation?.DenseScore);
                    Assert.Equal(want.Explanation?.TextScore, hit.Explanation?.TextScore);
                    Assert.Equal(want.Text, hit.Text);
                }
            }
        }
    }

    [Fact]
    public async Task Hnsw_recall_across_shards_matches_the_exact_answer()
    {
        const string name = "recall";
        var coordinator = fixture.Coordinator(0);
        await coordinator.CreateCollectionAsync(Documents.Request(name, shards: 3, IndexKinds.Hnsw), replicas: 2);
        foreach (var batch in Documents.Make(600, seed: 3).Chunk(200))
        {
            await coordinator.UpsertAsync(name, batch);
        }
        var random = new Random(5);
        int found = 0, total = 0;
        for (int q = 0; q < 20; q++)
        {
            var vector = Documents.Vector(random);
            var exact = await coordinator.QueryAsync(name, new QueryRequest { Vector = vector, K = 10, Exact = true });
            var approximate = await coordinator.QueryAsync(name, new QueryRequest { Vector = vector, K = 10, Ef = 64 });
            found += approximate.Select(h => h.Id).Intersect(exact.Select(h => h.Id)).Count();
            total += exact.Count;
        }
        Assert.True(found >= 0.95 * total, $"recall@10 was {(double)found / total:P1}");
    }

    [Fact]
    public async Task Refused_input_changes_nothing_on_any_shard()
    {
        const string name = "refusals";
        var coordinator = fixture.Coordinator(0);
        await coordinator.CreateCollectionAsync(Documents.Request(name, shards: 3), replicas: 2);
        await coordinator.UpsertAsync(name, Documents.Make(30, seed: 1));

        var batch = Documents.Make(20, seed: 2, prefix: "new");
        batch[17] = batch[17] with { Vector = new float[Documents.Dimension + 1] };
        var refused = await Assert.ThrowsAsync<VectorStoreException>(() => coordinator.UpsertAsync(name, batch));
        Assert.Equal(ErrorCode.InvalidArgument, refused.Code);
        Assert.Equal("documents[17].vector", refused.Field);
        Assert.Equal(30, await coordinator.CountAsync(name));

        var duplicate = await Assert.ThrowsAsync<VectorStoreException>(() => coordinator.CreateCollectionAsync(Documents.Request(name, shards: 1)));
        Assert.Equal(ErrorCode.AlreadyExists, duplicate.Code);
        var badMetric = await Assert.ThrowsAsync<VectorStoreException>(() => coordinator.CreateCollectionAsync(Documents.Request("bad-metric", 2) with { Metric = "manhattan" }));
        Assert.Equal(ErrorCode.InvalidArgument, badMetric.Code);
        var tooMany = await Assert.ThrowsAsync<VectorStoreException>(() => coordinator.CreateCollectionAsync(Documents.Request("too-many", 2), replicas: 4));
        Assert.Equal(ErrorCode.FailedPrecondition, tooMany.Code);
        Assert.DoesNotContain(await coordinator.ListCollectionsAsync(), c => c.Settings.Name is "bad-metric" or "too-many");
    }

    [Fact]
    public async Task Placement_spreads_every_shard_over_distinct_nodes()
    {
        const string name = "placement";
        var coordinator = fixture.Coordinator(0);
        await coordinator.CreateCollectionAsync(Documents.Request(name, shards: 6), replicas: 2);
        var status = await coordinator.GetStatusAsync();
        Assert.Equal(3, status.Nodes.Count(n => n.Status == "Active"));
        var collection = Assert.Single(status.Collections, c => c.Name == name);
        Assert.Equal(6, collection.ShardStates.Count);
        Assert.All(collection.ShardStates, s =>
        {
            Assert.Equal(2, s.Replicas.Count);
            Assert.Equal(2, s.Replicas.Select(r => r.Node).Distinct().Count());
            Assert.All(s.Replicas, r => Assert.True(r.Reachable, r.Error));
        });
        var perNode = collection.ShardStates.SelectMany(s => s.Replicas).GroupBy(r => r.Node).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(3, perNode.Count);
        Assert.All(perNode.Values, n => Assert.Equal(4, n));
    }

    public void Dispose()
    {
        if (Directory.Exists(_singleNodePath))
        {
            Directory.Delete(_singleNodePath, recursive: true);
        }
    }
}
