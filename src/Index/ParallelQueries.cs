using System.Buffers;

namespace VectorStoreDb.Index;

/// <summary>A batch as independent single-query searches spread over the cores (for searches that do not share memory traffic).</summary>
internal static class ParallelQueries
{
    public static void Search(IVectorIndex index, ReadOnlySpan<float> queries, int k, Span<Neighbor> results, Span<int> counts, SearchParameters parameters,
        ILabelFilter? filter, int maxDegreeOfParallelism, CancellationToken cancellationToken)
    {
        int dimension = index.Dimension;
        int queryCount = queries.Length / dimension;
        var queryCopy = ArrayPool<float>.Shared.Rent(queries.Length);
        var hits = ArrayPool<Neighbor>.Shared.Rent(queryCount * k);
        var found = ArrayPool<int>.Shared.Rent(queryCount);
        try
        {
            queries.CopyTo(queryCopy);
            Parallel.For(0, queryCount, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, maxDegreeOfParallelism), CancellationToken = cancellationToken },
                q => found[q] = index.Search(queryCopy.AsSpan(q * dimension, dimension), hits.AsSpan(q * k, k), parameters, filter));
            hits.AsSpan(0, queryCount * k).CopyTo(results);
            found.AsSpan(0, queryCount).CopyTo(counts);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(queryCopy);
            ArrayPool<Neighbor>.Shared.Return(hits);
            ArrayPool<int>.Shared.Return(found);
        }
    }
}
