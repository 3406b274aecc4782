namespace VectorStoreDb.Engine;

/// <summary>A k-NN query by text or by vector.</summary>
public sealed record QueryRequest
{
    public string? Text { get; init; }

    public float[]? Vector { get; init; }

    public int K { get; init; } = 10;

    public Filtering.MetadataFilter? Filter { get; init; }

    /// <summary>Scan every vector instead of using the approximate index.</summary>
    public bool Exact { get; init; }

    /// <summary>HNSW beam width for this query (≥ k); null takes the default.</summary>
    public int? Ef { get; init; }

    public bool IncludeVectors { get; init; }

    /// <summary><c>dense</c>, <c>text</c> or <c>hybrid</c>; null takes the collection's default mode.</summary>
    public string? Mode { get; init; }

    /// <summary>Candidates each retriever contributes to hybrid fusion (default max(100, k)).</summary>
    public int? Prefetch { get; init; }

    /// <summary><c>dbsf</c> (default) or <c>rrf</c>.</summary>
    public string? Fusion { get; init; }

    /// <summary>The k of Reciprocal Rank Fusion (default 60).</summary>
    public int? RrfK { get; init; }

    /// <summary>Weight of the dense retriever in fusion (default 1).</summary>
    public float? DenseWeight { get; init; }

    /// <summary>Weight of the text retriever in fusion (default 1).</summary>
    public float? TextWeight { get; init; }

    /// <summary>Say for each result which retriever found it, at what rank and score.</summary>
    public bool Explain { get; init; }

    /// <summary>
    /// Return chunks instead of documents (dense mode): every hit is one chunk, so a long document may appear more
    /// than once, each time with its chunk as <see cref="QueryHit.Highlight"/>.
    /// </summary>
    public bool Chunks { get; init; }
}
