using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using VectorStoreDb.Engine;
using VectorStoreDb.Engine.Filtering;
using VectorStoreDb.Engine.Storage;
using VectorStoreDb.Index;

namespace VectorStoreDb.Tests.Engine;

public class HnswEngineTests
{
    private const int Dimension = 16;

    private static async Task<float[][]> FillAsync(VectorStoreEngine engine, string collection, int count, int seed)
    {
        var random = new Random(seed);
        var vectors = Enumerable.Range(0, count).Select(_ => TestData.RandomVector(random, Dimension)).ToArray();
        for (int start = 0; start < count; start += 500)
        {
            var batch = Enumerable.Range(start, Math.Min(500, count - start)).Select(i => new DocumentInput
            {
                Id = $"doc-{i}",
                Vector = vectors[i],
                Metadata = new Dictionary<string, MetadataValue> { ["bucket"] = MetadataValue.Of(i % 100) },
            }).ToList();
            await engine.UpsertAsync(collection, batch);
        }
        return vectors;
    }

    private static MetadataFilter Filter(string json) => MetadataFilter.Parse(JsonDocument.Parse(json).RootElement);

    [Fact]
    public async Task Collection_DefaultsToHnsw_AndExactFlagMatchesTheExactIndex()
    {
        using var folder = new TestData.TempFolder();
        using var engine = VectorStoreEngine.Open(folder.Path);
        var info = await engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "ann", Encoder = "none", Dimension = Dimension, M = 8, EfConstruction = 64 });
        Assert.Equal(IndexKinds.Hnsw, info.Settings.Index);
        Assert.Equal(8, info.Settings.M);
        await engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "flat", Encoder = "none", Dimension = Dimension, Index = "exact" });
        await FillAsync(engine, "ann", 2000, 1);
        await FillAsync(engine, "flat", 2000, 1);

        var random = new Random(2);
        int agree = 0;
        for (int q = 0; q < 20; q++)
        {
            var query = TestData.RandomVector(random, Dimension);
            var exact = await engine.QueryAsync("ann", new QueryRequest { Vector = query, K = 10, Exact = true });
            var reference = await engine.QueryAsync("flat", new QueryRequest { Vector = query, K = 10 });
            Assert.Equal(reference.Select(h => h.Id), exact.Select(h => h.Id));
            Assert.Equal(reference.Select(h => h.Score), exact.Select(h => h.Score));
            var approximate = await engine.QueryAsync("ann", new QueryRequest { Vector = query, K = 10, Ef = 100 });
            agree += approximate.Select(h => h.Id).Intersect(reference.Select(h => h.Id)).Count();
        }
        Assert.True(agree >= 190, $"approximate results share {agree}/200 ids with the exact ones");
        var error = await Assert.ThrowsAsync<VectorStoreException>(() => engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "bad", Encoder = "none", Dimension = 4, Index = "ivf" }));
        Assert.Equal("index", error.Field);
    }

    [Fact]
    public async Task Planner_UsesExactScanForSelectiveFilters_AndResultsMatchExact()
    {
        using var folder = new TestData.TempFolder();
        var storage = new FasterStorageProvider(folder.Path, new DurabilityOptions(), NullLoggerFactory.Instance);
        Directory.CreateDirectory(Path.Combine(folder.Path, "collections", "c"));
        var settings = new CollectionSettings { Name = "c", Dimension = Dimension, Metric = Metric.Cosine, Index = IndexKinds.Hnsw, M = 8, EfConstruction = 64 };
        using var shard = new Shard(settings, storage.OpenShard("c", 0));
        var random = new Random(3);
        var records = Enumerable.Range(0, 3000).Select(i =>
        {
            var vector = TestData.RandomVector(random, Dimension);
            Metric.Cosine.Prepare(vector);
            return new StorageRecord(RecordKind.Upsert, $"doc-{i}", null, vector, new Dictionary<string, MetadataValue> { ["bucket"] = MetadataValue.Of(i % 100) });
        }).ToList();
        await shard.WriteAsync(records, CancellationToken.None);

        var rare = Filter("""{"bucket": 7}""");            // 1 %
        var common = Filter("""{"bucket": {"$lt": 50}}"""); // 50 %
        Assert.True(QueryPlanner.PreferExactScan(shard, rare, 64, out double rareSelectivity));
        Assert.InRange(rareSelectivity, 0.0, 0.03);
        Assert.False(QueryPlanner.PreferExactScan(shard, common, 64, out double commonSelectivity));
        Assert.InRange(commonSelectivity, 0.4, 0.6);
        // A small shard goes exact even at 50 %: fewer matches than 10 x ef.
        Assert.True(QueryPlanner.PreferExactScan(shard, common, 500, out _));

        foreach (var filter in new[] { rare, common })
        {
            for (int q = 0; q < 10; q++)
            {
                var query = TestData.RandomVector(random, Dimension);
                Metric.Cosine.Prepare(query);
                var planned = new Neighbor[10];
                var exact = new Neighbor[10];
                Assert.Equal(10, shard.Search(query, planned, default, filter));
                Assert.Equal(10, shard.Search(query, exact, new SearchParameters(Exact: true), filter));
                Assert.True(planned.Select(h => h.Label).Intersect(exact.Select(h => h.Label)).Count() >= 9);
                Assert.All(planned, h => Assert.True(filter.Matches(shard.GetByLabel(h.Label)!.Metadata)));
            }
        }
    }

    [Fact]
    public async Task Reopen_RebuildsTheGraphFromTheLog()
    {
        using var folder = new TestData.TempFolder();
        float[][] vectors;
        using (var engine = VectorStoreEngine.Open(folder.Path))
        {
            await engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "c", Encoder = "none", Dimension = Dimension, Metric = "l2", M = 8, EfConstruction = 64 });
            vectors = await FillAsync(engine, "c", 1500, 5);
            await engine.DeleteDocumentAsync("c", "doc-3");
        }
        using var reopened = VectorStoreEngine.Open(folder.Path);
        Assert.Equal(1499, reopened.GetCollection("c").DocumentCount);
        Assert.Equal(IndexKinds.Hnsw, reopened.GetCollection("c").Settings.Index);
        var hits = await reopened.QueryAsync("c", new QueryRequest { Vector = vectors[42], K = 1 });
        Assert.Equal("doc-42", hits[0].Id);
        hits = await reopened.QueryAsync("c", new QueryRequest { Vector = vectors[3], K = 3 });
        Assert.DoesNotContain(hits, h => h.Id == "doc-3");
    }
}
