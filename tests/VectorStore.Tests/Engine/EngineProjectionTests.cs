using VectorStoreDb.Embedding.Onnx;
using VectorStoreDb.Engine;
using Xunit.Abstractions;
using static VectorStoreDb.Tests.StorageTestSupport;

namespace VectorStoreDb.Tests.Engine;

/// <summary>Collections whose index holds projected vectors, rescored with the stored full vectors.</summary>
public sealed class EngineProjectionTests(ITestOutputHelper output)
{
    private const int Dimension = 64;

    /// <summary>Clustered data (what sentence embeddings look like): 40 centres, points scattered around them.</summary>
    private static List<float[]> Clustered(int count, int seed)
    {
        var random = new Random(seed);
        var centres = Enumerable.Range(0, 40).Select(_ => TestData.RandomVector(new Random(random.Next()), Dimension)).ToArray();
        var result = new List<float[]>(count);
        for (int i = 0; i < count; i++)
        {
            var centre = centres[random.Next(centres.Length)];
            var noise = TestData.RandomVector(random, Dimension);
            result.Add([.. centre.Select((c, j) => c + 0.35f * noise[j])]);
        }
        return result;
    }

    private static async Task Upsert(VectorStoreEngine engine, string name, List<float[]> vectors, int from, int count)
    {
        for (int start = from; start < from + count; start += 100)
        {
            int n = Math.Min(100, from + count - start);
            await engine.UpsertAsync(name, [.. Enumerable.Range(start, n).Select(i => new DocumentInput { Id = $"d{i}", Text = $"text {i}", Vector = vectors[i] })]);
        }
    }

    private static Task Create(VectorStoreEngine engine, string name, string projection, int? indexDimension = null, int? pcaSampleSize = null, int shards = 1) =>
        engine.CreateCollectionAsync(new CreateCollectionRequest
        {
            Name = name, Encoder = "none", Metric = "cosine", Dimension = Dimension, Projection = projection,
            IndexDimension = indexDimension, PcaSampleSize = pcaSampleSize, Shards = shards,
        });

    /// <summary>Recall@10 of the projected search against an exact full-vector search, plus the score check.</summary>
    private static async Task<double> Recall(VectorStoreEngine engine, string name, List<float[]> queries, int? ef = null)
    {
        int found = 0;
        foreach (var query in queries)
        {
            var exact = await engine.QueryAsync(name, new QueryRequest { Vector = query, K = 10, Exact = true });
            var projected = await engine.QueryAsync(name, new QueryRequest { Vector = query, K = 10, Ef = ef });
            var exactScores = exact.ToDictionary(h => h.Id, h => h.Score);
            foreach (var hit in projected)
            {
                if (exactScores.TryGetValue(hit.Id, out float score))
                {
                    found++;
                    // Rescored hits carry the full-vector score, not the projected one.
                    Assert.Equal(score, hit.Score, 1e-5f);
                }
            }
        }
        return found / (10.0 * queries.Count);
    }

    private static async Task<string[]> Answers(VectorStoreEngine engine, string name, List<float[]> queries)
    {
        var lines = new List<string>();
        foreach (var query in queries)
        {
            var hits = await engine.QueryAsync(name, new QueryRequest { Vector = query, K = 10 });
            lines.Add(string.Join(",", hits.Select(h => $"{h.Id}:{h.Score:R}")));
        }
        return [.. lines];
    }

    [Fact]
    public async Task RandomProjectionRescoredKeepsRecallAtHalfDimensionAndSurvivesRestart()
    {
        using var folder = new TestData.TempFolder();
        var all = Clustered(2050, 1);
        var vectors = all[..2000];
        var queries = all[2000..]; // held out: same clusters, not in the collection
        string[] before;
        using (var engine = Open(folder.Path))
        {
            await Create(engine, "rp", "random", shards: 2);
            var settings = engine.GetCollection("rp").Settings;
            Assert.Equal("random", settings.Projection);
            Assert.Equal(Dimension / 2, settings.IndexDimension);
            Assert.True(settings.Rescore);
            await Upsert(engine, "rp", vectors, 0, vectors.Count);
            double recall = await Recall(engine, "rp", queries);
            output.WriteLine($"random 64->32, 2 shards, 2000 docs: recall@10 {recall:F3}");
            Assert.True(recall >= 0.95, $"recall {recall}");
            // ef raises the candidate count; with every document a candidate, rescoring gives the exact answer.
            Assert.Equal(1.0, await Recall(engine, "rp", queries, ef: 2000));
            // Full vectors stay retrievable at full dimension.
            Assert.Equal(Dimension, engine.GetDocument("rp", "d3", includeVector: true).Vector!.Length);
            before = await Answers(engine, "rp", queries);
            // The graph is built over the projected vectors; the full vectors sit in a flat store for rescoring.
            var shard = engine.Find("rp").Shards[0];
            Assert.Equal(IndexKinds.Hnsw, shard.ProjectedIndexOrNull!.Kind);
            Assert.Equal(IndexKinds.Exact, shard.Index.Kind);
            Assert.Equal(Dimension / 2, shard.ProjectedIndexOrNull.Dimension);
            await engine.CheckpointAsync(force: true);
            await Upsert(engine, "rp", vectors, 0, 10); // a log tail after the checkpoint
        }
        using (var engine = Open(folder.Path))
        {
            Assert.Equal(2000, engine.GetCollection("rp").DocumentCount);
            // The checkpoint's graph is loaded, not rebuilt, and the log tail is applied on top of it.
            Assert.All(engine.Find("rp").Shards, s => Assert.True(s.ProjectedIndexLoaded));
            Assert.Equal(before, await Answers(engine, "rp", queries));
        }
    }

