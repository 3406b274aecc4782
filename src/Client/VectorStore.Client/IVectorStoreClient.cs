namespace VectorStoreDb.Client;

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

    /// <summary>
    /// A page of documents in ordinal id order. Pass the previous page's <see cref="VectorDocumentPage.NextAfter"/> as
    /// <paramref name="after"/> to get the next one (null on the last page): each page costs the same wherever it
    /// is. <paramref name="offset"/> skips ids (after the cursor); deep offsets cost more. <paramref name="limit"/> is
    /// 1–1000 (else <see cref="VectorStoreErrorCode.InvalidArgument"/> with field <c>limit</c>). To read a whole
    /// collection use <see cref="VectorStoreClientExtensions.ScanDocumentsAsync"/>.
    /// </summary>
    Task<VectorDocumentPage> ListDocumentsAsync(string collection, string? after = null, int limit = 50, bool includeVectors = false, int offset = 0,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// The documents under <paramref name="ids"/> in one call, in the order asked; an id with no document is left out
    /// (compare ids to see which). At most the store's batch limit of ids (default 1000, else
    /// <see cref="VectorStoreErrorCode.LimitExceeded"/> with field <c>ids</c>).
    /// </summary>
    Task<IReadOnlyList<VectorDocument>> GetDocumentsAsync(string collection, IEnumerable<string> ids, bool includeVectors = false,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// One page of the documents matching <see cref="ScrollQuery.Filter"/>, in ordinal id order or ordered by a metadata
    /// field (<see cref="ScrollQuery.OrderBy"/>). Pass <see cref="ScrollResult.Next"/> as <see cref="ScrollQuery.After"/>
    /// until it is null: a document unchanged during the scroll is returned exactly once. To follow the cursor for you
    /// use <see cref="VectorStoreClientExtensions.ScrollDocumentsAsync"/>.
    /// </summary>
    Task<ScrollResult> ScrollAsync(string collection, ScrollQuery query, CancellationToken cancellationToken = default);

    /// <summary>Nearest neighbours, best first.</summary>
    Task<IReadOnlyList<SearchHit>> QueryAsync(string collection, SearchQuery query, CancellationToken cancellationToken = default);

    /// <summary>
    /// Many queries in one call; result i answers query i. Dense queries without a filter that share k, ef and
    /// exact are searched together (one pass over memory for an exact scan, all cores for HNSW). At most the
    /// server's <c>Limits:MaxQueryBatch</c> queries (default 1000; more is <see cref="VectorStoreErrorCode.LimitExceeded"/>
    /// with field <c>queries</c>); a refused query is named by its field, e.g. <c>queries[3].vector</c>.
    /// </summary>
    Task<IReadOnlyList<IReadOnlyList<SearchHit>>> QueryBatchAsync(string collection, IReadOnlyList<SearchQuery> queries, CancellationToken cancellationToken = default);

    /// <summary>Embeds texts as documents with a named encoder (default: the server's default encoder).</summary>
    Task<IReadOnlyList<float[]>> EmbedAsync(IReadOnlyList<string> texts, string? encoder = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Embeds texts as queries or documents with a named encoder (default: the server's default encoder). Embed a
    /// search text you will send as a vector with <see cref="EmbeddingInputType.Query"/>, as the server does for text queries.
    /// </summary>
    Task<IReadOnlyList<float[]>> EmbedAsync(IReadOnlyList<string> texts, string? encoder, EmbeddingInputType inputType, CancellationToken cancellationToken = default);

    /// <summary>The encoders the store knows.</summary>
    Task<IReadOnlyList<ModelDescription>> ListModelsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes a consistent point-in-time snapshot of a collection while writes go on, stored beside the collection
    /// (on the server, for a remote client). <paramref name="name"/> defaults to a timestamp.
    /// </summary>
    Task<SnapshotDescription> CreateSnapshotAsync(string collection, string? name = null, CancellationToken cancellationToken = default);

    /// <summary>A collection's snapshots.</summary>
    Task<IReadOnlyList<SnapshotDescription>> ListSnapshotsAsync(string collection, CancellationToken cancellationToken = default);

    /// <summary>Restores a snapshot into a new collection <paramref name="target"/> (<see cref="VectorStoreErrorCode.AlreadyExists"/> when it exists).</summary>
    Task<CollectionDescription> RestoreSnapshotAsync(string collection, string snapshot, string target, CancellationToken cancellationToken = default);

    Task DeleteSnapshotAsync(string collection, string snapshot, CancellationToken cancellationToken = default);

    /// <summary>
    /// Cluster mode: the nodes, and each shard's replicas with their applied sequence and whether they serve (read
    /// key). A single-node server and the embedded store refuse it with <see cref="VectorStoreErrorCode.FailedPrecondition"/>,
    /// as they refuse the other cluster calls.
    /// </summary>
    Task<ClusterStatusDescription> GetClusterStatusAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Cluster mode (admin key): moves every replica off <paramref name="node"/> (its name as
    /// <see cref="GetClusterStatusAsync"/> lists it) so it can be removed, and gives it no new replicas until
    /// <see cref="UndrainNodeAsync"/>. Returns the moves made; <see cref="VectorStoreErrorCode.FailedPrecondition"/>
    /// (and the node not left draining) when a shard has nowhere to go, <see cref="VectorStoreErrorCode.NotFound"/>
    /// for an unknown node.
    /// </summary>
    Task<IReadOnlyList<ReplicaMoveDescription>> DrainNodeAsync(string node, CancellationToken cancellationToken = default);

    /// <summary>Cluster mode (admin key): lets a drained node hold replicas again (the next rebalance gives it its share).</summary>
    Task UndrainNodeAsync(string node, CancellationToken cancellationToken = default);

    /// <summary>Cluster mode (admin key): moves replicas until every active node holds an even share; returns the moves made.</summary>
    Task<IReadOnlyList<ReplicaMoveDescription>> RebalanceAsync(CancellationToken cancellationToken = default);
}
