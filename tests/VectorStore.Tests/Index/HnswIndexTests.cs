using VectorStoreDb.Index;
using VectorStoreDb.Index.Hnsw;

namespace VectorStoreDb.Tests.Index;

public class HnswIndexTests
{
    private const int K = 10;

    private sealed class SetFilter(Func<int, bool> allows) : ILabelFilter
    {
        public bool Allows(int label) => allows(label);
    }

    private static (float[][] Base, float[][] Queries, int[][] Truth) LoadSift()
    {
        string folder = AnnData.SiftSmall;
        return (AnnData.ReadFvecs(Path.Combine(folder, "siftsmall_base.fvecs")),
                AnnData.ReadFvecs(Path.Combine(folder, "siftsmall_query.fvecs")),
                AnnData.ReadIvecs(Path.Combine(folder, "siftsmall_groundtruth.ivecs")));
    }

    private static HnswIndex Build(float[][] vectors, Metric metric = Metric.L2, int m = 16, int efConstruction = 200)
    {
        var index = new HnswIndex(vectors[0].Length, metric, m, efConstruction, vectors.Length, seed: 42);
        var labels = Enumerable.Range(0, vectors.Length).ToArray();
        index.UpsertBatch(labels, vectors.SelectMany(v => v).ToArray());
        return index;
    }

    private static int[] Labels(IVectorIndex index, float[] query, int k, SearchParameters parameters = default, ILabelFilter? filter = null)
    {
        var hits = new Neighbor[k];
        int n = index.Search(query, hits, parameters, filter);
        return [.. hits.Take(n).Select(h => h.Label)];
    }

