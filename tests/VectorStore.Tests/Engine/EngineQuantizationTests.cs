using VectorStoreDb.Engine;
using VectorStoreDb.Index;
using VectorStoreDb.Index.Hnsw;
using VectorStoreDb.Index.Quantization;
using Xunit.Abstractions;
using static VectorStoreDb.Tests.StorageTestSupport;

namespace VectorStoreDb.Tests.Engine;

/// <summary>
/// Quantization as a collection setting: resolved and refused by the settings resolver, carried by the exact index
/// of every shard, kept across checkpoints, restarts and snapshots, and accurate with rescoring on real data.
/// </summary>
public sealed class EngineQuantizationTests(ITestOutputHelper output)
{
    private const int Dimension = 64;

    private static Task Create(VectorStoreEngine engine, string name, string quantization, int shards = 2, float? oversampling = null, bool? rescore = null) =>
        engine.CreateCollectionAsync(new CreateCollectionRequest
        {
            Name = name, Encoder = "none", Metric = "cosine", Dimension = Dimension, Index = IndexKinds.Exact, Shards = shards,
            Quantization = quantization, Oversampling = oversampling, Rescore = rescore,
        });

    private static async Task<string[]> Answers(VectorStoreEngine engine, string name, int queries = 20, bool exact = false)
    {
        var requests = Enumerable.Range(0, queries).Select(q => new QueryRequest { Vector = TestData.RandomVector(new Random(1000 + q), Dimension), K = 10, Exact = exact }).ToList();
        var batch = await engine.QueryBatchAsync(name, requests);
        return [.. batch.Select(hits => string.Join(",", hits.Select(h => $"{h.Id}:{h.Score:R}")))];
    }

    [Theory]
    [InlineData("int8", QuantizationKind.Int8)]
    [InlineData("binary", QuantizationKind.Binary)]
    public async Task Quantized_collection_keeps_its_codes_across_checkpoint_restart_and_snapshot(string quantization, QuantizationKind kind)
    {
        using var folder = new TestData.TempFolder();
        string[] before;
        using (var engine = Open(folder.Path))
        {
            await Create(engine, "q", quantization, oversampling: 4);
            var settings = engine.GetCollection("q").Settings;
            Assert.Equal(quantization, settings.Quantization);
            Assert.Equal(4, settings.Oversampling);
            Assert.True(settings.Rescore);
            await UpsertRange(engine, "q", 0, 600, batch: 100, dimension: Dimension);
            Assert.All(engine.ShardsOf("q"), s => Assert.Equal(new QuantizationSettings(kind, true, 4), Assert.IsType<ExactIndex>(s.Index).Quantization));
            await engine.CheckpointAsync(force: true);
            // A log tail after the checkpoint: replayed on top of the loaded codes.
            await UpsertRange(engine, "q", 600, 50, batch: 50, dimension: Dimension);
            before = await Answers(engine, "q");
        }
        using (var engine = Open(folder.Path))
        {
            Assert.Equal(650, engine.GetCollection("q").DocumentCount);
            Assert.Equal(quantization, engine.GetCollection("q").Settings.Quantization);
            Assert.All(engine.ShardsOf("q"), s => Assert.Equal(kind, Assert.IsType<ExactIndex>(s.Index).Quantization.Kind));
            Assert.Equal(before, await Answers(engine, "q"));

            var snapshot = await engine.CreateSnapshotAsync("q");
            var restored = await engine.RestoreSnapshotAsync("q", snapshot.Name, "copy");
            Assert.Equal(quantization, restored.Settings.Quantization);
            Assert.All(engine.ShardsOf("copy"), s => Assert.Equal(kind, Assert.IsType<ExactIndex>(s.Index).Quantization.Kind));
            Assert.Equal(before, await Answers(engine, "copy"));
        }
    }

