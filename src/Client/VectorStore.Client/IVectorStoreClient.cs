namespace VectorStore.Client;

/// <summary>
/// Everything an application does with VectorStore. Implemented by <c>VectorStoreGrpcClient</c> (a remote
/// server) and <c>EmbeddedVectorStore</c> (the engine in-process, in a local data folder), with the same
/// behaviour and the same errors, so code written against one runs against the other.
/// </summary>
public interface IVectorStoreClient : IDisposable
{
    /// <summary>Creates a collection. Throws <see cref="VectorStoreErrorCode.AlreadyExists"/> when the name is taken.</summary>
    Task<CollectionDescription> CreateCollectionAsync(string name, CollectionOptions? options = null, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<CollectionDescription>> ListCollectionsAsync(CancellationToken cancellationToken = default);

    /// <summary>Settings and document count. Throws <see cref="VectorStoreErrorCode.NotFound"/> for an unknown name.</summary>
    Task<CollectionDescription> GetCollectionAsync(string name, CancellationToken cancellationToken = default);

    Task DeleteCollectionAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Inserts or replaces documents; returns their ids (generated where none was given), in input order.</summary>
    Task<IReadOnlyList<string>> UpsertAsync(string collection, IEnumerable<DocumentWrite> documents, CancellationToken cancellationToken = default);

    /// <summary>Throws <see cref="VectorStoreErrorCode.NotFound"/> when the document does not exist.</summary>
    Task<VectorDocument> GetDocumentAsync(string collection, string id, bool includeVector = false, CancellationToken cancellationToken = default);

    /// <summary>Throws <see cref="VectorStoreErrorCode.NotFound"/> when the document does not exist.</summary>
    Task DeleteDocumentAsync(string collection, string id, CancellationToken cancellationToken = default);

    Task<long> CountAsync(string collection, CancellationToken cancellationToken = default);

    /// <summary>Nearest neighbours, best first.</summary>
    Task<IReadOnlyList<SearchHit>> QueryAsync(string collection, SearchQuery query, CancellationToken cancellationToken = default);

    /// <summary>Embeds texts with a named encoder (default <c>demo</c>).</summary>
    Task<IReadOnlyList<float[]>> EmbedAsync(IReadOnlyList<string> texts, string? encoder = null, CancellationToken cancellationToken = default);

    /// <summary>The encoders the store knows.</summary>
    Task<IReadOnlyList<ModelDescription>> ListModelsAsync(CancellationToken cancellationToken = default);
}
