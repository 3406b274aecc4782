namespace VectorStoreDb.Embedding;

/// <summary>
/// What a text is embedded as. Retrieval models are trained with a different prompt for each side (arctic-embed puts
/// an instruction before queries only); symmetric models such as all-MiniLM-L6-v2 treat both alike.
/// </summary>
public enum EmbeddingInputType
{
    /// <summary>A passage to be stored and found (ingest); the default.</summary>
    Document,

    /// <summary>A search query (query, hybrid and RAG retrieval).</summary>
    Query,
}

/// <summary>The wire names of <see cref="EmbeddingInputType"/>: <c>query</c> and <c>document</c>.</summary>
public static class EmbeddingInputTypes
{
    public const string Document = "document";

    public const string Query = "query";

    /// <summary>Parses a wire name (case-insensitive; null means document); false for anything else.</summary>
    public static bool TryParse(string? value, out EmbeddingInputType inputType)
    {
        inputType = EmbeddingInputType.Document;
        if (value is null || value.Equals(Document, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        if (value.Equals(Query, StringComparison.OrdinalIgnoreCase))
        {
            inputType = EmbeddingInputType.Query;
            return true;
        }
        return false;
    }
}
