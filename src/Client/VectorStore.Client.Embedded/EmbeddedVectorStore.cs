using Microsoft.Extensions.Logging;
using VectorStoreDb.Embedding;
using VectorStoreDb.Engine;
using VectorStoreDb.Wire;
using Proto = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.Client.Embedded;

/// <summary>
/// <see cref="IVectorStoreClient"/> over the engine in this process, storing in a local folder. Behaves like
/// <see cref="VectorStoreGrpcClient"/> against a server by construction: it builds the same proto messages, hands
/// them to the same <see cref="WireApi"/> the server's gRPC services call, reads the answers with the same mapping
/// and maps refusals through the same <see cref="ErrorTable"/>; only the network is missing. So an application can
/// start embedded and move to a server by changing one line. Thread-safe. One data folder must be opened by one
/// store at a time.
/// </summary>
public sealed class EmbeddedVectorStore : IVectorStoreClient
{
    private readonly bool _ownsEngine;
    private readonly WireApi _api;

    /// <summary>Wraps an engine the caller owns (for example one shared with a server in the same process).</summary>
    public EmbeddedVectorStore(VectorStoreEngine engine, bool ownsEngine = false)
    {
        ArgumentNullException.ThrowIfNull(engine);
        Engine = engine;
        _ownsEngine = ownsEngine;
        _api = new WireApi(engine);
    }

