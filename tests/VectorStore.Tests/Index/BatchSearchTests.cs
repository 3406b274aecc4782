using VectorStoreDb.Index;
using VectorStoreDb.Index.Hnsw;

namespace VectorStoreDb.Tests.Index;

public class BatchSearchTests
{
    private static float[] Queries(Random random, int count, int dimension, Metric metric)
    {
        var flat = new float[count * dimension];
        for (int q = 0; q < count; q++)
        {
            var query = TestData.RandomVector(random, dimension);
            metric.Prepare(query);
            query.CopyTo(flat, q * dimension);
        }
        return flat;
    }

    /// <summary>Batch results must be the per-query results: same labels in the same order, distances equal up to summation order.</summary>
    private static void AssertSameAsOneAtATime(IVectorIndex index, float[] queries, int k, Neighbor[] results, int[] counts, SearchParameters parameters, ILabelFilter? filter)
    {
        int dimension = index.Dimension;
        var single = new Neighbor[k];
        for (int q = 0; q < queries.Length / dimension; q++)
        {
            int n = index.Search(queries.AsSpan(q * dimension, dimension), single, parameters, filter);
            Assert.Equal(n, counts[q]);
            var batch = results.AsSpan(q * k, n).ToArray();
            Assert.Equal(single.Take(n).Select(s => s.Label), batch.Select(b => b.Label));
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(single[i].Distance, batch[i].Distance, 1e-4 * Math.Max(1, Math.Abs(single[i].Distance)));
            }
        }
    }

    [Theory]
    [InlineData(Metric.Cosine, 3_000, 128, 40)]
    [InlineData(Metric.Dot, 10_000, 33, 17)] // several chunks and workers; a dimension and a query count that are not multiples of 16
    [InlineData(Metric.L2, 10_000, 8, 1)]
    [InlineData(Metric.L2, 2_051, 384, 70)]
    public void Exact_batch_equals_one_query_at_a_time(Metric metric, int count, int dimension, int queryCount)
    {
        var random = new Random(count + dimension + queryCount);
        using var index = new ExactIndex(dimension, metric);
        for (int i = 0; i < count; i++)
        {
            var v = TestData.RandomVector(random, dimension);
            metric.Prepare(v);
            index.Upsert(i, v);
        }
        for (int i = 0; i < count; i += 5)
        {
            index.Remove(i);
        }
        var queries = Queries(random, queryCount, dimension, metric);
        const int k = 10;
        var results = new Neighbor[queryCount * k];
        var counts = new int[queryCount];
        index.SearchBatch(queries, k, results, counts);
        AssertSameAsOneAtATime(index, queries, k, results, counts, default, null);

        var filter = new ModuloFilter(3);
        index.SearchBatch(queries, k, results, counts, default, filter);
        Assert.All(results, r => Assert.True(r.Label % 3 == 0 && r.Label % 5 != 0));
        AssertSameAsOneAtATime(index, queries, k, results, counts, default, filter);
    }

    [Fact]
    public void Exact_batch_with_k_above_the_live_count_returns_every_live_vector_and_k_zero_returns_none()
    {
        var random = new Random(4);
        using var index = new ExactIndex(20, Metric.L2);
        for (int i = 0; i < 12; i++)
        {
            index.Upsert(i * 3, TestData.RandomVector(random, 20));
        }
        index.Remove(3);
        var queries = Queries(random, 5, 20, Metric.L2);
        var results = new Neighbor[5 * 50];
        var counts = new int[5];
        index.SearchBatch(queries, 50, results, counts);
        Assert.All(counts, c => Assert.Equal(11, c));
        AssertSameAsOneAtATime(index, queries, 50, results, counts, default, null);

        counts.AsSpan().Fill(-1);
        index.SearchBatch(queries, 0, [], counts);
        Assert.All(counts, c => Assert.Equal(0, c));
    }

    [Fact]
    public void Batch_arguments_that_do_not_fit_are_rejected_and_cancellation_is_honoured()
    {
        using var index = new ExactIndex(4, Metric.Dot);
        for (int i = 0; i < 20_000; i++)
        {
            index.Upsert(i, [i, 1, 2, 3]);
        }
        Assert.Throws<ArgumentException>(() => index.SearchBatch(new float[7], 1, new Neighbor[2], new int[2]));
        Assert.Throws<ArgumentException>(() => index.SearchBatch(new float[8], 3, new Neighbor[5], new int[2]));
        Assert.Throws<ArgumentException>(() => index.SearchBatch(new float[8], 1, new Neighbor[2], new int[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => index.SearchBatch(new float[8], -1, new Neighbor[2], new int[2]));
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => index.SearchBatch(new float[8], 1, new Neighbor[2], new int[2], default, null, cancelled.Token));
    }

    [Fact]
    public void Hnsw_batch_equals_one_query_at_a_time_graph_and_exact()
    {
        var random = new Random(9);
        const int dimension = 24;
        using var index = new HnswIndex(dimension, Metric.Cosine, seed: 1);
        for (int i = 0; i < 3_000; i++)
        {
            var v = TestData.RandomVector(random, dimension);
            Metric.Cosine.Prepare(v);
            index.Upsert(i, v);
        }
        for (int i = 0; i < 3_000; i += 11)
        {
            index.Remove(i);
        }
        var queries = Queries(random, 33, dimension, Metric.Cosine);
        const int k = 7;
        var results = new Neighbor[33 * k];
        var counts = new int[33];
        foreach (var parameters in new[] { new SearchParameters(Ef: 40), new SearchParameters(Exact: true) })
        {
            index.SearchBatch(queries, k, results, counts, parameters);
            AssertSameAsOneAtATime(index, queries, k, results, counts, parameters, null);
            var filter = new ModuloFilter(4);
            index.SearchBatch(queries, k, results, counts, parameters, filter);
            AssertSameAsOneAtATime(index, queries, k, results, counts, parameters, filter);
        }
    }

    private sealed class ModuloFilter(int modulus) : ILabelFilter
    {
        public bool Allows(int label) => label % modulus == 0;
    }
}
