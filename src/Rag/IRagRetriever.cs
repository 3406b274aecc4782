using VectorStoreDb.Engine;

namespace VectorStoreDb.Rag;

/// <summary>
/// Where chat finds a collection's settings and its passages: the engine itself (single node, embedded), or in
/// cluster mode the cluster's scatter-gather, so an answer is built from the whole collection whichever node took it.
/// </summary>
public interface IRagRetriever
{
    /// <summary>The collection's settings (its encoder and default mode decide how it is searched); NotFound when there is none.</summary>
    Task<CollectionSettings> GetSettingsAsync(string collection, CancellationToken cancellationToken);

    Task<IReadOnlyList<QueryHit>> QueryAsync(string collection, QueryRequest request, CancellationToken cancellationToken);
}

/// <summary>Retrieval straight from an engine in this process.</summary>
public sealed class EngineRagRetriever(VectorStoreEngine engine) : IRagRetriever
{
    public Task<CollectionSettings> GetSettingsAsync(string collection, CancellationToken cancellationToken) =>
        Task.FromResult(engine.GetCollection(collection).Settings);

    public Task<IReadOnlyList<QueryHit>> QueryAsync(string collection, QueryRequest request, CancellationToken cancellationToken) =>
        engine.QueryAsync(collection, request, cancellationToken);
}
