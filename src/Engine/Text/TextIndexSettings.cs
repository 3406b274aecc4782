namespace VectorStoreDb.Engine;

/// <summary>A collection's full-text (BM25) index settings. Persisted with the collection; immutable afterwards.</summary>
public sealed record TextIndexSettings
{
    /// <summary><c>english</c> (stop words + Porter stemming) or <c>none</c> (word splitting and lower-casing only).</summary>
    public string Language { get; init; } = Settings.CollectionDefaults.TextLanguage;

    /// <summary>BM25 term-frequency saturation.</summary>
    public float K1 { get; init; } = Settings.CollectionDefaults.Bm25K1;

    /// <summary>BM25 document-length normalisation (0 = none, 1 = full).</summary>
    public float B { get; init; } = Settings.CollectionDefaults.Bm25B;
}

/// <summary>Query modes: vectors only, full text only, or both fused.</summary>
public static class QueryModes
{
    public const string Dense = "dense";
    public const string Text = "text";
    public const string Hybrid = "hybrid";

    public static readonly IReadOnlyList<string> All = [Dense, Text, Hybrid];
}

/// <summary>How hybrid mode merges the dense and text result lists.</summary>
public static class FusionKinds
{
    /// <summary>Reciprocal Rank Fusion: Σ weight / (rrfK + rank). Uses ranks only.</summary>
    public const string Rrf = "rrf";

    /// <summary>Distribution-based score fusion: each list's scores mapped through mean ± 3σ to [0, 1], then a weighted sum.</summary>
    public const string Dbsf = "dbsf";

    /// <summary>The fusion used when a query names none: DBSF, which beat RRF at every weight measured on SciFact.</summary>
    public const string Default = Dbsf;

    public static readonly IReadOnlyList<string> All = [Rrf, Dbsf];
}

/// <summary>Which retriever found a hybrid (or explained) result, at what rank (1-based) and with what score.</summary>
public sealed record HitExplanation(int? DenseRank, float? DenseScore, int? TextRank, float? TextScore);
