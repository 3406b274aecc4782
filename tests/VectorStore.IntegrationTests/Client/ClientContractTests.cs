using VectorStoreDb.Client;
using VectorStoreDb.IntegrationTests.Rest;

namespace VectorStoreDb.IntegrationTests.Client;

/// <summary>
/// What every <see cref="IVectorStoreClient"/> must do, written once and run against each implementation
/// (embedded store, gRPC client against a real server). Uses only the interface; every test works in
/// collections with fresh unique names, so one server may serve all tests, in parallel, without cleanup.
/// </summary>
public abstract class ClientContractTests : IDisposable
{
    private IVectorStoreClient? _client;

    /// <summary>Makes the client under test; called once per test, disposed after it.</summary>
    protected abstract IVectorStoreClient CreateClient();

    protected IVectorStoreClient Client => _client ??= CreateClient();

    internal static string NewName(string prefix = "c") => $"{prefix}-{Guid.NewGuid():N}";

    // ---------------------------------------------------------------- collections

    [Fact]
    public async Task Create_get_list_and_delete_a_text_collection()
    {
        string name = NewName();
        var demo = (await Client.ListModelsAsync()).Single(m => m.Name == "demo");

        var created = await Client.CreateCollectionAsync(name);

        Assert.Equal(name, created.Name);
        Assert.Equal(DistanceMetric.Cosine, created.Metric);
        Assert.Equal("demo", created.Encoder);
        Assert.Equal(demo.Dimension, created.Dimension);
        Assert.Equal(0, created.DocumentCount);
        Assert.InRange(created.CreatedAt, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5));

        var fetched = await Client.GetCollectionAsync(name);
        Assert.Equal(created.Name, fetched.Name);
        Assert.Equal(created.Dimension, fetched.Dimension);
        Assert.Equal(created.Index, fetched.Index);
        Assert.Contains(await Client.ListCollectionsAsync(), c => c.Name == name);

        await Client.DeleteCollectionAsync(name);