    private static float[][] RandomVectors(int count, int dimension, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => TestData.RandomVector(random, dimension))];
    }

    [DataFact(AnnData.SiftSmallFile)]
    public void SiftSmall_RecallAt10_AtEf64_IsAtLeast095()
    {
        var (vectors, queries, truth) = LoadSift();
        using var index = Build(vectors);
        Assert.Equal(vectors.Length, index.Count);
        var found = queries.Select(q => Labels(index, q, K, new SearchParameters(Ef: 64))).ToArray();
        double recall = AnnData.Recall(found, truth, K);
        Assert.True(recall >= 0.95, $"recall@10 = {recall:F4}");
    }

    [Fact]
    public void ExactFlag_GivesTheSameAnswerAsExactIndex()
    {
        var vectors = RandomVectors(2000, 24, 1);
        using var hnsw = Build(vectors, Metric.Cosine, m: 8, efConstruction: 50);
        using var exact = new ExactIndex(24, Metric.Cosine);
        for (int i = 0; i < vectors.Length; i++)
        {
            exact.Upsert(i, vectors[i]);
        }
        var query = RandomVectors(20, 24, 2);
        foreach (var q in query)
        {
            var a = new Neighbor[K];
            var b = new Neighbor[K];
            Assert.Equal(exact.Search(q, b), hnsw.Search(q, a, new SearchParameters(Exact: true)));
            Assert.Equal(b, a);
        }
    }

    [Fact]
    public void DeletingTwentyPercent_KeepsRecallAndNeverReturnsDeleted()
    {
        var vectors = RandomVectors(5000, 32, 3);
        var queries = RandomVectors(100, 32, 4);
        using var index = Build(vectors, m: 12, efConstruction: 100);
        index.CompactionThreshold = 0; // compact explicitly below so the test is deterministic
        double before = RecallVsExact(index, queries, ef: 64);

        var random = new Random(5);
        var deleted = new HashSet<int>();
        while (deleted.Count < vectors.Length / 5)
        {
            int label = random.Next(vectors.Length);
            if (deleted.Add(label))
            {
                Assert.True(index.Remove(label));
            }
        }
        Assert.False(index.Remove(deleted.First()));
        Assert.Equal(vectors.Length - deleted.Count, index.Count);
        double tombstoned = RecallVsExact(index, queries, ef: 64);
        foreach (var q in queries)
        {
            var labels = Labels(index, q, K, new SearchParameters(Ef: 64));
            Assert.Equal(K, labels.Length);
            Assert.DoesNotContain(labels, deleted.Contains);
        }

        int freed = index.Compact();
        Assert.Equal(deleted.Count, freed);
        Assert.Equal(0, index.DeletedCount);
        double compacted = RecallVsExact(index, queries, ef: 64);
        Assert.True(before - tombstoned <= 0.02, $"recall {before:F4} -> {tombstoned:F4} with tombstones");
        Assert.True(before - compacted <= 0.02, $"recall {before:F4} -> {compacted:F4} after compaction");
        foreach (int label in deleted)
        {
            Assert.False(index.Contains(label));
        }

        // Freed labels can be used again.
        int reused = deleted.First();
        index.Upsert(reused, vectors[reused]);
        Assert.Equal(reused, Labels(index, vectors[reused], 1)[0]);
    }

    [Fact]
    public void BackgroundCompaction_StartsPastTheThreshold()
    {
        var vectors = RandomVectors(1000, 16, 6);
        using var index = Build(vectors, m: 8, efConstruction: 64);
        for (int i = 0; i < 300; i++)
        {
            index.Remove(i * 3);
        }
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((index.DeletedCount > 0) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10);
        }
        index.Compact(); // waits for a running background pass (same lock) and finishes any stragglers
        Assert.Equal(0, index.DeletedCount);
        Assert.Equal(700, index.Count);
        double recall = RecallVsExact(index, RandomVectors(50, 16, 7), ef: 200);
        // Compaction passes here run while removals go on, so the graph they leave depends on the timing: compacting
        // after every removal schedule one at a time gives 0.998, but passes overlapping the removals measured as low
        // as 0.974 in 60 timed rounds (issue noted in docs/guides/hnsw.md). The bound catches a wrecked graph, not that spread.
        Assert.True(recall >= 0.95, $"recall@10 after background compaction = {recall:F4}");
    }

    [Fact]
    public void Update_MovesTheVector_AndTombstonedLabelsComeBack()
    {
        var vectors = RandomVectors(3000, 16, 8);
        using var index = Build(vectors, m: 8, efConstruction: 64);
        var random = new Random(9);
        for (int i = 0; i < 300; i++)
        {
            int label = random.Next(vectors.Length);
            vectors[label] = TestData.RandomVector(random, 16);
            index.Upsert(label, vectors[label]);
        }
        Assert.True(index.Remove(17));
        vectors[17] = TestData.RandomVector(random, 16);
        index.Upsert(17, vectors[17]);
        Assert.Equal(vectors.Length, index.Count);
        int hits = 0;
        for (int label = 0; label < vectors.Length; label += 10)
        {
            var stored = new float[16];
            Assert.True(index.TryGetVector(label, stored));
            Assert.Equal(vectors[label], stored);
            hits += Labels(index, vectors[label], 1)[0] == label ? 1 : 0;
        }
        Assert.True(hits >= 295, $"{hits}/300 updated vectors found as their own nearest neighbour");
        Assert.Equal(17, Labels(index, vectors[17], 1)[0]);
    }

    [Theory]
    [InlineData(2)]   // 50 %
    [InlineData(10)]  // 10 %
    [InlineData(100)] // 1 %
    public void FilteredSearch_RecallVsExact_AtDefaultEf(int modulus)
    {
        var vectors = RandomVectors(5000, 32, 10);
        var queries = RandomVectors(50, 32, 11);
        using var index = Build(vectors, m: 16, efConstruction: 100);
        var filter = new SetFilter(label => label % modulus == 0);
        var found = new List<int[]>();
        var truth = new List<int[]>();
        foreach (var q in queries)
        {
            var labels = Labels(index, q, K, default, filter);
            Assert.Equal(K, labels.Length);
            Assert.All(labels, l => Assert.Equal(0, l % modulus));
            found.Add(labels);
            truth.Add(Labels(index, q, K, new SearchParameters(Exact: true), filter));
        }
        double recall = AnnData.Recall(found, truth, K);
        Assert.True(recall >= 0.95, $"filtered recall@10 at 1/{modulus} selectivity = {recall:F4}");
    }

    [Fact]
    public void Search_ReturnsEveryMatch_WhenFewerThanKPassTheFilter()
    {
        var vectors = RandomVectors(2000, 8, 12);
        using var index = Build(vectors, m: 8, efConstruction: 32);
        var allowed = new HashSet<int> { 5, 999, 1500 };
        var labels = Labels(index, vectors[0], K, default, new SetFilter(allowed.Contains));
        Assert.Equal(allowed.Order(), labels.Order());
    }

    [Fact]
    public void SaveLoad_RoundTrip_GivesIdenticalResults()
    {
        var vectors = RandomVectors(3000, 24, 13);
        using var index = Build(vectors, Metric.Dot, m: 8, efConstruction: 64);
        index.CompactionThreshold = 0;
        for (int i = 0; i < 100; i++)
        {
            index.Remove(i * 7);
        }
        using var stream = new MemoryStream();
        index.Save(stream);
        stream.Position = 0;
        using var loaded = HnswIndex.Load(stream);
        Assert.Equal(index.Count, loaded.Count);
        Assert.Equal(index.DeletedCount, loaded.DeletedCount);
        Assert.Equal(Metric.Dot, loaded.Metric);
        foreach (var q in RandomVectors(30, 24, 14))
        {
            var a = new Neighbor[K];
            var b = new Neighbor[K];
            int na = index.Search(q, a, new SearchParameters(Ef: 32));
            int nb = loaded.Search(q, b, new SearchParameters(Ef: 32));
            Assert.Equal(na, nb);
            Assert.Equal(a, b);
        }
        stream.Position = 0;
        stream.WriteByte(0);
        stream.Position = 0;
        Assert.Throws<InvalidDataException>(() => HnswIndex.Load(stream));
    }

    [Fact]
    public async Task ConcurrentInsertsAndQueries_NoErrors_AndEveryPointFindable()
    {
        var vectors = RandomVectors(6000, 16, 15);
        using var index = new HnswIndex(16, Metric.L2, m: 8, efConstruction: 64); // starts small: growth happens under load
        int inserted = 0;
        using var done = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 2).Select(r => Task.Run(() =>
        {
            var random = new Random(r);
            var hits = new Neighbor[K];
            while (!done.IsCancellationRequested)
            {
                int n = index.Search(vectors[random.Next(vectors.Length)], hits, new SearchParameters(Ef: 32));
                Assert.True(n <= K);
                Assert.All(hits.Take(n), h => Assert.True(h.Label >= 0 && h.Label < vectors.Length));
            }
        })).ToArray();
        var writers = Enumerable.Range(0, 3).Select(w => Task.Run(() =>
        {
            for (int label = w; label < vectors.Length; label += 3)
            {
                index.Upsert(label, vectors[label]);
                Interlocked.Increment(ref inserted);
            }
        })).ToArray();
        await Task.WhenAll(writers);
        await done.CancelAsync();
        await Task.WhenAll(readers);

        Assert.Equal(vectors.Length, index.Count);
        int self = 0;
        for (int label = 0; label < vectors.Length; label++)
        {
            self += Labels(index, vectors[label], 1, new SearchParameters(Ef: 64))[0] == label ? 1 : 0;
        }
        Assert.True(self >= vectors.Length * 0.995, $"{self}/{vectors.Length} points found as their own nearest neighbour");
    }

    [Fact]
    public void BadInput_IsRefused()
    {
        using var index = new HnswIndex(4, Metric.L2);
        Assert.Throws<ArgumentException>(() => index.Upsert(0, new float[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => index.Upsert(-1, new float[4]));
        Assert.Throws<ArgumentException>(() => index.Search(new float[5], new Neighbor[1]));
        Assert.Equal(0, index.Count);
        Assert.Equal(0, index.Search(new float[4], new Neighbor[3]));
        Assert.False(index.Remove(3));
    }

    private static double RecallVsExact(HnswIndex index, float[][] queries, int ef)
    {
        var found = queries.Select(q => Labels(index, q, K, new SearchParameters(Ef: ef))).ToArray();
        var truth = queries.Select(q => Labels(index, q, K, new SearchParameters(Exact: true))).ToArray();
        return AnnData.Recall(found, truth, K);
    }
}
