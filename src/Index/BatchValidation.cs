namespace VectorStoreDb.Index;

/// <summary>Argument checks shared by the indexes' batch searches.</summary>
internal static class BatchValidation
{
    /// <summary>Number of queries in <paramref name="queries"/>; throws when the buffers do not fit it.</summary>
    public static int QueryCount(ReadOnlySpan<float> queries, int dimension, int k, Span<Neighbor> results, Span<int> counts)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (queries.Length % dimension != 0)
        {
            throw new ArgumentException($"Expected queries as rows of dimension {dimension}, got {queries.Length} floats.", nameof(queries));
        }
        int queryCount = queries.Length / dimension;
        if (results.Length < (long)queryCount * k)
        {
            throw new ArgumentException($"{queryCount} queries with k = {k} need {queryCount * k} result slots, got {results.Length}.", nameof(results));
        }
        if (counts.Length < queryCount)
        {
            throw new ArgumentException($"{queryCount} queries need {queryCount} counts, got {counts.Length}.", nameof(counts));
        }
        return queryCount;
    }
}
