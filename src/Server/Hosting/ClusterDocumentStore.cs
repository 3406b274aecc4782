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
}
