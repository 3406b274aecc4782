using VectorStoreDb.Engine;

namespace VectorStoreDb.Server.Hosting;

/// <summary>
/// What the REST and gRPC endpoints call for collections, documents and queries: the local engine in single-node
/// mode (<see cref="EngineDocumentStore"/>), the cluster coordinator in cluster mode (<see cref="ClusterDocumentStore"/>).
/// Refusals are <see cref="VectorStoreException"/> in both, so the endpoints map errors one way.
/// </summary>
public interface IDocumentStore
{
    /// <summary>True when this node can serve requests (<c>/readyz</c>).</summary>
    bool IsReady { get; }

    Task<CollectionInfo> CreateCollectionAsync(CreateCollectionRequest request, int? replicas, string? writeConsistency, CancellationToken cancellationToken);

    Task<IReadOnlyList<CollectionInfo>> ListCollectionsAsync(CancellationToken cancellationToken);

    Task<CollectionInfo> GetCollectionAsync(string name, CancellationToken cancellationToken);

    Task DeleteCollectionAsync(string name, CancellationToken cancellationToken);

    Task<IReadOnlyList<string>> UpsertAsync(string collection, IReadOnlyList<DocumentInput> documents, CancellationToken cancellationToken);

    Task<Document> GetDocumentAsync(string collection, string id, bool includeVector, CancellationToken cancellationToken);

    Task DeleteDocumentAsync(string collection, string id, CancellationToken cancellationToken);

    Task<long> CountAsync(string collection, CancellationToken cancellationToken);

    Task<IReadOnlyList<QueryHit>> QueryAsync(string collection, QueryRequest request, CancellationToken cancellationToken);

    Task<DocumentPage> ListDocumentsAsync(string collection, int offset, int limit, string? after, bool includeVectors, CancellationToken cancellationToken);

    Task<IReadOnlyList<Document>> GetDocumentsAsync(string collection, IReadOnlyList<string> ids, bool includeVectors, CancellationToken cancellationToken);

    Task<ScrollPage> ScrollAsync(string collection, ScrollRequest request, CancellationToken cancellationToken);

    Task<IReadOnlyList<IReadOnlyList<QueryHit>>> QueryBatchAsync(string collection, IReadOnlyList<QueryRequest> queries, CancellationToken cancellationToken);

    /// <summary>A collection's settings without its document count (which costs a fan-out in cluster mode).</summary>
    Task<CollectionSettings> GetSettingsAsync(string collection, CancellationToken cancellationToken);

    /// <summary>Every collection's settings without document counts.</summary>
    Task<IReadOnlyList<CollectionSettings>> ListSettingsAsync(CancellationToken cancellationToken);

    /// <summary>Refits a pca collection's projection; returns how many vectors the fit used and the collection after it.</summary>
    Task<(int Fitted, CollectionInfo Collection)> RefitProjectionAsync(string collection, CancellationToken cancellationToken);

    /// <summary>
    /// Throws <see cref="ErrorCode.FailedPrecondition"/> when snapshots (create, list, download, delete, restore) cannot
    /// cover the whole collection here, rather than acting on part of it.
    /// </summary>
    void EnsureSnapshotsSupported();
}
