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
    [InlineData(Metric.Dot, 5_000, 5)] // shorter than one SIMD register: scalar kernel path
    [InlineData(Metric.L2, 5_000, 8)] // Vector256 path only
    [InlineData(Metric.Dot, 9_000, 384)] // crosses chunk boundaries of the vector block
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

    [Theory]
    [InlineData(Metric.Dot, 20_000, 32)]
    [InlineData(Metric.L2, 20_000, 24)]
    public void Filter_and_tombstones_are_checked_only_for_candidates_that_would_enter_the_top_k(Metric metric, int count, int dimension)
    {
        var random = new Random(count ^ dimension);
        using var index = new ExactIndex(dimension, metric) { MaxDegreeOfParallelism = 1 };
        var vectors = new float[count][];
        var live = new bool[count];
        for (int i = 0; i < count; i++)
        {
            vectors[i] = TestData.RandomVector(random, dimension);
            index.Upsert(i, vectors[i]);
            live[i] = i % 3 != 0;
        }
        for (int i = 0; i < count; i += 3)
        {
            index.Remove(i);
        }
        var results = new Neighbor[10];
        for (int q = 0; q < 5; q++)
        {
            var query = TestData.RandomVector(random, dimension);
            var filter = new CountingFilter(l => l % 2 == 0);
            int n = index.Search(query, results, default, filter);
            Assert.Equal(10, n);
            Assert.Equal(BruteForce(vectors, live, query, metric, 10, l => l % 2 == 0), results.Select(r => r.Label).ToArray());
            // Asked for every live label this would be ~13,000 calls; only the few distances under the running
            // top-k threshold (tens to a few hundred) reach the filter.
            Assert.InRange(filter.Calls, 10, count / 20);
        }
    }

    [Fact]
    public void Filter_rejecting_every_candidate_and_k_larger_than_the_matches_return_what_matches()
    {
        var random = new Random(23);
        using var index = new ExactIndex(16, Metric.Cosine);
        var vectors = new float[3_000][];
        for (int i = 0; i < vectors.Length; i++)
        {
            vectors[i] = TestData.RandomVector(random, 16);
            Metric.Cosine.Prepare(vectors[i]);
            index.Upsert(i, vectors[i]);
        }
        var query = vectors[5];
        var results = new Neighbor[10];
        Assert.Equal(0, index.Search(query, results, default, new CountingFilter(_ => false)));

        var fewMatches = new CountingFilter(l => l is 7 or 1_234 or 2_999);
        int n = index.Search(query, results, default, fewMatches);
        Assert.Equal(3, n);
        var live = Enumerable.Repeat(true, vectors.Length).ToArray();
        Assert.Equal(BruteForce(vectors, live, query, Metric.Cosine, 10, l => l is 7 or 1_234 or 2_999), results.Take(n).Select(r => r.Label).ToArray());
        Assert.Equal(vectors.Length, fewMatches.Calls); // the heap never fills, so every label is a candidate
    }

    private sealed class CountingFilter(Func<int, bool> predicate) : ILabelFilter
    {
        public int Calls { get; private set; }

        public bool Allows(int label)
        {
            Calls++;
            return predicate(label);
        }
    }

    private sealed class PredicateFilter(Func<int, bool> predicate) : ILabelFilter
    {
        public bool Allows(int label) => predicate(label);
    }
}