    [Fact]
    public async Task Int8_hnsw_collection_walks_codes_and_keeps_them_across_checkpoint_restart_and_snapshot()
    {
        using var folder = new TestData.TempFolder();
        string[] before;
        using (var engine = Open(folder.Path))
        {
            await engine.CreateCollectionAsync(new CreateCollectionRequest
            {
                Name = "g", Encoder = "none", Metric = "cosine", Dimension = Dimension, Index = IndexKinds.Hnsw, Shards = 2, Quantization = "int8", M = 8, EfConstruction = 40,
            });
            var settings = engine.GetCollection("g").Settings;
            Assert.Equal(("int8", IndexKinds.Hnsw, true), (settings.Quantization, settings.Index, settings.Rescore));
            await UpsertRange(engine, "g", 0, 600, batch: 100, dimension: Dimension);
            Assert.All(engine.ShardsOf("g"), s =>
            {
                var graph = Assert.IsType<HnswIndex>(s.Index);
                Assert.Equal(QuantizationKind.Int8, graph.Quantization.Kind);
                Assert.True(graph.IsQuantizationFitted);
                Assert.InRange(graph.CodeMemoryBytes, 1, graph.VectorMemoryBytes / 3);
            });
            await engine.CheckpointAsync(force: true);
            await UpsertRange(engine, "g", 600, 50, batch: 50, dimension: Dimension);
            // Exact answers across the restart: the log's 50 inserts are made again (in parallel) on the loaded graph, so
            // an approximate query may take another, equally good route; the codes and vectors must be the same.
            before = await Answers(engine, "g", exact: true);
        }
        using (var engine = Open(folder.Path))
        {
            Assert.Equal(650, engine.GetCollection("g").DocumentCount);
            Assert.All(engine.ShardsOf("g"), s => Assert.True(Assert.IsType<HnswIndex>(s.Index).IsQuantizationFitted));
            Assert.Equal(before, await Answers(engine, "g", exact: true));
            var snapshot = await engine.CreateSnapshotAsync("g");
            await engine.RestoreSnapshotAsync("g", snapshot.Name, "copy");
            Assert.All(engine.ShardsOf("copy"), s => Assert.Equal(QuantizationKind.Int8, Assert.IsType<HnswIndex>(s.Index).Quantization.Kind));
            Assert.Equal(before, await Answers(engine, "copy", exact: true));
            // The snapshot carries the graph itself: walking it gives the restarted collection's approximate answers.
            Assert.Equal(await Answers(engine, "g"), await Answers(engine, "copy"));
        }
    }

    [Fact]
    public async Task On_disk_collection_maps_its_vectors_from_checkpoints_and_the_log_alike()
    {
        using var folder = new TestData.TempFolder();
        string[] before;
        string[] fresh;
        var create = (string name) => new CreateCollectionRequest
        {
            Name = name, Encoder = "none", Metric = "cosine", Dimension = Dimension, Shards = 1, Quantization = "int8", OnDisk = true, M = 8, EfConstruction = 40,
        };
        using (var engine = Open(folder.Path))
        {
            await engine.CreateCollectionAsync(create("d"));
            Assert.True(engine.GetCollection("d").Settings.OnDisk);
            await UpsertRange(engine, "d", 0, 300, batch: 100, dimension: Dimension);
            await engine.CheckpointAsync(force: true);
            await UpsertRange(engine, "d", 300, 50, batch: 50, dimension: Dimension);
            // Created after the checkpoint: rebuilt from the log alone.
            await engine.CreateCollectionAsync(create("e"));
            await UpsertRange(engine, "e", 0, 100, batch: 100, dimension: Dimension);
            var graph = Assert.IsType<HnswIndex>(Assert.Single(engine.ShardsOf("d")).Index);
            Assert.True(graph.OnDisk);
            Assert.Equal(0, graph.VectorMemoryBytes);
            Assert.True(graph.MappedVectorBytes > 0);
            // Exact queries: this test is about the vectors mapped back from checkpoints and the log, and a graph that
            // took the log's inserts again (in parallel) may route an approximate query to a different, equally good hit.
            before = await Answers(engine, "d", exact: true);
            fresh = await Answers(engine, "e", exact: true);
        }
        using (var engine = Open(folder.Path))
        {
            Assert.True(engine.GetCollection("d").Settings.OnDisk);
            Assert.True(Assert.IsType<HnswIndex>(Assert.Single(engine.ShardsOf("d")).Index).OnDisk);
            Assert.True(Assert.IsType<HnswIndex>(Assert.Single(engine.ShardsOf("e")).Index).OnDisk);
            Assert.Equal(before, await Answers(engine, "d", exact: true));
            Assert.Equal(fresh, await Answers(engine, "e", exact: true));
            // Every chunk file is unlinked once mapped. (The folder is process-wide, so a parallel test's engine may have
            // pointed it elsewhere and this one's folder may not exist at all.)
            string mapped = Path.Combine(folder.Path, "mapped");
            Assert.Empty(Directory.Exists(mapped) ? Directory.GetFiles(mapped) : []);
        }
    }