    /// <summary>Opens (or creates) a store in <paramref name="dataPath"/>, with the built-in demo encoder unless <paramref name="encoders"/> says otherwise.</summary>
    /// <param name="dataPath">Folder for the collections' files; created when missing.</param>
    /// <param name="configure">Adjusts options such as <see cref="VectorStoreOptions.Limits"/>.</param>
    /// <param name="loggerFactory">Where the engine logs; nothing is logged when null.</param>
    /// <param name="encoders">The encoders collections may use (default: <c>demo</c> only).</param>
    public static EmbeddedVectorStore Open(string dataPath, Action<VectorStoreOptions>? configure = null, ILoggerFactory? loggerFactory = null, EncoderRegistry? encoders = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataPath);
        return new EmbeddedVectorStore(VectorStoreEngine.Open(dataPath, loggerFactory, encoders, configure), ownsEngine: true);
    }

    /// <summary>The engine underneath, for what the SDK interface does not cover.</summary>
    public VectorStoreEngine Engine { get; }

    /// <inheritdoc />
    public Task<CollectionDescription> CreateCollectionAsync(string name, CollectionOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        var request = ProtoMapping.ToProto(name, options);
        return Run(async () => ProtoMapping.FromProto(await _api.CreateCollectionAsync(request, cancellationToken)), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<CollectionDescription>> ListCollectionsAsync(CancellationToken cancellationToken = default) =>
        Run(() => Task.FromResult<IReadOnlyList<CollectionDescription>>([.. _api.ListCollections().Collections.Select(ProtoMapping.FromProto)]), cancellationToken);

    /// <inheritdoc />
    public Task<CollectionDescription> GetCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Run(() => Task.FromResult(ProtoMapping.FromProto(_api.GetCollection(new Proto.GetCollectionRequest { Name = name }))), cancellationToken);
    }

    /// <inheritdoc />
    public Task DeleteCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Run(() => _api.DeleteCollectionAsync(new Proto.DeleteCollectionRequest { Name = name }, cancellationToken), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> UpsertAsync(string collection, IEnumerable<DocumentWrite> documents, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(documents);
        var request = ProtoMapping.ToProto(collection, documents);
        return Run<IReadOnlyList<string>>(async () => [.. (await _api.UpsertAsync(request, cancellationToken)).Ids], cancellationToken);
    }

    /// <inheritdoc />
    public Task<VectorDocument> GetDocumentAsync(string collection, string id, bool includeVector = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(id);
        var request = new Proto.GetDocumentRequest { Collection = collection, Id = id, IncludeVector = includeVector };
        return Run(() => Task.FromResult(ProtoMapping.FromProto(_api.GetDocument(request), includeVector)), cancellationToken);
    }

    /// <inheritdoc />
    public Task DeleteDocumentAsync(string collection, string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(id);
        return Run(() => _api.DeleteDocumentAsync(new Proto.DeleteDocumentRequest { Collection = collection, Id = id }, cancellationToken), cancellationToken);
    }

    /// <inheritdoc />
    public Task<long> CountAsync(string collection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        return Run(() => Task.FromResult(_api.Count(new Proto.CountRequest { Collection = collection }).Count), cancellationToken);
    }

    /// <inheritdoc />
    public Task<VectorDocumentPage> ListDocumentsAsync(string collection, string? after = null, int limit = 50, bool includeVectors = false, int offset = 0,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        var request = ProtoMapping.ToListRequest(collection, after, limit, includeVectors, offset);
        return Run(() => Task.FromResult(ProtoMapping.FromProto(_api.ListDocuments(request), includeVectors)), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<VectorDocument>> GetDocumentsAsync(string collection, IEnumerable<string> ids, bool includeVectors = false,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(ids);
        var request = ProtoMapping.ToBatchGetRequest(collection, ids, includeVectors);
        return Run(async () => ProtoMapping.FromProto(await _api.GetDocumentsAsync(request, cancellationToken), includeVectors), cancellationToken);
    }

    /// <inheritdoc />
    public Task<ScrollResult> ScrollAsync(string collection, ScrollQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(query);
        var request = ProtoMapping.ToProto(collection, query);
        return Run(async () => ProtoMapping.FromProto(await _api.ScrollAsync(request, cancellationToken), query.IncludeVectors), cancellationToken);
    }

    /// <inheritdoc />
    public Task<SnapshotDescription> CreateSnapshotAsync(string collection, string? name = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        var request = ProtoMapping.ToSnapshotRequest(collection, name);
        return Run(async () => ProtoMapping.FromProto(await _api.CreateSnapshotAsync(request, cancellationToken)), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<SnapshotDescription>> ListSnapshotsAsync(string collection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        return Run(() => Task.FromResult<IReadOnlyList<SnapshotDescription>>(
            [.. _api.ListSnapshots(new Proto.ListSnapshotsRequest { Collection = collection }).Snapshots.Select(ProtoMapping.FromProto)]), cancellationToken);
    }

    /// <inheritdoc />
    public Task<CollectionDescription> RestoreSnapshotAsync(string collection, string snapshot, string target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(target);
        var request = new Proto.RestoreSnapshotRequest { Collection = collection, Name = snapshot, Target = target };
        return Run(async () => ProtoMapping.FromProto(await _api.RestoreSnapshotAsync(request, cancellationToken)), cancellationToken);
    }

    /// <inheritdoc />
    public Task DeleteSnapshotAsync(string collection, string snapshot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(snapshot);
        return Run(() => Task.FromResult(_api.DeleteSnapshot(new Proto.DeleteSnapshotRequest { Collection = collection, Name = snapshot })), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<SearchHit>> QueryAsync(string collection, SearchQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(query);
        var request = ProtoMapping.ToProto(collection, query);
        return Run(async () => ProtoMapping.FromProto(await _api.QueryAsync(request, cancellationToken), query.IncludeVectors), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<IReadOnlyList<SearchHit>>> QueryBatchAsync(string collection, IReadOnlyList<SearchQuery> queries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(queries);
        var request = ProtoMapping.ToProto(collection, queries);
        return Run(async () => ProtoMapping.FromProto(await _api.QueryBatchAsync(request, cancellationToken), queries), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<float[]>> EmbedAsync(IReadOnlyList<string> texts, string? encoder = null, CancellationToken cancellationToken = default) =>
        EmbedAsync(texts, encoder, EmbeddingInputType.Document, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<float[]>> EmbedAsync(IReadOnlyList<string> texts, string? encoder, EmbeddingInputType inputType, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var request = ProtoMapping.ToEmbedRequest(texts, encoder, inputType);
        return Run(async () => ProtoMapping.FromProto(await _api.EmbedAsync(request, cancellationToken)), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ModelDescription>> ListModelsAsync(CancellationToken cancellationToken = default) =>
        Run(() => Task.FromResult(ProtoMapping.FromProto(_api.ListModels())), cancellationToken);

    /// <summary>Runs a call, translating engine refusals into the SDK's exception exactly as a server's answer would read.</summary>
    /// <inheritdoc />
    /// <remarks>The embedded store is a single node: refused with <see cref="VectorStoreErrorCode.FailedPrecondition"/>, as a single-node server refuses it.</remarks>
    public Task<ClusterStatusDescription> GetClusterStatusAsync(CancellationToken cancellationToken = default) =>
        Run<ClusterStatusDescription>(() => throw WireApi.NotClustered(), cancellationToken);

    /// <inheritdoc />
    /// <remarks>The embedded store is a single node: refused with <see cref="VectorStoreErrorCode.FailedPrecondition"/>.</remarks>
    public Task<IReadOnlyList<ReplicaMoveDescription>> DrainNodeAsync(string node, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        return Run<IReadOnlyList<ReplicaMoveDescription>>(() => throw WireApi.NotClustered(), cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>The embedded store is a single node: refused with <see cref="VectorStoreErrorCode.FailedPrecondition"/>.</remarks>
    public Task UndrainNodeAsync(string node, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        return Run<bool>(() => throw WireApi.NotClustered(), cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>The embedded store is a single node: refused with <see cref="VectorStoreErrorCode.FailedPrecondition"/>.</remarks>
    public Task<IReadOnlyList<ReplicaMoveDescription>> RebalanceAsync(CancellationToken cancellationToken = default) =>
        Run<IReadOnlyList<ReplicaMoveDescription>>(() => throw WireApi.NotClustered(), cancellationToken);

    private static async Task<T> Run<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            return await call().ConfigureAwait(false);
        }
        catch (VectorStoreException ex)
        {
            throw ToClientException(ex);
        }
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested)
        {
            throw new VectorStoreClientException(VectorStoreErrorCode.Cancelled, "The call was cancelled.", null, ex);
        }
    }

    /// <summary>The SDK exception for an engine refusal: the same code, message and field a server would send (see <see cref="ErrorTable"/>).</summary>
    public static VectorStoreClientException ToClientException(VectorStoreException exception) => ErrorTable.ToClientException(exception);

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsEngine)
        {
            Engine.Dispose();
        }
    }
}