    [Fact]
    public async Task PcaFitsAtSampleSizeIsPersistedAndGivesIdenticalResultsAfterReopen()
    {
        using var folder = new TestData.TempFolder();
        var all = Clustered(1240, 3);
        var vectors = all[..1200];
        var queries = all[1200..];
        string[] before;
        using (var engine = Open(folder.Path))
        {
            await Create(engine, "pca", "pca", indexDimension: 32, pcaSampleSize: 600);
            await Upsert(engine, "pca", vectors, 0, 500);
            // Not fitted yet: searches are exact over the full vectors.
            Assert.False(File.Exists(Path.Combine(folder.Path, "collections", "pca", "projection.bin")));
            Assert.Equal(1.0, await Recall(engine, "pca", queries));
            await Upsert(engine, "pca", vectors, 500, 700);
            Assert.True(File.Exists(Path.Combine(folder.Path, "collections", "pca", "projection.bin")));
            double recall = await Recall(engine, "pca", queries);
            output.WriteLine($"pca 64->32, 1200 docs: recall@10 {recall:F3}");
            Assert.True(recall >= 0.95, $"recall {recall}");
            before = await Answers(engine, "pca", queries);
        }
        using (var engine = Open(folder.Path))
        {
            Assert.Equal(before, await Answers(engine, "pca", queries));
        }
    }

    [Fact]
    public async Task SnapshotCarriesTheFittedPcaAndItsGraph()
    {
        using var folder = new TestData.TempFolder();
        var all = Clustered(640, 11);
        var queries = all[600..];
        using var engine = Open(folder.Path);
        await Create(engine, "pca", "pca", indexDimension: 32, pcaSampleSize: 300);
        await Upsert(engine, "pca", all, 0, 600);
        Assert.True(engine.GetCollection("pca").ProjectionReady);
        var before = await Answers(engine, "pca", queries);
        var snapshot = await engine.CreateSnapshotAsync("pca");

        var restored = await engine.RestoreSnapshotAsync("pca", snapshot.Name, "copy");
        // Fitted at once with the same matrix, and the projected graph comes from the snapshot, not a rebuild.
        Assert.True(restored.ProjectionReady);
        Assert.True(File.Exists(Path.Combine(folder.Path, "collections", "copy", "projection.bin")));
        Assert.All(engine.Find("copy").Shards, s => Assert.True(s.ProjectedIndexLoaded));
        Assert.Equal(before, await Answers(engine, "copy", queries));
    }

    [Fact]
    public async Task WritesDuringARefitAreNeitherBlockedForTheBuildNorLost()
    {
        using var folder = new TestData.TempFolder();
        var vectors = Clustered(3000, 13);
        using var engine = Open(folder.Path);
        await Create(engine, "pca", "pca", indexDimension: 32, pcaSampleSize: 100_000);
        await Upsert(engine, "pca", vectors, 0, 2000);

        // Writes land after the refit has built its graph from a snapshot and before it swaps the graph in: they
        // must get through (the build holds no lock) and must not be lost (the catch-up redoes their labels).
        var shard = engine.Find("pca").Shards[0];
        int hookRuns = 0;
        shard.BeforeProjectionCatchUp = () =>
        {
            hookRuns++;
            for (int i = 0; i < 300; i++)
            {
                int n = 2000 + i;
                engine.UpsertAsync("pca", [new DocumentInput { Id = $"d{n}", Vector = vectors[n] }, new DocumentInput { Id = $"d{i}", Vector = vectors[i + 1000] }])
                    .GetAwaiter().GetResult();
                engine.DeleteDocumentAsync("pca", $"d{(i * 7) + 3}").GetAwaiter().GetResult();
            }
        };
        await engine.RefitProjectionAsync("pca");
        shard.BeforeProjectionCatchUp = null;
        Assert.Equal(1, hookRuns);

        // The projected graph holds exactly the live documents' current vectors: every document finds itself first.
        Assert.Equal(shard.Index.Count, shard.ProjectedIndexOrNull!.Count);
        for (int i = 0; i < 3000; i += 37)
        {
            if (engine.Find("pca").Get($"d{i}", includeVector: true) is not { } document)
            {
                continue;
            }
            var hits = await engine.QueryAsync("pca", new QueryRequest { Vector = document.Vector, K = 1 });
            Assert.Equal(1.0f, hits[0].Score, 1e-4f);
        }
    }

