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
