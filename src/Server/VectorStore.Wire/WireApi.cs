using VectorStoreDb.Embedding;
using VectorStoreDb.Engine;
using V1 = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.Wire;

/// <summary>
/// The v1 API in proto messages over an engine, without a transport: the gRPC services serve exactly these calls
/// and the embedded client makes them in-process, so the two answer identically by construction. Engine refusals
/// come out as <see cref="VectorStoreException"/>; the caller maps them with <see cref="ErrorTable"/>.
/// </summary>
public sealed class WireApi(VectorStoreEngine engine)
{
    /// <summary>Page size when a list request names none.</summary>
    public const int DefaultListLimit = 50;

    /// <summary>
    /// The refusal of every cluster call (status, rebalance, drain, undrain) by a single-node store: the server's REST
    /// and gRPC endpoints outside cluster mode and the embedded client all answer with it.
    /// </summary>
    public static VectorStoreException NotClustered() => new(ErrorCode.FailedPrecondition,
        "This store is not in cluster mode: it is a single node (a server joins a cluster with VectorStore:Cluster:Enabled=true).");

    public async Task<V1.CollectionInfo> CreateCollectionAsync(V1.CreateCollectionRequest request, CancellationToken cancellationToken) =>
        (await engine.CreateCollectionAsync(request.ToEngine(), cancellationToken).ConfigureAwait(false)).ToProto();

    public V1.ListCollectionsResponse ListCollections()
    {
        var response = new V1.ListCollectionsResponse();
        response.Collections.Add(engine.ListCollections().Select(c => c.ToProto()));
        return response;
    }

    public V1.CollectionInfo GetCollection(V1.GetCollectionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return engine.GetCollection(request.Name).ToProto();
    }

    public async Task<V1.DeleteCollectionResponse> DeleteCollectionAsync(V1.DeleteCollectionRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await engine.DeleteCollectionAsync(request.Name, cancellationToken).ConfigureAwait(false);
        return new V1.DeleteCollectionResponse();
    }

    public async Task<V1.UpsertResponse> UpsertAsync(V1.UpsertRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var inputs = request.Documents.Select((d, i) => d.ToEngine(i)).ToArray();
        var response = new V1.UpsertResponse();
        response.Ids.Add(await engine.UpsertAsync(request.Collection, inputs, cancellationToken).ConfigureAwait(false));
        return response;
    }

    public V1.Document GetDocument(V1.GetDocumentRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return engine.GetDocument(request.Collection, request.Id, request.IncludeVector).ToProto();
    }

    public async Task<V1.DeleteDocumentResponse> DeleteDocumentAsync(V1.DeleteDocumentRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await engine.DeleteDocumentAsync(request.Collection, request.Id, cancellationToken).ConfigureAwait(false);
        return new V1.DeleteDocumentResponse();
    }

    public V1.ListDocumentsResponse ListDocuments(V1.ListDocumentsRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return engine.ListDocuments(request.Collection, request.Offset, request.HasLimit ? request.Limit : DefaultListLimit,
            request.HasAfter ? request.After : null, request.IncludeVectors).ToProto();
    }

    public async Task<V1.GetDocumentsResponse> GetDocumentsAsync(V1.GetDocumentsRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var documents = await engine.GetDocumentsAsync(request.Collection, [.. request.Ids], request.IncludeVectors, cancellationToken).ConfigureAwait(false);
        var response = new V1.GetDocumentsResponse();
        response.Documents.Add(documents.Select(d => d.ToProto()));
        return response;
    }

    public async Task<V1.ScrollResponse> ScrollAsync(V1.ScrollRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return (await engine.ScrollAsync(request.Collection, request.ToEngine(), cancellationToken).ConfigureAwait(false)).ToProto();
    }

    public V1.CountResponse Count(V1.CountRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new V1.CountResponse { Count = engine.Count(request.Collection) };
    }

    public async Task<V1.QueryResponse> QueryAsync(V1.QueryRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var hits = await engine.QueryAsync(request.Collection, request.ToEngine(), cancellationToken).ConfigureAwait(false);
        var response = new V1.QueryResponse();
        response.Results.Add(hits.Select(h => h.ToProto()));
        return response;
    }

    public async Task<V1.QueryBatchResponse> QueryBatchAsync(V1.QueryBatchRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var results = await engine.QueryBatchAsync(request.Collection, request.ToEngine(), cancellationToken).ConfigureAwait(false);
        var response = new V1.QueryBatchResponse();
        foreach (var hits in results)
        {
            var one = new V1.QueryResponse();
            one.Results.Add(hits.Select(h => h.ToProto()));
            response.Responses.Add(one);
        }
        return response;
    }

    public async Task<V1.EmbedResponse> EmbedAsync(V1.EmbedRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        string encoder = request.HasEncoder ? request.Encoder : engine.Encoders.DefaultName;
        var inputType = request.InputType switch
        {
            V1.EmbeddingInputType.Unspecified or V1.EmbeddingInputType.Document => EmbeddingInputType.Document,
            V1.EmbeddingInputType.Query => EmbeddingInputType.Query,
            _ => throw new VectorStoreException(ErrorCode.InvalidArgument, $"input_type: unknown value {(int)request.InputType}.", "input_type"),
        };
        var vectors = await engine.EmbedAsync([.. request.Texts], encoder, inputType, cancellationToken).ConfigureAwait(false);
        var response = new V1.EmbedResponse { Encoder = encoder };
        foreach (var vector in vectors)
        {
            var embedding = new V1.Embedding();
            embedding.Values.Add(vector);
            response.Embeddings.Add(embedding);
        }
        return response;
    }

    public V1.ListModelsResponse ListModels()
    {
        var response = new V1.ListModelsResponse();
        response.Models.Add(engine.Encoders.List().Select(e => new V1.ModelInfo { Name = e.Name, Dimension = e.Dimension, MaxTokens = e.MaxTokens, Kind = e.Kind }));
        return response;
    }

    public async Task<V1.SnapshotInfo> CreateSnapshotAsync(V1.CreateSnapshotRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return (await engine.CreateSnapshotAsync(request.Collection, request.HasName ? request.Name : null, cancellationToken).ConfigureAwait(false)).ToProto();
    }

    public V1.ListSnapshotsResponse ListSnapshots(V1.ListSnapshotsRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var response = new V1.ListSnapshotsResponse();
        response.Snapshots.Add(engine.ListSnapshots(request.Collection).Select(s => s.ToProto()));
        return response;
    }

    public V1.DeleteSnapshotResponse DeleteSnapshot(V1.DeleteSnapshotRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        engine.DeleteSnapshot(request.Collection, request.Name);
        return new V1.DeleteSnapshotResponse();
    }

    public async Task<V1.CollectionInfo> RestoreSnapshotAsync(V1.RestoreSnapshotRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return (await engine.RestoreSnapshotAsync(request.Collection, request.Name, request.Target, cancellationToken).ConfigureAwait(false)).ToProto();
    }
}