    [Fact]
    public async Task Rescoring_returns_full_vector_scores_and_can_be_turned_off()
    {
        using var folder = new TestData.TempFolder();
        using var engine = Open(folder.Path);
        await Create(engine, "plain", "none");
        await Create(engine, "int8", "int8");
        await Create(engine, "raw", "int8", rescore: false);
        foreach (string name in new[] { "plain", "int8", "raw" })
        {
            await UpsertRange(engine, name, 0, 300, batch: 100, dimension: Dimension);
        }
        Assert.False(engine.GetCollection("raw").Settings.Rescore);
        var query = new QueryRequest { Vector = TestData.RandomVector(new Random(5), Dimension), K = 5 };
        var truth = await engine.QueryAsync("plain", query);
        var rescored = await engine.QueryAsync("int8", query);
        var raw = await engine.QueryAsync("raw", query);
        Assert.Equal(truth.Select(h => h.Id), rescored.Select(h => h.Id));
        Assert.Equal(truth.Select(h => h.Score), rescored.Select(h => h.Score), new ToleranceComparer(1e-5f));
        // Without rescoring the scores are the codes' approximations: close to, but not, the float scores.
        Assert.Equal(5, raw.Count);
        Assert.Contains(raw, h => truth.Any(t => t.Id == h.Id && t.Score != h.Score));
    }

    [Theory]
    [InlineData("pq", "exact", "none", null, "quantization")]
    [InlineData("binary", "hnsw", "none", null, "quantization")]
    [InlineData("int8", "exact", "random", null, "quantization")]
    [InlineData("none", "exact", "none", 3f, "oversampling")]
    [InlineData("int8", "exact", "none", 0.5f, "oversampling")]
    [InlineData("binary", "exact", "none", 1000f, "oversampling")]
    public async Task Bad_quantization_options_are_refused_naming_the_field(string quantization, string index, string projection, float? oversampling, string field)
    {
        using var folder = new TestData.TempFolder();
        using var engine = Open(folder.Path);
        var error = await Assert.ThrowsAsync<VectorStoreException>(() => engine.CreateCollectionAsync(new CreateCollectionRequest
        {
            Name = "bad", Encoder = "none", Dimension = Dimension, Index = index, Projection = projection, Quantization = quantization, Oversampling = oversampling,
        }));
        Assert.Equal(ErrorCode.InvalidArgument, error.Code);
        Assert.Equal(field, error.Field);
        Assert.Empty(engine.ListCollections());
    }

    /// <summary>The CI target: int8 codes with rescoring keep recall@10 ≥ 0.99 on siftsmall (queried in batches, ef 64).</summary>
    [DataFact(AnnData.SiftSmallFile)]
    public async Task SiftSmall_int8_collection_with_rescoring_reaches_recall_099()
    {
        string sift = AnnData.SiftSmall;
        var vectors = AnnData.ReadFvecs(Path.Combine(sift, "siftsmall_base.fvecs"));
        var queries = AnnData.ReadFvecs(Path.Combine(sift, "siftsmall_query.fvecs"));
        var truth = AnnData.ReadIvecs(Path.Combine(sift, "siftsmall_groundtruth.ivecs"));
        using var folder = new TestData.TempFolder();
        using var engine = Open(folder.Path);
        await engine.CreateCollectionAsync(new CreateCollectionRequest
        {
            Name = "sift", Encoder = "none", Metric = "l2", Dimension = vectors[0].Length, Index = IndexKinds.Exact, Shards = 2, Quantization = "int8",
        });
        for (int start = 0; start < vectors.Length; start += 1000)
        {
            await engine.UpsertAsync("sift", [.. Enumerable.Range(start, Math.Min(1000, vectors.Length - start)).Select(i => new DocumentInput { Id = $"{i}", Vector = vectors[i] })]);
        }
        var results = await engine.QueryBatchAsync("sift", [.. queries.Select(q => new QueryRequest { Vector = q, K = 10, Ef = 64 })]);
        int[][] found = [.. results.Select(hits => hits.Select(h => int.Parse(h.Id, System.Globalization.CultureInfo.InvariantCulture)).ToArray())];
        double recall = AnnData.Recall(found, truth, 10);
        output.WriteLine($"siftsmall int8 + rescore (oversampling 3): recall@10 {recall:F4}");
        Assert.True(recall >= 0.99, $"recall@10 = {recall:F4}");
    }

    private sealed class ToleranceComparer(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(float obj) => 0;
    }
}
