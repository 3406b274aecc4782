using VectorStoreDb.Index;

namespace VectorStoreDb.Tests.Index;

public class ExactIndexTests
{
    private static int[] BruteForce(float[][] vectors, bool[] live, float[] query, Metric metric, int k, Func<int, bool>? allow = null) =>
        [.. Enumerable.Range(0, vectors.Length)
            .Where(i => live[i] && (allow is null || allow(i)))
            .OrderBy(i => metric.Distance(query, vectors[i]))
            .ThenBy(i => i)
            .Take(k)];

    [Theory]
    [InlineData(Metric.Cosine, 1_000, 17)]
    [InlineData(Metric.Dot, 1_000, 64)]
    [InlineData(Metric.L2, 1_000, 33)]
    [InlineData(Metric.L2, ExactIndex.ParallelScanThreshold + 5_000, 16)] // exercises the parallel scan
    public void Search_equals_brute_force(Metric metric, int count, int dimension)
    {
        var random = new Random(count + dimension);
        using var index = new ExactIndex(dimension, metric);
        var vectors = new float[count][];
        var live = new bool[count];
        for (int i = 0; i < count; i++)
        {
            vectors[i] = TestData.RandomVector(random, dimension);
            metric.Prepare(vectors[i]);
            index.Upsert(i, vectors[i]);
            live[i] = true;
        }
        for (int i = 0; i < count; i += 7)
        {
            Assert.True(index.Remove(i));
            live[i] = false;
        }
        Assert.Equal(live.Count(l => l), index.Count);
        var results = new Neighbor[10];
        for (int q = 0; q < 5; q++)
        {
            var query = TestData.RandomVector(random, dimension);
            metric.Prepare(query);
            int n = index.Search(query, results);
            Assert.Equal(10, n);
            Assert.Equal(BruteForce(vectors, live, query, metric, 10), results.Select(r => r.Label).ToArray());
        }
    }

    [Fact]
    public void Filter_is_applied_and_k_results_come_back_when_k_match()
    {
        var random = new Random(5);
        using var index = new ExactIndex(8, Metric.L2);
        var vectors = Enumerable.Range(0, 500).Select(_ => TestData.RandomVector(random, 8)).ToArray();
        for (int i = 0; i < vectors.Length; i++)
        {
            index.Upsert(i, vectors[i]);
        }
        var onlyMultiplesOf50 = new PredicateFilter(l => l % 50 == 0);
        var results = new Neighbor[10];
        int n = index.Search(vectors[3], results, default, onlyMultiplesOf50);
        Assert.Equal(10, n);
        Assert.All(results, r => Assert.Equal(0, r.Label % 50));
        var live = Enumerable.Repeat(true, vectors.Length).ToArray();
        Assert.Equal(BruteForce(vectors, live, vectors[3], Metric.L2, 10, l => l % 50 == 0), results.Select(r => r.Label).ToArray());
    }

    [Fact]
    public void Upsert_replaces_and_save_load_round_trips()
    {
        var random = new Random(11);
        using var index = new ExactIndex(12, Metric.Cosine);
        for (int i = 0; i < 300; i++)
        {
            var v = TestData.RandomVector(random, 12);
            Metric.Cosine.Prepare(v);
            index.Upsert(i, v);
        }
        var replacement = TestData.RandomVector(random, 12);
        Metric.Cosine.Prepare(replacement);
        index.Upsert(42, replacement);
        index.Remove(7);
        Assert.Equal(299, index.Count);
        var results = new Neighbor[1];
        index.Search(replacement, results);
        Assert.Equal(42, results[0].Label);

        using var stream = new MemoryStream();
        index.Save(stream);
        stream.Position = 0;
        using var loaded = ExactIndex.Load(stream);
        Assert.Equal(index.Count, loaded.Count);
        Assert.False(loaded.Contains(7));
        var query = TestData.RandomVector(random, 12);
        Metric.Cosine.Prepare(query);
        var a = new Neighbor[20];
        var b = new Neighbor[20];
        index.Search(query, a);
        loaded.Search(query, b);
        Assert.Equal(a, b);
    }

    private sealed class PredicateFilter(Func<int, bool> predicate) : ILabelFilter
    {
        public bool Allows(int label) => predicate(label);
    }
}