        await AssertRefused(VectorStoreErrorCode.NotFound, "name", () => Client.GetCollectionAsync(name));
        Assert.DoesNotContain(await Client.ListCollectionsAsync(), c => c.Name == name);
    }

    [Theory]
    [InlineData(DistanceMetric.Cosine)]
    [InlineData(DistanceMetric.Dot)]
    [InlineData(DistanceMetric.L2)]
    public async Task Raw_vector_collection_keeps_its_metric_and_dimension(DistanceMetric metric)
    {
        string name = NewName();
        var created = await Client.CreateCollectionAsync(name, new CollectionOptions { Metric = metric, Encoder = "none", Dimension = 3 });

        Assert.Equal(metric, created.Metric);
        Assert.Null(created.Encoder);
        Assert.Equal(3, created.Dimension);
        var fetched = await Client.GetCollectionAsync(name);
        Assert.Equal(metric, fetched.Metric);
        Assert.Null(fetched.Encoder);
        Assert.Equal(3, fetched.Dimension);
    }

    [Fact]
    public async Task Raw_vector_collection_needs_only_a_dimension()
    {
        var created = await Client.CreateCollectionAsync(NewName(), new CollectionOptions { Dimension = 8 });
        Assert.Null(created.Encoder);
        Assert.Equal(8, created.Dimension);
    }

    [Fact]
    public async Task Creating_a_taken_name_is_refused_with_AlreadyExists()
    {
        string name = NewName();
        await Client.CreateCollectionAsync(name);

        await AssertRefused(VectorStoreErrorCode.AlreadyExists, "name", () => Client.CreateCollectionAsync(name));
    }

    [Fact]
    public async Task Unknown_collection_is_NotFound_everywhere()
    {
        string name = NewName("missing");
        await AssertRefused(VectorStoreErrorCode.NotFound, "name", () => Client.GetCollectionAsync(name));
        await AssertRefused(VectorStoreErrorCode.NotFound, "name", () => Client.DeleteCollectionAsync(name));
        await AssertRefused(VectorStoreErrorCode.NotFound, "name", () => Client.UpsertAsync(name, [new DocumentWrite { Text = "hello" }]));
        await AssertRefused(VectorStoreErrorCode.NotFound, "name", () => Client.GetDocumentAsync(name, "x"));
        await AssertRefused(VectorStoreErrorCode.NotFound, "name", () => Client.CountAsync(name));
        await AssertRefused(VectorStoreErrorCode.NotFound, "name", () => Client.QueryAsync(name, new SearchQuery { Text = "hello" }));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Upper")]
    [InlineData("has space")]
    [InlineData("dots.not.allowed")]
    [InlineData("a-name-that-is-far-too-long-for-a-collection-because-it-exceeds-64")]
    public async Task Bad_collection_name_is_InvalidArgument(string name)
    {
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "name", () => Client.CreateCollectionAsync(name));
    }

    [Fact]
    public async Task Bad_collection_options_name_their_field()
    {
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "dimension", () => Client.CreateCollectionAsync(NewName(), new CollectionOptions { Encoder = "none" }));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "dimension", () => Client.CreateCollectionAsync(NewName(), new CollectionOptions { Encoder = "demo", Dimension = 7 }));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "encoder", () => Client.CreateCollectionAsync(NewName(), new CollectionOptions { Encoder = "no-such-encoder" }));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "index", () => Client.CreateCollectionAsync(NewName(), new CollectionOptions { Index = "btree" }));
    }

    [Fact]
    public async Task Quantized_collection_reports_its_quantization_and_searches_with_full_vector_scores()
    {
        string name = NewName();
        var created = await Client.CreateCollectionAsync(name, new CollectionOptions { Encoder = "none", Dimension = 32, Index = "exact", Quantization = "int8" });
        Assert.Equal("int8", created.Quantization);
        Assert.Equal(3f, created.Oversampling);
        Assert.True(created.Rescore);
        var fetched = await Client.GetCollectionAsync(name);
        Assert.Equal("int8", fetched.Quantization);
        var plain = await Client.CreateCollectionAsync(NewName(), new CollectionOptions { Encoder = "none", Dimension = 32, Index = "exact" });
        Assert.Equal("none", plain.Quantization);
        Assert.Equal(0f, plain.Oversampling);
        var random = new Random(17);
        var vectors = Enumerable.Range(0, 200).Select(_ => Enumerable.Range(0, 32).Select(_ => (float)random.NextDouble() - 0.5f).ToArray()).ToArray();
        await Client.UpsertAsync(name, vectors.Select((v, i) => new DocumentWrite { Id = $"v{i}", Vector = v }));
        await Client.UpsertAsync(plain.Name, vectors.Select((v, i) => new DocumentWrite { Id = $"v{i}", Vector = v }));
        var expected = await Client.QueryAsync(plain.Name, new SearchQuery { Vector = vectors[9], K = 5 });
        var quantized = await Client.QueryAsync(name, new SearchQuery { Vector = vectors[9], K = 5 });
        Assert.Equal("v9", quantized[0].Id);
        QueryBatchApiTests.AssertSameHits([.. expected.Select(h => (h.Id, h.Score))], [.. quantized.Select(h => (h.Id, h.Score))]);

        var binary = await Client.CreateCollectionAsync(NewName(), new CollectionOptions { Encoder = "none", Dimension = 32, Index = "exact", Quantization = "binary", Oversampling = 10, Rescore = false });
        Assert.Equal("binary", binary.Quantization);
        Assert.Equal(10f, binary.Oversampling);
        Assert.False(binary.Rescore);
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "quantization", () => Client.CreateCollectionAsync(NewName(), new CollectionOptions { Encoder = "none", Dimension = 8, Quantization = "binary" }));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "quantization", () => Client.CreateCollectionAsync(NewName(), new CollectionOptions { Encoder = "none", Dimension = 8, Index = "exact", Quantization = "pq" }));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "oversampling", () => Client.CreateCollectionAsync(NewName(), new CollectionOptions { Encoder = "none", Dimension = 8, Index = "exact", Quantization = "int8", Oversampling = 0 }));
    }

    [Theory]
    [InlineData(null, 1)]
    [InlineData(null, 3)]
    [InlineData("random", 2)]
    public async Task Batch_query_answers_each_query_as_a_single_query_does(string? projection, int shards)
    {
        string name = NewName();
        await Client.CreateCollectionAsync(name, new CollectionOptions { Encoder = "none", Dimension = 16, Projection = projection, Shards = shards });
        var random = new Random(3);
        var vectors = Enumerable.Range(0, 120).Select(_ => Enumerable.Range(0, 16).Select(_ => (float)random.NextDouble() - 0.5f).ToArray()).ToArray();
        await Client.UpsertAsync(name, vectors.Select((v, i) => new DocumentWrite { Id = $"v{i}", Vector = v, Metadata = new Dictionary<string, object?> { ["even"] = i % 2 == 0 } }));
        var queries = Enumerable.Range(0, 24).Select(i => new SearchQuery
        {
            Vector = vectors[i * 5],
            K = 3 + i % 3,
            Exact = i % 2 == 0,
            Filter = i % 6 == 5 ? """{"even":true}""" : null,
            IncludeVectors = i % 4 == 1,
        }).ToList();

        var batch = await Client.QueryBatchAsync(name, queries);

        Assert.Equal(queries.Count, batch.Count);
        for (int i = 0; i < queries.Count; i++)
        {
            var single = await Client.QueryAsync(name, queries[i]);
            Assert.Equal(queries[i].K, single.Count);
            QueryBatchApiTests.AssertSameHits([.. single.Select(h => (h.Id, h.Score))], [.. batch[i].Select(h => (h.Id, h.Score))]);
            Assert.Equal(queries[i].IncludeVectors, batch[i][0].Vector is not null);
        }
        Assert.Equal("v0", batch[0][0].Id);

        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "queries", () => Client.QueryBatchAsync(name, []));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "queries[1].vector",
            () => Client.QueryBatchAsync(name, [new SearchQuery { Vector = vectors[0] }, new SearchQuery { Vector = [1, 2] }]));
        await AssertRefused(VectorStoreErrorCode.NotFound, "name", () => Client.QueryBatchAsync(NewName(), [new SearchQuery { Vector = vectors[0] }]));
    }

    [Fact]
    public async Task Projected_collection_reports_its_projection_and_searches_with_full_vector_scores()
    {
        string name = NewName();
        var created = await Client.CreateCollectionAsync(name, new CollectionOptions { Encoder = "none", Dimension = 32, Projection = "random", IndexDimension = 12 });
        Assert.Equal("random", created.Projection);
        Assert.Equal(12, created.IndexDimension);
        Assert.True(created.Rescore);
        Assert.True(created.ProjectionReady);
        var random = new Random(11);
        var vectors = Enumerable.Range(0, 60).Select(_ => Enumerable.Range(0, 32).Select(_ => (float)random.NextDouble() - 0.5f).ToArray()).ToArray();
        await Client.UpsertAsync(name, vectors.Select((v, i) => new DocumentWrite { Id = $"v{i}", Vector = v }));
        var exact = await Client.QueryAsync(name, new SearchQuery { Vector = vectors[5], K = 3, Exact = true });
        var projected = await Client.QueryAsync(name, new SearchQuery { Vector = vectors[5], K = 3 });
        Assert.Equal("v5", projected[0].Id);
        Assert.Equal(exact.Select(h => (h.Id, h.Score)), projected.Select(h => (h.Id, h.Score)));

        var pca = await Client.CreateCollectionAsync(NewName(), new CollectionOptions { Encoder = "none", Dimension = 32, Projection = "pca" });
        Assert.Equal(16, pca.IndexDimension);
        Assert.Equal(1000, pca.PcaSampleSize);
        Assert.False(pca.ProjectionReady);

        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "indexDimension", () => Client.CreateCollectionAsync(NewName(), new CollectionOptions { Encoder = "none", Dimension = 8, Projection = "random", IndexDimension = 9 }));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "projection", () => Client.CreateCollectionAsync(NewName(), new CollectionOptions { Encoder = "none", Dimension = 8, Projection = "svd" }));
    }

    [Fact]
    public async Task Long_documents_are_chunked_and_hits_carry_the_matching_chunk()
    {
        string name = NewName();
        var created = await Client.CreateCollectionAsync(name, new CollectionOptions { ChunkTokens = 12, ChunkOverlap = 3 });
        Assert.Equal(new ChunkingDescription(12, 3), created.Chunking);
        Assert.Null((await Client.CreateCollectionAsync(NewName(), new CollectionOptions { Chunking = false })).Chunking);
        string text = string.Join(' ', Enumerable.Repeat("alpha beta gamma delta", 12)) + " the orchid greenhouse smelled of rain " + string.Join(' ', Enumerable.Repeat("epsilon zeta", 10));
        await Client.UpsertAsync(name, [new DocumentWrite { Id = "long", Text = text }, new DocumentWrite { Id = "short", Text = "orchid" }]);
        Assert.Equal(2, await Client.CountAsync(name));
        var stored = await Client.GetDocumentAsync(name, "long");
        Assert.Equal(text, stored.Text);
        Assert.True(stored.Chunks!.Count > 3);
        Assert.Equal(0, stored.Chunks[0].Start);
        Assert.Equal(Enumerable.Range(0, stored.Chunks.Count), stored.Chunks.Select(c => c.Chunk));
        Assert.Null((await Client.GetDocumentAsync(name, "short")).Chunks);

        var hits = await Client.QueryAsync(name, new SearchQuery { Text = "orchid greenhouse rain", K = 2 });
        var hit = Assert.Single(hits, h => h.Id == "long");
        var highlight = Assert.IsType<TextHighlight>(hit.Highlight);
        Assert.Equal(text[highlight.Start..highlight.End], highlight.Text);
        Assert.Contains("greenhouse", highlight.Text, StringComparison.Ordinal);
        Assert.Null(Assert.Single(hits, h => h.Id == "short").Highlight);

        var chunks = await Client.QueryAsync(name, new SearchQuery { Text = "orchid greenhouse rain", K = 20, Chunks = true });
        Assert.True(chunks.Count(h => h.Id == "long") > 3);
        Assert.All(chunks, h => Assert.NotNull(h.Highlight));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "chunkOverlap", () => Client.CreateCollectionAsync(NewName(), new CollectionOptions { ChunkTokens = 12, ChunkOverlap = 12 }));
    }

    // ---------------------------------------------------------------- documents

    [Fact]
    public async Task Upsert_returns_given_and_generated_ids_in_order()
    {
        string name = NewName();
        await Client.CreateCollectionAsync(name);

        var ids = await Client.UpsertAsync(name,
        [
            new DocumentWrite { Id = "first", Text = "the first document" },
            new DocumentWrite { Text = "a document without an id" },
            new DocumentWrite { Text = "another document without an id" },
            new DocumentWrite { Id = "last", Text = "the last document" },
        ]);

        Assert.Equal(4, ids.Count);
        Assert.Equal("first", ids[0]);
        Assert.Equal("last", ids[3]);
        Assert.False(string.IsNullOrWhiteSpace(ids[1]));
        Assert.False(string.IsNullOrWhiteSpace(ids[2]));
        Assert.Equal(4, ids.Distinct().Count());
        Assert.Equal(4, await Client.CountAsync(name));
        Assert.Equal("a document without an id", (await Client.GetDocumentAsync(name, ids[1])).Text);
        Assert.Equal(4, (await Client.GetCollectionAsync(name)).DocumentCount);
    }

    [Fact]
    public async Task Get_returns_text_metadata_and_optionally_the_vector()
    {
        string name = NewName();
        await Client.CreateCollectionAsync(name, new CollectionOptions { Metric = DistanceMetric.Dot, Dimension = 3 });
        await Client.UpsertAsync(name,
        [
            new DocumentWrite
            {
                Id = "doc-1",
                Text = "stored beside the vector",
                Vector = [1f, 2f, 3f],
                Metadata = new Dictionary<string, object?>
                {
                    ["kind"] = "pet",
                    ["year"] = 2021,
                    ["price"] = 9.5m,
                    ["weight"] = 1.25f,
                    ["big"] = 3_000_000_000L,
                    ["active"] = true,
                    ["tags"] = new[] { "small", "furry" },
                    ["mixed"] = new object[] { "a", 1, false },
                },
            },
        ]);

        var document = await Client.GetDocumentAsync(name, "doc-1");

        Assert.Equal("doc-1", document.Id);
        Assert.Equal("stored beside the vector", document.Text);
        Assert.Null(document.Vector);
        Assert.Equal("pet", document.Metadata["kind"]);
        Assert.Equal(2021.0, document.Metadata["year"]);
        Assert.Equal(9.5, document.Metadata["price"]);
        Assert.Equal(1.25, document.Metadata["weight"]);
        Assert.Equal(3_000_000_000.0, document.Metadata["big"]);
        Assert.Equal(true, document.Metadata["active"]);
        Assert.Equal(new object?[] { "small", "furry" }, Assert.IsType<object?[]>(document.Metadata["tags"]));
        Assert.Equal(new object?[] { "a", 1.0, false }, Assert.IsType<object?[]>(document.Metadata["mixed"]));

        var withVector = await Client.GetDocumentAsync(name, "doc-1", includeVector: true);
        Assert.Equal([1f, 2f, 3f], withVector.Vector!);
    }

    [Fact]
    public async Task Upserting_an_existing_id_replaces_the_document()
    {
        string name = NewName();
        await Client.CreateCollectionAsync(name);
        await Client.UpsertAsync(name, [new DocumentWrite { Id = "a", Text = "old text", Metadata = new Dictionary<string, object?> { ["version"] = 1, ["gone"] = "x" } }]);

        await Client.UpsertAsync(name, [new DocumentWrite { Id = "a", Text = "new text", Metadata = new Dictionary<string, object?> { ["version"] = 2 } }]);

        Assert.Equal(1, await Client.CountAsync(name));
        var document = await Client.GetDocumentAsync(name, "a");
        Assert.Equal("new text", document.Text);
        Assert.Equal(2.0, document.Metadata["version"]);
        Assert.False(document.Metadata.ContainsKey("gone"));
        var hits = await Client.QueryAsync(name, new SearchQuery { Text = "new text", K = 10 });
        Assert.Equal("a", Assert.Single(hits).Id);
        Assert.Equal("new text", hits[0].Text);
    }

    [Fact]
    public async Task Delete_removes_a_document_and_unknown_ids_are_NotFound()
    {
        string name = NewName();
        await Client.CreateCollectionAsync(name);
        await Client.UpsertAsync(name, [new DocumentWrite { Id = "keep", Text = "keep me" }, new DocumentWrite { Id = "drop", Text = "drop me" }]);

        await Client.DeleteDocumentAsync(name, "drop");

        Assert.Equal(1, await Client.CountAsync(name));
        await AssertRefused(VectorStoreErrorCode.NotFound, "id", () => Client.GetDocumentAsync(name, "drop"));
        await AssertRefused(VectorStoreErrorCode.NotFound, "id", () => Client.DeleteDocumentAsync(name, "drop"));
        Assert.DoesNotContain(await Client.QueryAsync(name, new SearchQuery { Text = "drop me" }), h => h.Id == "drop");
        Assert.Equal("keep me", (await Client.GetDocumentAsync(name, "keep")).Text);
    }

    [Fact]
    public async Task Refused_batch_changes_nothing()
    {
        string name = NewName();
        await Client.CreateCollectionAsync(name, new CollectionOptions { Dimension = 2 });

        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "documents[1].vector", () => Client.UpsertAsync(name,
        [
            new DocumentWrite { Id = "good", Vector = [1f, 0f] },
            new DocumentWrite { Id = "bad", Vector = [1f, 0f, 0f] },
        ]));

        Assert.Equal(0, await Client.CountAsync(name));
        await AssertRefused(VectorStoreErrorCode.NotFound, "id", () => Client.GetDocumentAsync(name, "good"));
    }

    [Fact]
    public async Task Bad_documents_are_InvalidArgument_naming_the_field()
    {
        string name = NewName();
        await Client.CreateCollectionAsync(name, new CollectionOptions { Dimension = 3 });
        string text = NewName();
        await Client.CreateCollectionAsync(text);

        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "documents[0].vector", () => Client.UpsertAsync(name, [new DocumentWrite { Vector = [1f, 2f] }]));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "documents[0].vector", () => Client.UpsertAsync(name, [new DocumentWrite { Vector = [1f, float.NaN, 0f] }]));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "documents[0].vector", () => Client.UpsertAsync(name, [new DocumentWrite { Vector = [1f, float.PositiveInfinity, 0f] }]));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "documents[0].vector", () => Client.UpsertAsync(name, [new DocumentWrite { Text = "no encoder to embed this" }]));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "documents[1].text", () => Client.UpsertAsync(text, [new DocumentWrite { Text = "fine" }, new DocumentWrite { Text = "" }]));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "documents[0].text", () => Client.UpsertAsync(text, [new DocumentWrite { Id = "only-an-id" }]));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "documents[1].id", () => Client.UpsertAsync(text, [new DocumentWrite { Id = "twice", Text = "a" }, new DocumentWrite { Id = "twice", Text = "b" }]));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "documents", () => Client.UpsertAsync(text, []));

        Assert.Equal(0, await Client.CountAsync(name));
        Assert.Equal(0, await Client.CountAsync(text));
    }

    [Fact]
    public async Task Bad_metadata_is_refused_before_anything_is_stored()
    {
        string name = NewName();
        await Client.CreateCollectionAsync(name);

        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "documents[0].metadata.tag", () => Client.UpsertAsync(name,
            [new DocumentWrite { Text = "a", Metadata = new Dictionary<string, object?> { ["tag"] = null } }]));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "documents[1].metadata.nested", () => Client.UpsertAsync(name,
        [
            new DocumentWrite { Text = "a" },
            new DocumentWrite { Text = "b", Metadata = new Dictionary<string, object?> { ["nested"] = new Dictionary<string, object?> { ["x"] = 1 } } },
        ]));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "documents[0].metadata.deep[1]", () => Client.UpsertAsync(name,
            [new DocumentWrite { Text = "a", Metadata = new Dictionary<string, object?> { ["deep"] = new object[] { 1, new[] { 2, 3 } } } }]));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "documents[0].metadata.when", () => Client.UpsertAsync(name,
            [new DocumentWrite { Text = "a", Metadata = new Dictionary<string, object?> { ["when"] = DateTime.UtcNow } }]));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "documents[0].metadata.ratio", () => Client.UpsertAsync(name,
            [new DocumentWrite { Text = "a", Metadata = new Dictionary<string, object?> { ["ratio"] = double.NaN } }]));

        Assert.Equal(0, await Client.CountAsync(name));
    }

    // ---------------------------------------------------------------- queries

    [Theory]
    [InlineData(DistanceMetric.Cosine)]
    [InlineData(DistanceMetric.Dot)]
    [InlineData(DistanceMetric.L2)]
    public async Task Vector_query_returns_the_metrics_natural_score_best_first(DistanceMetric metric)
    {
        string name = NewName();
        await Client.CreateCollectionAsync(name, new CollectionOptions { Metric = metric, Dimension = 3 });
        await Client.UpsertAsync(name,
        [
            new DocumentWrite { Id = "x2", Vector = [2f, 0f, 0f] },
            new DocumentWrite { Id = "diag", Vector = [1f, 1f, 0f] },
            new DocumentWrite { Id = "y3", Vector = [0f, 3f, 0f] },
            new DocumentWrite { Id = "neg", Vector = [-1f, 0f, 0f] },
        ]);
        float[] query = [1f, 0f, 0f];

        var hits = await Client.QueryAsync(name, new SearchQuery { Vector = query, K = 4 });

        // Expected: cosine similarity, raw dot product, or Euclidean distance (not squared).
        (string Id, double Score)[] expected = metric switch
        {
            DistanceMetric.Cosine => [("x2", 1.0), ("diag", Math.Sqrt(0.5)), ("y3", 0.0), ("neg", -1.0)],
            DistanceMetric.Dot => [("x2", 2.0), ("diag", 1.0), ("y3", 0.0), ("neg", -1.0)],
            _ => [("x2", 1.0), ("diag", 1.0), ("neg", 2.0), ("y3", Math.Sqrt(10))],
        };
        Assert.Equal(4, hits.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Score, hits[i].Score, 1e-5);
        }
        if (metric == DistanceMetric.L2)
        {
            // x2 and diag tie at distance 1; only the order of the rest is fixed.
            Assert.Equal(["diag", "x2"], hits.Take(2).Select(h => h.Id).Order(StringComparer.Ordinal));
            Assert.Equal(["neg", "y3"], hits.Skip(2).Select(h => h.Id));
            Assert.True(hits.Zip(hits.Skip(1)).All(p => p.First.Score <= p.Second.Score), "L2 distances ascend");
        }
        else
        {
            Assert.Equal(expected.Select(e => e.Id), hits.Select(h => h.Id));
            Assert.True(hits.Zip(hits.Skip(1)).All(p => p.First.Score >= p.Second.Score), "similarities descend");
        }
    }

    [Fact]
    public async Task K_limits_results_and_exact_scan_finds_the_true_neighbours()
    {
        string name = NewName();
        await Client.CreateCollectionAsync(name, new CollectionOptions { Metric = DistanceMetric.L2, Dimension = 8 });
        var random = new Random(42);
        var documents = Enumerable.Range(0, 200).Select(i => new DocumentWrite
        {
            Id = $"d{i}",
            Vector = [.. Enumerable.Range(0, 8).Select(_ => (float)random.NextDouble())],
        }).ToList();
        await Client.UpsertAsync(name, documents);
        float[] query = [.. Enumerable.Range(0, 8).Select(_ => (float)random.NextDouble())];
        var truth = documents
            .Select(d => (d.Id, Distance: Math.Sqrt(d.Vector!.Zip(query).Sum(p => (double)(p.First - p.Second) * (p.First - p.Second)))))
            .OrderBy(p => p.Distance)
            .Take(7)
            .ToList();

        var exact = await Client.QueryAsync(name, new SearchQuery { Vector = query, K = 7, Exact = true, IncludeVectors = true });
        var approximate = await Client.QueryAsync(name, new SearchQuery { Vector = query, K = 7 });

        Assert.Equal(truth.Select(t => t.Id), exact.Select(h => h.Id));
        for (int i = 0; i < truth.Count; i++)
        {
            Assert.Equal(truth[i].Distance, exact[i].Score, 1e-4);
            Assert.Equal(documents.Single(d => d.Id == exact[i].Id).Vector, exact[i].Vector);
        }
        Assert.Equal(7, approximate.Count);
        Assert.All(approximate, h => Assert.Null(h.Vector));
        Assert.Equal(3, (await Client.QueryAsync(name, new SearchQuery { Vector = query, K = 3 })).Count);
        Assert.Equal(200, (await Client.QueryAsync(name, new SearchQuery { Vector = query, K = 1000, Exact = true })).Count);
    }

    [Fact]
    public async Task Text_query_ranks_the_document_sharing_its_words_first()
    {
        string name = NewName();
        await Client.CreateCollectionAsync(name);
        await Client.UpsertAsync(name,
        [
            new DocumentWrite { Id = "fox", Text = "the quick brown fox jumps over the lazy dog" },
            new DocumentWrite { Id = "bread", Text = "a simple recipe for banana bread with walnuts" },
            new DocumentWrite { Id = "market", Text = "stock market prices fell sharply on monday" },
            new DocumentWrite { Id = "rain", Text = "heavy rain and wind expected along the coast" },
        ]);

        var hits = await Client.QueryAsync(name, new SearchQuery { Text = "banana bread recipe", K = 4 });

        Assert.Equal("bread", hits[0].Id);
        Assert.Equal("a simple recipe for banana bread with walnuts", hits[0].Text);
        Assert.Equal(4, hits.Count);
        Assert.True(hits.Zip(hits.Skip(1)).All(p => p.First.Score >= p.Second.Score), "cosine similarities descend");
        Assert.InRange(hits[0].Score, -1.0001f, 1.0001f);
        Assert.Equal("market", (await Client.QueryAsync(name, new SearchQuery { Text = "stock prices", K = 1 })).Single().Id);
    }

    [Fact]
    public async Task A_document_queried_by_its_own_vector_scores_one()
    {
        string name = NewName();
        await Client.CreateCollectionAsync(name);
        await Client.UpsertAsync(name, [new DocumentWrite { Id = "a", Text = "vectors all the way down" }, new DocumentWrite { Id = "b", Text = "something else entirely" }]);
        var stored = await Client.GetDocumentAsync(name, "a", includeVector: true);

        var hits = await Client.QueryAsync(name, new SearchQuery { Vector = stored.Vector, K = 1 });

        Assert.Equal("a", hits.Single().Id);
        Assert.Equal(1.0, hits[0].Score, 1e-4);
    }

    [Theory]
    [InlineData("""{"kind":"pet"}""", "a,b")]
    [InlineData("""{"kind":{"$eq":"car"}}""", "c,d")]
    [InlineData("""{"kind":{"$ne":"car"}}""", "a,b")]
    [InlineData("""{"year":{"$gte":2021}}""", "b,c,d")]
    [InlineData("""{"year":{"$gt":2020,"$lt":2023}}""", "b,c")]
    [InlineData("""{"kind":{"$in":["car","boat"]}}""", "c,d")]
    [InlineData("""{"kind":{"$nin":["car"]}}""", "a,b")]
    [InlineData("""{"tags":"big"}""", "b")]
    [InlineData("""{"electric":true}""", "d")]
    [InlineData("""{"kind":"pet","year":{"$gt":2020}}""", "b")]
    [InlineData("""{"$and":[{"kind":"car"},{"year":{"$lt":2023}}]}""", "c")]
    [InlineData("""{"$or":[{"year":2020},{"electric":true}]}""", "a,d")]
    [InlineData("""{"$not":{"kind":"pet"}}""", "c,d")]
    [InlineData("""{"kind":"boat"}""", "")]
    [InlineData("", "a,b,c,d")]
    public async Task Filters_select_the_matching_documents(string filter, string expected)
    {
        string name = NewName();
        await Client.CreateCollectionAsync(name, new CollectionOptions { Dimension = 4, Metric = DistanceMetric.L2 });
        await Client.UpsertAsync(name,
        [
            new DocumentWrite { Id = "a", Vector = [1f, 0f, 0f, 0f], Metadata = new Dictionary<string, object?> { ["kind"] = "pet", ["year"] = 2020, ["tags"] = new[] { "small", "furry" } } },
            new DocumentWrite { Id = "b", Vector = [0f, 1f, 0f, 0f], Metadata = new Dictionary<string, object?> { ["kind"] = "pet", ["year"] = 2022, ["tags"] = new[] { "big" } } },
            new DocumentWrite { Id = "c", Vector = [0f, 0f, 1f, 0f], Metadata = new Dictionary<string, object?> { ["kind"] = "car", ["year"] = 2021L, ["tags"] = new[] { "fast" } } },
            new DocumentWrite { Id = "d", Vector = [0f, 0f, 0f, 1f], Metadata = new Dictionary<string, object?> { ["kind"] = "car", ["year"] = 2023.0, ["electric"] = true } },
        ]);

        var hits = await Client.QueryAsync(name, new SearchQuery { Vector = [0.1f, 0.2f, 0.3f, 0.4f], K = 10, Filter = filter });
        var exact = await Client.QueryAsync(name, new SearchQuery { Vector = [0.1f, 0.2f, 0.3f, 0.4f], K = 10, Filter = filter, Exact = true });

        string[] want = expected.Length == 0 ? [] : expected.Split(',');
        Assert.Equal(want, hits.Select(h => h.Id).Order(StringComparer.Ordinal));
        Assert.Equal(want, exact.Select(h => h.Id).Order(StringComparer.Ordinal));
        // The filter narrows the candidates; the survivors still come best first (d is closest, a farthest).
        Assert.Equal(Enumerable.Reverse(want), hits.Select(h => h.Id));
        Assert.All(hits, h => Assert.Equal(h.Id is "c" or "d" ? "car" : "pet", h.Metadata["kind"]));
    }

    [Fact]
    public async Task Bad_queries_are_InvalidArgument_naming_the_field()
    {
        string name = NewName();
        await Client.CreateCollectionAsync(name);
        string raw = NewName();
        await Client.CreateCollectionAsync(raw, new CollectionOptions { Dimension = 3 });
        await Client.UpsertAsync(name, [new DocumentWrite { Text = "something to find" }]);
        var demo = (await Client.ListModelsAsync()).Single(m => m.Name == "demo");

        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "vector", () => Client.QueryAsync(name, new SearchQuery { Vector = [1f, 2f, 3f] }));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "vector", () => Client.QueryAsync(raw, new SearchQuery { Vector = [1f, float.NaN, 3f] }));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "vector", () => Client.QueryAsync(raw, new SearchQuery { Text = "raw collections cannot embed" }));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "text", () => Client.QueryAsync(name, new SearchQuery { Text = "" }));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "text", () => Client.QueryAsync(name, new SearchQuery { Text = "   " }));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "text", () => Client.QueryAsync(name, new SearchQuery()));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "k", () => Client.QueryAsync(name, new SearchQuery { Text = "find", K = 0 }));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "k", () => Client.QueryAsync(name, new SearchQuery { Text = "find", K = -5 }));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "k", () => Client.QueryAsync(name, new SearchQuery { Text = "find", K = 10_000_000 }));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "ef", () => Client.QueryAsync(name, new SearchQuery { Text = "find", K = 10, Ef = 5 }));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "filter", () => Client.QueryAsync(name, new SearchQuery { Text = "find", Filter = "{not json" }));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "filter", () => Client.QueryAsync(name, new SearchQuery { Text = "find", Filter = "[1,2]" }));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "filter.year.$between", () => Client.QueryAsync(name, new SearchQuery { Text = "find", Filter = """{"year":{"$between":[1,2]}}""" }));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "filter.$xor", () => Client.QueryAsync(name, new SearchQuery { Text = "find", Filter = """{"$xor":[{"a":1}]}""" }));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "filter.$or", () => Client.QueryAsync(name, new SearchQuery { Text = "find", Filter = """{"$or":[]}""" }));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "filter.year.$gte", () => Client.QueryAsync(name, new SearchQuery { Text = "find", Filter = """{"year":{"$gte":true}}""" }));

        // The same query without the faults works.
        Assert.Single(await Client.QueryAsync(name, new SearchQuery { Vector = new float[demo.Dimension].Select((_, i) => i == 0 ? 1f : 0f).ToArray(), K = 5 }));
    }

    // ---------------------------------------------------------------- embeddings

    [Fact]
    public async Task Embed_returns_unit_vectors_of_the_encoder_dimension()
    {
        var demo = (await Client.ListModelsAsync()).Single(m => m.Name == "demo");
        Assert.True(demo.Dimension > 0);
        Assert.True(demo.MaxTokens > 0);
        Assert.False(string.IsNullOrEmpty(demo.Kind));

        var vectors = await Client.EmbedAsync(["hello world", "a second, longer text about vector databases"]);
        var named = await Client.EmbedAsync(["hello world"], "demo");

        Assert.Equal(2, vectors.Count);
        Assert.All(vectors, v =>
        {
            Assert.Equal(demo.Dimension, v.Length);
            Assert.Equal(1.0, Math.Sqrt(v.Sum(x => (double)x * x)), 1e-4);
        });
        Assert.Equal(vectors[0], named.Single());
        Assert.NotEqual(vectors[0], vectors[1]);
    }

    [Fact]
    public async Task Bad_embed_requests_are_InvalidArgument()
    {
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "texts", () => Client.EmbedAsync([]));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "texts[1]", () => Client.EmbedAsync(["fine", ""]));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "encoder", () => Client.EmbedAsync(["fine"], "no-such-encoder"));
    }

    [Fact]
    public async Task Embedding_matches_what_a_text_collection_stores()
    {
        string name = NewName();
        await Client.CreateCollectionAsync(name);
        await Client.UpsertAsync(name, [new DocumentWrite { Id = "a", Text = "same text, same vector" }]);

        var stored = await Client.GetDocumentAsync(name, "a", includeVector: true);
        var embedded = (await Client.EmbedAsync(["same text, same vector"])).Single();

        Assert.Equal(embedded.Length, stored.Vector!.Length);
        for (int i = 0; i < embedded.Length; i++)
        {
            Assert.Equal(embedded[i], stored.Vector[i], 1e-5);
        }
    }

    // ---------------------------------------------------------------- listing and snapshots

    [Fact]
    public async Task ListDocuments_pages_by_cursor_in_id_order_and_the_scan_follows_it()
    {
        string name = NewName();
        await Client.CreateCollectionAsync(name, new CollectionOptions { Encoder = "none", Dimension = 2, Metric = DistanceMetric.L2, Shards = 3 });
        var ids = Enumerable.Range(0, 23).Select(i => $"d{(i * 7) % 23:D2}").ToArray();
        await Client.UpsertAsync(name, ids.Select((id, i) => new DocumentWrite { Id = id, Text = $"text {id}", Vector = [i, 1], Metadata = new Dictionary<string, object?> { ["n"] = i } }));

        var first = await Client.ListDocumentsAsync(name, limit: 10);
        Assert.Equal(23, first.Total);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"d{i:D2}"), first.Documents.Select(d => d.Id));
        Assert.Equal("d09", first.NextAfter);
        Assert.All(first.Documents, d => Assert.Null(d.Vector));
        Assert.Equal("text d03", first.Documents[3].Text);

        var second = await Client.ListDocumentsAsync(name, first.NextAfter, 10, includeVectors: true);
        Assert.Equal(Enumerable.Range(10, 10).Select(i => $"d{i:D2}"), second.Documents.Select(d => d.Id));
        Assert.All(second.Documents, d => Assert.Equal(2, d.Vector!.Length));
        var last = await Client.ListDocumentsAsync(name, second.NextAfter, 10);
        Assert.Equal(["d20", "d21", "d22"], last.Documents.Select(d => d.Id));
        Assert.Null(last.NextAfter);

        var skipped = await Client.ListDocumentsAsync(name, limit: 2, offset: 5);
        Assert.Equal(["d05", "d06"], skipped.Documents.Select(d => d.Id));

        var scanned = new List<VectorDocument>();
        await foreach (var document in Client.ScanDocumentsAsync(name, includeVectors: true, pageSize: 4))
        {
            scanned.Add(document);
        }
        Assert.Equal(Enumerable.Range(0, 23).Select(i => $"d{i:D2}"), scanned.Select(d => d.Id));
        var d07 = scanned.Single(d => d.Id == "d07");
        Assert.Equal(Array.IndexOf(ids, "d07"), Convert.ToInt32(d07.Metadata["n"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal([Array.IndexOf(ids, "d07"), 1f], d07.Vector!);
    }

    [Fact]
    public async Task ListDocuments_refuses_bad_paging_and_unknown_collections()
    {
        string name = NewName();
        await Client.CreateCollectionAsync(name);
        Assert.Empty((await Client.ListDocumentsAsync(name)).Documents);
        Assert.Null((await Client.ListDocumentsAsync(name)).NextAfter);
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "limit", () => Client.ListDocumentsAsync(name, limit: 0));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "limit", () => Client.ListDocumentsAsync(name, limit: 1001));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "offset", () => Client.ListDocumentsAsync(name, offset: -1));
        await AssertRefused(VectorStoreErrorCode.NotFound, "name", () => Client.ListDocumentsAsync(NewName()));
    }

    // ---------------------------------------------------------------- batch get and scroll

    [Fact]
    public async Task GetDocuments_returns_the_found_ids_in_request_order_and_leaves_out_the_missing()
    {
        string name = NewName();
        await Client.CreateCollectionAsync(name, new CollectionOptions { Encoder = "none", Dimension = 2, Metric = DistanceMetric.L2, Shards = 3 });
        await Client.UpsertAsync(name, Enumerable.Range(0, 10).Select(i => new DocumentWrite
        {
            Id = $"k{i}", Text = $"text {i}", Vector = [i, 1], Metadata = new Dictionary<string, object?> { ["n"] = i },
        }));

        var found = await Client.GetDocumentsAsync(name, ["k7", "missing", "k2", "k7", "k0"]);

        Assert.Equal(["k7", "k2", "k7", "k0"], found.Select(d => d.Id));
        Assert.Equal("text 2", found[1].Text);
        Assert.Equal(2, Convert.ToInt32(found[1].Metadata["n"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.All(found, d => Assert.Null(d.Vector));
        var withVectors = await Client.GetDocumentsAsync(name, ["k3"], includeVectors: true);
        Assert.Equal([3f, 1f], Assert.Single(withVectors).Vector!);
        Assert.Empty(await Client.GetDocumentsAsync(name, []));
        Assert.Empty(await Client.GetDocumentsAsync(name, ["nope", "neither"]));

        // The batch limit is the upsert batch limit (1000 by default); a refused batch reads nothing.
        await AssertRefused(VectorStoreErrorCode.LimitExceeded, "ids", () => Client.GetDocumentsAsync(name, Enumerable.Range(0, 1001).Select(i => $"k{i}")));
        Assert.Equal(1000, (await Client.GetDocumentsAsync(name, Enumerable.Range(0, 1000).Select(i => $"k{i % 10}"))).Count);
        await AssertRefused(VectorStoreErrorCode.NotFound, "name", () => Client.GetDocumentsAsync(NewName(), ["k1"]));
    }

    [Fact]
    public async Task Scroll_orders_by_a_metadata_field_with_ties_by_id_and_missing_values_last()
    {
        string name = await ScrollCollectionAsync();

        var ascending = await ScrollAllAsync(name, new ScrollQuery { OrderBy = new DocumentOrder("rank"), Limit = 3 });
        // Numbers, then strings, then booleans (g), then documents without the field (f).
        Assert.Equal(["e", "b", "d", "a", "c", "g", "f"], ascending.Select(d => d.Id));

        var descending = await ScrollAllAsync(name, new ScrollQuery { OrderBy = new DocumentOrder("rank", Descending: true), Limit = 2 });
        // Values reverse (the boolean now first); ties stay in ascending id order and documents without the field
        // stay last, in either direction.
        Assert.Equal(["g", "a", "c", "b", "d", "e", "f"], descending.Select(d => d.Id));

        var byName = await ScrollAllAsync(name, new ScrollQuery { OrderBy = new DocumentOrder("name"), Limit = 4 });
        Assert.Equal(["c", "a", "b", "d", "e", "f", "g"], byName.Select(d => d.Id));
    }

    [Fact]
    public async Task Scroll_pages_joined_by_the_cursor_equal_one_full_listing_in_both_orders()
    {
        string name = NewName();
        await Client.CreateCollectionAsync(name, new CollectionOptions { Encoder = "none", Dimension = 2, Shards = 3 });
        var random = new Random(7);
        await Client.UpsertAsync(name, Enumerable.Range(0, 300).Select(i => new DocumentWrite
        {
            Id = $"d{i:D3}", Vector = [i, 1],
            Metadata = i % 10 == 0 ? new Dictionary<string, object?> { ["kind"] = "x" } : new Dictionary<string, object?> { ["kind"] = i % 2 == 0 ? "even" : "odd", ["score"] = random.Next(0, 40) },
        }));

        foreach (var order in new DocumentOrder?[] { null, new("score"), new("score", Descending: true) })
        {
            var whole = await Client.ScrollAsync(name, new ScrollQuery { OrderBy = order, Limit = 1000 });
            Assert.Null(whole.Next);
            Assert.Equal(300, whole.Documents.Count);
            foreach (int pageSize in new[] { 1, 7, 50, 299, 300 })
            {
                var paged = await ScrollAllAsync(name, new ScrollQuery { OrderBy = order, Limit = pageSize });
                Assert.Equal(whole.Documents.Select(d => d.Id), paged.Select(d => d.Id));
            }
        }
        var idOrder = (await Client.ScrollAsync(name, new ScrollQuery { Limit = 1000 })).Documents.Select(d => d.Id).ToList();
        Assert.Equal(idOrder.Order(StringComparer.Ordinal), idOrder);

        // The convenience enumerable follows the cursor the same way.
        var streamed = new List<string>();
        await foreach (var document in Client.ScrollDocumentsAsync(name, new ScrollQuery { Filter = """{"kind":"odd"}""", OrderBy = new DocumentOrder("score"), Limit = 8 }))
        {
            streamed.Add(document.Id);
        }
        var odd = (await Client.ScrollAsync(name, new ScrollQuery { Filter = """{"kind":"odd"}""", OrderBy = new DocumentOrder("score"), Limit = 1000 })).Documents;
        Assert.Equal(odd.Select(d => d.Id), streamed);
        Assert.Equal(Enumerable.Range(0, 300).Count(i => i % 10 != 0 && i % 2 == 1), streamed.Count);
        var scores = odd.Select(d => Convert.ToDouble(d.Metadata["score"], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(scores.Order(), scores);
    }

    [Fact]
    public async Task Scroll_applies_the_filter_and_the_limit()
    {
        string name = await ScrollCollectionAsync();

        var pets = await ScrollAllAsync(name, new ScrollQuery { Filter = """{"kind":"pet"}""", Limit = 1 });
        Assert.Equal(["a", "b", "e"], pets.Select(d => d.Id));
        var ranked = await Client.ScrollAsync(name, new ScrollQuery { Filter = """{"rank":{"$gte":2}}""", OrderBy = new DocumentOrder("rank", Descending: true), Limit = 2 });
        Assert.Equal(["a", "c"], ranked.Documents.Select(d => d.Id));
        Assert.NotNull(ranked.Next);
        var rest = await Client.ScrollAsync(name, new ScrollQuery { Filter = """{"rank":{"$gte":2}}""", OrderBy = new DocumentOrder("rank", Descending: true), Limit = 2, After = ranked.Next });
        Assert.Equal(["b", "d"], rest.Documents.Select(d => d.Id));
        Assert.Null(rest.Next);
        var none = await Client.ScrollAsync(name, new ScrollQuery { Filter = """{"kind":"nothing"}""" });
        Assert.Empty(none.Documents);
        Assert.Null(none.Next);
        var withVectors = await Client.ScrollAsync(name, new ScrollQuery { Limit = 2, IncludeVectors = true });
        Assert.All(withVectors.Documents, d => Assert.Equal(2, d.Vector!.Length));
        Assert.All((await Client.ScrollAsync(name, new ScrollQuery { Limit = 2 })).Documents, d => Assert.Null(d.Vector));
    }

    [Fact]
    public async Task Scroll_refuses_bad_limits_orders_and_cursors()
    {
        string name = await ScrollCollectionAsync();
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "limit", () => Client.ScrollAsync(name, new ScrollQuery { Limit = 0 }));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "limit", () => Client.ScrollAsync(name, new ScrollQuery { Limit = 1001 }));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "orderBy.field", () => Client.ScrollAsync(name, new ScrollQuery { OrderBy = new DocumentOrder("") }));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "filter.rank.$near", () => Client.ScrollAsync(name, new ScrollQuery { Filter = """{"rank":{"$near":1}}""" }));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "after", () => Client.ScrollAsync(name, new ScrollQuery { After = "not a cursor!" }));
        var byRank = await Client.ScrollAsync(name, new ScrollQuery { OrderBy = new DocumentOrder("rank"), Limit = 1 });
        // A cursor belongs to its order: reusing it with another order or with id order is refused, not misapplied.
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "after", () => Client.ScrollAsync(name, new ScrollQuery { After = byRank.Next }));
        await AssertRefused(VectorStoreErrorCode.InvalidArgument, "after", () => Client.ScrollAsync(name, new ScrollQuery { OrderBy = new DocumentOrder("rank", Descending: true), After = byRank.Next }));
        await AssertRefused(VectorStoreErrorCode.NotFound, "name", () => Client.ScrollAsync(NewName(), new ScrollQuery()));
    }

    /// <summary>
    /// Seven documents over three shards: rank 3 (a, c), 2 (b, d), 1 (e); f has no rank, g a string rank; names
    /// c &lt; a &lt; b &lt; d; kind pet for a, b, e.
    /// </summary>
    private async Task<string> ScrollCollectionAsync()
    {
        string name = NewName();
        await Client.CreateCollectionAsync(name, new CollectionOptions { Encoder = "none", Dimension = 2, Shards = 3 });
        static DocumentWrite Doc(string id, params (string Key, object Value)[] metadata) =>
            new() { Id = id, Vector = [id[0], 1], Metadata = metadata.ToDictionary(m => m.Key, m => (object?)m.Value) };
        await Client.UpsertAsync(name,
        [
            Doc("a", ("rank", 3), ("name", "beta"), ("kind", "pet")),
            Doc("b", ("rank", 2), ("name", "delta"), ("kind", "pet")),
            Doc("c", ("rank", 3), ("name", "alpha")),
            Doc("d", ("rank", 2), ("name", "gamma")),
            Doc("e", ("rank", 1), ("kind", "pet")),
            Doc("f", ("kind", "toy")),
            Doc("g", ("rank", true), ("kind", "toy")),
        ]);
        return name;
    }

    private async Task<List<VectorDocument>> ScrollAllAsync(string name, ScrollQuery query)
    {
        var all = new List<VectorDocument>();
        int pages = 0;
        while (true)
        {
            var page = await Client.ScrollAsync(name, query);
            Assert.InRange(page.Documents.Count, 0, query.Limit);
            all.AddRange(page.Documents);
            Assert.True(++pages <= 1000, "the scroll does not end");
            if (page.Next is null)
            {
                return all;
            }
            // A page that says more follows is full.
            Assert.Equal(query.Limit, page.Documents.Count);
            query = query with { After = page.Next };
        }
    }

    [Fact]
    public async Task Snapshot_create_list_restore_and_delete()
    {
        string name = NewName();
        await Client.CreateCollectionAsync(name);
        await Client.UpsertAsync(name, [new DocumentWrite { Id = "a", Text = "cats" }, new DocumentWrite { Id = "b", Text = "cars" }]);
        var snapshot = await Client.CreateSnapshotAsync(name, "s1");
        Assert.Equal(name, snapshot.Collection);
        Assert.Equal("s1", snapshot.Name);
        Assert.True(snapshot.SizeBytes > 0);
        Assert.Contains(await Client.ListSnapshotsAsync(name), s => s.Name == "s1");

        string copy = NewName();
        var restored = await Client.RestoreSnapshotAsync(name, "s1", copy);
        Assert.Equal(copy, restored.Name);
        Assert.Equal(2, await Client.CountAsync(copy));
        await AssertRefused(VectorStoreErrorCode.AlreadyExists, null, () => Client.RestoreSnapshotAsync(name, "s1", copy));

        await Client.DeleteSnapshotAsync(name, "s1");
        Assert.DoesNotContain(await Client.ListSnapshotsAsync(name), s => s.Name == "s1");
        await AssertRefused(VectorStoreErrorCode.NotFound, null, () => Client.RestoreSnapshotAsync(name, "s1", NewName()));
    }

    // ---------------------------------------------------------------- cluster calls on a single node

    [Fact]
    public async Task Cluster_calls_are_refused_with_FailedPrecondition_on_a_single_node()
    {
        var refusals = new[]
        {
            await AssertRefused(VectorStoreErrorCode.FailedPrecondition, null, () => Client.GetClusterStatusAsync()),
            await AssertRefused(VectorStoreErrorCode.FailedPrecondition, null, () => Client.DrainNodeAsync("node-a")),
            await AssertRefused(VectorStoreErrorCode.FailedPrecondition, null, () => Client.UndrainNodeAsync("node-a")),
            await AssertRefused(VectorStoreErrorCode.FailedPrecondition, null, () => Client.RebalanceAsync()),
        };
        // One message for the server and the embedded store alike.
        Assert.All(refusals, r => Assert.Contains("not in cluster mode", r.Message, StringComparison.Ordinal));
    }

    // ---------------------------------------------------------------- cancellation

    [Fact]
    public async Task A_cancelled_token_is_reported_as_Cancelled()
    {
        string name = NewName();
        await Client.CreateCollectionAsync(name);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await AssertRefused(VectorStoreErrorCode.Cancelled, null, () => Client.QueryAsync(name, new SearchQuery { Text = "anything" }, cancelled.Token));
        await AssertRefused(VectorStoreErrorCode.Cancelled, null, () => Client.UpsertAsync(name, [new DocumentWrite { Text = "never stored" }], cancelled.Token));

        Assert.Equal(0, await Client.CountAsync(name));
    }

    // ---------------------------------------------------------------- helpers

    /// <summary>Asserts the call is refused with <paramref name="code"/> and, when given, the faulty <paramref name="field"/>.</summary>
    protected static async Task<VectorStoreClientException> AssertRefused(VectorStoreErrorCode code, string? field, Func<Task> call)
    {
        var exception = await Assert.ThrowsAsync<VectorStoreClientException>(call);
        Assert.Equal(code, exception.Code);
        if (field is not null)
        {
            Assert.Equal(field, exception.Field);
            // The remote client reads these from google.rpc.BadRequest in grpc-status-details-bin.
            Assert.Equal(field, Assert.Single(exception.FieldViolations).Field);
        }
        Assert.False(string.IsNullOrWhiteSpace(exception.Message));
        return exception;
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _client?.Dispose();
        }
    }
}
