using Orleans.Runtime;
using VectorStoreDb.Cluster;
using VectorStoreDb.Engine;

namespace VectorStoreDb.Server.Hosting;

/// <summary>Cluster mode: every call goes through the cluster coordinator on this node.</summary>
internal sealed class ClusterDocumentStore(ClusterCoordinator coordinator, EngineHost host, IClusterMembershipService membership, ILocalSiloDetails silo) : IDocumentStore
{
    /// <summary>Ready once this node's own engine has recovered and Orleans lists this silo as active.</summary>
    public bool IsReady => host.IsReady
        && membership.CurrentSnapshot.Members.TryGetValue(silo.SiloAddress, out var self) && self.Status == SiloStatus.Active;

    public Task<CollectionInfo> CreateCollectionAsync(CreateCollectionRequest request, int? replicas, string? writeConsistency, CancellationToken cancellationToken) =>
        coordinator.CreateCollectionAsync(request, replicas, writeConsistency, cancellationToken);

    public Task<IReadOnlyList<CollectionInfo>> ListCollectionsAsync(CancellationToken cancellationToken) => coordinator.ListCollectionsAsync(cancellationToken);

    public Task<CollectionInfo> GetCollectionAsync(string name, CancellationToken cancellationToken) => coordinator.GetCollectionAsync(name, cancellationToken);

    public Task DeleteCollectionAsync(string name, CancellationToken cancellationToken) => coordinator.DeleteCollectionAsync(name, cancellationToken);

    public Task<IReadOnlyList<string>> UpsertAsync(string collection, IReadOnlyList<DocumentInput> documents, CancellationToken cancellationToken) =>
        coordinator.UpsertAsync(collection, documents, cancellationToken);

    public Task<Document> GetDocumentAsync(string collection, string id, bool includeVector, CancellationToken cancellationToken) =>
        coordinator.GetDocumentAsync(collection, id, includeVector, cancellationToken);

    public Task DeleteDocumentAsync(string collection, string id, CancellationToken cancellationToken) =>
        coordinator.DeleteDocumentAsync(collection, id, cancellationToken);

    public Task<long> CountAsync(string collection, CancellationToken cancellationToken) => coordinator.CountAsync(collection, cancellationToken);

    public Task<IReadOnlyList<QueryHit>> QueryAsync(string collection, QueryRequest request, CancellationToken cancellationToken) =>
        coordinator.QueryAsync(collection, request, cancellationToken);

    public Task<DocumentPage> ListDocumentsAsync(string collection, int offset, int limit, string? after, bool includeVectors, CancellationToken cancellationToken) =>
        coordinator.ListDocumentsAsync(collection, offset, limit, after, includeVectors, cancellationToken);

    public Task<IReadOnlyList<Document>> GetDocumentsAsync(string collection, IReadOnlyList<string> ids, bool includeVectors, CancellationToken cancellationToken) =>
        coordinator.GetDocumentsAsync(collection, ids, includeVectors, cancellationToken);

    public Task<ScrollPage> ScrollAsync(string collection, ScrollRequest request, CancellationToken cancellationToken) =>
        coordinator.ScrollAsync(collection, request, cancellationToken);

    public Task<IReadOnlyList<IReadOnlyList<QueryHit>>> QueryBatchAsync(string collection, IReadOnlyList<QueryRequest> queries, CancellationToken cancellationToken) =>
        coordinator.QueryBatchAsync(collection, queries, cancellationToken);

    public Task<CollectionSettings> GetSettingsAsync(string collection, CancellationToken cancellationToken) =>
        coordinator.GetSettingsAsync(collection, cancellationToken);

    public Task<IReadOnlyList<CollectionSettings>> ListSettingsAsync(CancellationToken cancellationToken) => coordinator.ListSettingsAsync(cancellationToken);

    /// <summary>
    /// Refused: every replica fits its own projection on its own shard's vectors, so a refit would leave the shards
    /// (and a shard's replicas, which could fit while writes go on) projecting differently. The collection must exist,
    /// so an unknown name is still NotFound.
    /// </summary>
    public async Task<(int Fitted, CollectionInfo Collection)> RefitProjectionAsync(string collection, CancellationToken cancellationToken)
    {
        await coordinator.GetSettingsAsync(collection, cancellationToken);
        throw new VectorStoreException(ErrorCode.FailedPrecondition,
            $"Projection refit is not available in cluster mode: each replica of collection '{collection}' keeps its own projection, and refitting them one by one would leave shards projecting differently. Nothing was changed.",
            "name");
    }

    /// <summary>
    /// Refused: a snapshot here would cover this node's own single-node engine, which holds none of the cluster's
    /// documents (those live in replicas spread over the nodes), so it would silently save or restore the wrong data.
    /// </summary>
    public void EnsureSnapshotsSupported() =>
        throw new VectorStoreException(ErrorCode.FailedPrecondition,
            "Snapshots are not available in cluster mode yet: a collection's documents are spread over shard replicas on several nodes, and a snapshot of this node alone would miss them. Nothing was changed.");
}