    [Fact]
    public async Task RefitOnDemandRebuildsFromFullVectorsAndDeletesStayDeleted()
    {
        using var folder = new TestData.TempFolder();
        var vectors = Clustered(400, 5);
        using var engine = Open(folder.Path);
        await Create(engine, "pca", "pca");
        await Create(engine, "rp", "random");
        await Upsert(engine, "pca", vectors, 0, 400);
        Assert.Equal(400, await engine.RefitProjectionAsync("pca"));
        await engine.DeleteDocumentAsync("pca", "d7");
        await engine.UpsertAsync("pca", [new DocumentInput { Id = "d8", Vector = vectors[9] }]);
        var hits = await engine.QueryAsync("pca", new QueryRequest { Vector = vectors[7], K = 5 });
        Assert.DoesNotContain(hits, h => h.Id == "d7");
        hits = await engine.QueryAsync("pca", new QueryRequest { Vector = vectors[9], K = 2 });
        Assert.Equal(["d8", "d9"], hits.Select(h => h.Id).Order());
        Assert.Equal(399, engine.GetCollection("pca").DocumentCount);
        var error = await Assert.ThrowsAsync<VectorStoreException>(() => engine.RefitProjectionAsync("rp"));
        Assert.Equal("projection", error.Field);
    }

    [ModelFact(TestModels.Small)]
    public async Task PcaAtHalfDimensionKeepsRecallOnRealEmbeddings()
    {
        // vs-encoder-small held-out pairs: long texts are the documents, short texts the queries.
        var pairs = TestModels.ReadJsonLines(Path.Combine(TestModels.Folder(TestModels.Small), "heldout_pairs.jsonl"))
            .Take(600).Select(p => (Short: p.GetProperty("short").GetString()!, Long: p.GetProperty("long").GetString()!)).ToArray();
        // Its own encoder, not the shared one: OnnxEncoderTests counts the shared encoder's inference runs in parallel.
        using var encoder = OnnxTextEncoder.Load(TestModels.Small, TestModels.Folder(TestModels.Small), new EncoderOptions { IntraOpThreads = 2 });
        var documents = await encoder.EmbedAsync([.. pairs.Select(p => p.Long)]);
        var queries = await encoder.EmbedAsync([.. pairs.Take(100).Select(p => p.Short)]);
        using var folder = new TestData.TempFolder();
        using var engine = Open(folder.Path);
        await engine.CreateCollectionAsync(new CreateCollectionRequest
        {
            Name = "real", Encoder = "none", Metric = "cosine", Dimension = encoder.Dimension, Projection = "pca", PcaSampleSize = 600,
        });
        for (int start = 0; start < documents.Length; start += 100)
        {
            await engine.UpsertAsync("real", [.. Enumerable.Range(start, 100).Select(i => new DocumentInput { Id = $"d{i}", Vector = documents[i] })]);
        }
        Assert.True(engine.GetCollection("real").ProjectionReady);
        Assert.Equal(encoder.Dimension / 2, engine.GetCollection("real").Settings.IndexDimension);
        double recall = await Recall(engine, "real", [.. queries]);
        output.WriteLine($"pca {encoder.Dimension}->{encoder.Dimension / 2}, 600 vs-encoder-small documents, 100 queries: recall@10 {recall:F3}");
        Assert.True(recall >= 0.95, $"recall {recall}");
    }

    [Theory]
    [InlineData("random", 65, "indexDimension")]
    [InlineData("random", 0, "indexDimension")]
    [InlineData("svd", null, "projection")]
    [InlineData("none", 32, "indexDimension")]
    public async Task BadProjectionOptionsAreRefusedNamingTheField(string projection, int? indexDimension, string field)
    {
        using var folder = new TestData.TempFolder();
        using var engine = Open(folder.Path);
        var error = await Assert.ThrowsAsync<VectorStoreException>(() => Create(engine, "bad", projection, indexDimension));
        Assert.Equal(ErrorCode.InvalidArgument, error.Code);
        Assert.Equal(field, error.Field);
        Assert.Empty(engine.ListCollections());
    }
}
