using VectorStoreDb.Engine;

namespace VectorStoreDb.Server.Hosting;

/// <summary>Single-node mode: straight calls into this process's engine.</summary>
internal sealed class EngineDocumentStore(EngineHost host) : IDocumentStore
{
    private VectorStoreEngine Engine => host.Engine;

    public bool IsReady => host.IsReady;

    public Task<CollectionInfo> CreateCollectionAsync(CreateCollectionRequest request, int? replicas, string? writeConsistency, CancellationToken cancellationToken)
    {
        if (replicas is > 1)
        {
            throw new VectorStoreException(ErrorCode.InvalidArgument, "replicas: a single-node server holds one replica; enable cluster mode for more.", "replicas");
        }
        return Engine.CreateCollectionAsync(request, cancellationToken);
    }

    public Task<IReadOnlyList<CollectionInfo>> ListCollectionsAsync(CancellationToken cancellationToken) => Task.FromResult(Engine.ListCollections());

    public Task<CollectionInfo> GetCollectionAsync(string name, CancellationToken cancellationToken) => Task.FromResult(Engine.GetCollection(name));

    public Task DeleteCollectionAsync(string name, CancellationToken cancellationToken) => Engine.DeleteCollectionAsync(name, cancellationToken);

    public Task<IReadOnlyList<string>> UpsertAsync(string collection, IReadOnlyList<DocumentInput> documents, CancellationToken cancellationToken) =>
        Engine.UpsertAsync(collection, documents, cancellationToken);

    public Task<Document> GetDocumentAsync(string collection, string id, bool includeVector, CancellationToken cancellationToken) =>
        Task.FromResult(Engine.GetDocument(collection, id, includeVector));

    public Task DeleteDocumentAsync(string collection, string id, CancellationToken cancellationToken) =>
        Engine.DeleteDocumentAsync(collection, id, cancellationToken);

    public Task<long> CountAsync(string collection, CancellationToken cancellationToken) => Task.FromResult(Engine.Count(collection));

    public Task<IReadOnlyList<QueryHit>> QueryAsync(string collection, QueryRequest request, CancellationToken cancellationToken) =>
        Engine.QueryAsync(collection, request, cancellationToken);

    public Task<DocumentPage> ListDocumentsAsync(string collection, int offset, int limit, string? after, bool includeVectors, CancellationToken cancellationToken) =>
        Task.FromResult(Engine.ListDocuments(collection, offset, limit, after, includeVectors));

    public Task<IReadOnlyList<Document>> GetDocumentsAsync(string collection, IReadOnlyList<string> ids, bool includeVectors, CancellationToken cancellationToken) =>
        Engine.GetDocumentsAsync(collection, ids, includeVectors, cancellationToken);

    public Task<ScrollPage> ScrollAsync(string collection, ScrollRequest request, CancellationToken cancellationToken) =>
        Engine.ScrollAsync(collection, request, cancellationToken);

    public Task<IReadOnlyList<IReadOnlyList<QueryHit>>> QueryBatchAsync(string collection, IReadOnlyList<QueryRequest> queries, CancellationToken cancellationToken) =>
        Engine.QueryBatchAsync(collection, queries, cancellationToken);

    public Task<CollectionSettings> GetSettingsAsync(string collection, CancellationToken cancellationToken) =>
        Task.FromResult(Engine.GetCollection(collection).Settings);

    public Task<IReadOnlyList<CollectionSettings>> ListSettingsAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<CollectionSettings>>([.. Engine.ListCollections().Select(c => c.Settings)]);

    public async Task<(int Fitted, CollectionInfo Collection)> RefitProjectionAsync(string collection, CancellationToken cancellationToken)
    {
        int fitted = await Engine.RefitProjectionAsync(collection, cancellationToken);
        return (fitted, Engine.GetCollection(collection));
    }

    public void EnsureSnapshotsSupported()
    {
    }
}
