namespace VectorStoreDb.Engine;

/// <summary>One query result: in dense mode the metric's natural score (similarity for cosine/dot, distance for l2), in text mode the BM25 score, in hybrid mode the fused score.</summary>
public sealed record QueryHit(string Id, float Score, string? Text, IReadOnlyDictionary<string, MetadataValue> Metadata, float[]? Vector = null)
{
    /// <summary>Set when the query asked to explain: which retriever found the hit, at what rank and score.</summary>
    public HitExplanation? Explanation { get; init; }

    /// <summary>
    /// The chunk that matched: set for documents that were split into chunks (the best chunk's score is the hit's
    /// score), and for every hit of a query that asked for chunks.
    /// </summary>
    public ChunkHighlight? Highlight { get; init; }
}
