namespace VectorStoreDb.Client;

/// <summary>What a query searches with.</summary>
public enum SearchMode
{
    /// <summary>Vectors: the query text is embedded (or a vector given) and compared by the collection's metric.</summary>
    Dense,
    /// <summary>Words: BM25 over the collection's full-text index. Scores are BM25 scores.</summary>
    Text,
    /// <summary>Both, each with its own candidate list (<see cref="SearchQuery.Prefetch"/>), fused into one ranking.</summary>
    Hybrid,
}

/// <summary>How hybrid search merges the dense and the text result lists.</summary>
public enum FusionMethod
{
    /// <summary>Reciprocal Rank Fusion: Σ weight / (<see cref="SearchQuery.RrfK"/> + rank). Robust; ignores score gaps.</summary>
    Rrf,
    /// <summary>Distribution-based score fusion: each list's scores normalised by mean ± 3σ, then summed with weights.</summary>
    Dbsf,
}

/// <summary>A collection's full-text index settings.</summary>
public sealed record TextIndexDescription(string Language, float Bm25K1, float Bm25B);

/// <summary>Where a result came from: its 1-based rank and score in each retriever's list (null = not found there).</summary>
public sealed record SearchHitExplanation(int? DenseRank, float? DenseScore, int? TextRank, float? TextScore);

/// <summary>Wire names of the hybrid-search enums, shared by the remote and embedded clients.</summary>
public static class HybridWireNames
{
    /// <summary><c>dense</c>, <c>text</c> or <c>hybrid</c>.</summary>
    public static string ToWire(SearchMode mode) => mode switch
    {
        SearchMode.Text => "text",
        SearchMode.Hybrid => "hybrid",
        _ => "dense",
    };

    /// <summary><c>rrf</c> or <c>dbsf</c>.</summary>
    public static string ToWire(FusionMethod fusion) => fusion == FusionMethod.Dbsf ? "dbsf" : "rrf";

    /// <summary>Parses a wire mode name; unknown names read as <see cref="SearchMode.Dense"/>.</summary>
    public static SearchMode ModeFromWire(string? mode) => mode switch
    {
        "text" => SearchMode.Text,
        "hybrid" => SearchMode.Hybrid,
        _ => SearchMode.Dense,
    };
}
