namespace VectorStoreDb.Index;

/// <summary>One search hit: the caller's integer label and the internal distance (smaller is closer).</summary>
public readonly record struct Neighbor(int Label, float Distance);

/// <summary>
/// Decides, during the search itself, whether a label may enter the result. Indexes call it only on
/// candidates, so a filter costs work proportional to what the search visits, not to the collection.
/// </summary>
public interface ILabelFilter
{
    bool Allows(int label);
}

/// <summary>Per-query knobs: <see cref="Ef"/> is the HNSW beam width; <see cref="Exact"/> asks an approximate index for a full scan. The exact index ignores both.</summary>
public readonly record struct SearchParameters(int Ef = 0, bool Exact = false);

/// <summary>
/// A vector index over integer labels. Exact scan and HNSW both implement it so a collection can switch
/// between them and a query can ask for the exact answer. Vectors are handed in already prepared for the
/// metric (see <see cref="MetricExtensions.Prepare"/>). Implementations are safe for concurrent readers
/// and writers.
/// </summary>
public interface IVectorIndex : IDisposable
{
    /// <summary>"exact" or "hnsw".</summary>
    string Kind { get; }

    int Dimension { get; }

    Metric Metric { get; }

    /// <summary>Number of live (not deleted) vectors.</summary>
    int Count { get; }

    /// <summary>Bytes held by vectors and graph structures.</summary>
    long MemoryBytes { get; }

    /// <summary>Adds a vector under <paramref name="label"/>, or replaces the vector already there.</summary>
    void Upsert(int label, ReadOnlySpan<float> vector);

    /// <summary>Removes the label; returns false when it was not present.</summary>
    bool Remove(int label);

    /// <summary>True when the label is present and live.</summary>
    bool Contains(int label);

    /// <summary>Copies the stored vector of a live label into <paramref name="destination"/>.</summary>
    bool TryGetVector(int label, Span<float> destination);

    /// <summary>
    /// Writes up to <c>destination.Length</c> nearest live labels that pass <paramref name="filter"/>, closest
    /// first, and returns how many were written.
    /// </summary>
    int Search(ReadOnlySpan<float> query, Span<Neighbor> destination, SearchParameters parameters = default, ILabelFilter? filter = null);

    /// <summary>
    /// Searches many queries at once, using all cores. <paramref name="queries"/> holds the queries as rows of
    /// <see cref="Dimension"/> floats (prepared like a single query); up to <paramref name="k"/> neighbours of
    /// query q are written closest first to <c>results[q * k .. (q + 1) * k)</c> and their number to
    /// <c>counts[q]</c>. Results equal those of <see cref="Search"/> per query (up to float rounding of the
    /// distances). The exact index reads memory once for the whole batch; HNSW runs the queries in parallel.
    /// One filter applies to every query of the batch.
    /// </summary>
    void SearchBatch(ReadOnlySpan<float> queries, int k, Span<Neighbor> results, Span<int> counts, SearchParameters parameters = default,
        ILabelFilter? filter = null, CancellationToken cancellationToken = default);

    /// <summary>Writes the whole index to <paramref name="stream"/> so it can be loaded without a rebuild.</summary>
    void Save(Stream stream);
}
