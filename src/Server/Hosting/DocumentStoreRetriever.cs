using VectorStoreDb.Engine;
using VectorStoreDb.Rag;

namespace VectorStoreDb.Server.Hosting;

/// <summary>Chat retrieval through the document store: the engine on one node, the cluster's scatter-gather in cluster mode.</summary>
internal sealed class DocumentStoreRetriever(IDocumentStore store) : IRagRetriever
{
    public Task<CollectionSettings> GetSettingsAsync(string collection, CancellationToken cancellationToken) =>
        store.GetSettingsAsync(collection, cancellationToken);

    public Task<IReadOnlyList<QueryHit>> QueryAsync(string collection, QueryRequest request, CancellationToken cancellationToken) =>
        store.QueryAsync(collection, request, cancellationToken);
}
