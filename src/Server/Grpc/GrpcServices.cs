using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using VectorStoreDb.Engine;
using VectorStoreDb.Server.Dashboard;
using VectorStoreDb.Server.Hosting;
using VectorStoreDb.Server.Operations;
using VectorStoreDb.Wire;
using V1 = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.Server.Grpc;

// Transport only. Collections, documents and queries go through IDocumentStore (the local engine, or the cluster in
// cluster mode) with the same EngineMapping and defaults WireApi uses, so single-node answers equal the embedded
// client's; the rest is the WireApi call the embedded client makes too. Errors are mapped by ErrorInterceptor.
// Each method declares the API-key role it needs (a method without one needs admin).

internal sealed class CollectionsGrpcService(IDocumentStore store) : V1.Collections.CollectionsBase
{
    [Authorize(Policy = ApiKeyRoles.Admin)]
    public override async Task<V1.CollectionInfo> Create(V1.CreateCollectionRequest request, ServerCallContext context) =>
        (await store.CreateCollectionAsync(request.ToEngine(), request.HasReplicas ? request.Replicas : null,
            request.HasWriteConsistency ? request.WriteConsistency : null, context.CancellationToken)).ToProto();

    [Authorize(Policy = ApiKeyRoles.Read)]
    public override async Task<V1.ListCollectionsResponse> List(V1.ListCollectionsRequest request, ServerCallContext context)
    {
        var response = new V1.ListCollectionsResponse();
        response.Collections.Add((await store.ListCollectionsAsync(context.CancellationToken)).Select(c => c.ToProto()));
        return response;
    }

    [Authorize(Policy = ApiKeyRoles.Read)]
    public override async Task<V1.CollectionInfo> Get(V1.GetCollectionRequest request, ServerCallContext context) =>
        (await store.GetCollectionAsync(request.Name, context.CancellationToken)).ToProto();

    [Authorize(Policy = ApiKeyRoles.Admin)]
    public override async Task<V1.DeleteCollectionResponse> Delete(V1.DeleteCollectionRequest request, ServerCallContext context)
    {
        await store.DeleteCollectionAsync(request.Name, context.CancellationToken);
        return new V1.DeleteCollectionResponse();
    }
}

internal sealed class DocumentsGrpcService(IDocumentStore store, IngestStatistics ingest) : V1.Documents.DocumentsBase
{
    [Authorize(Policy = ApiKeyRoles.Admin)]
    public override async Task<V1.UpsertResponse> Upsert(V1.UpsertRequest request, ServerCallContext context)
    {
        var inputs = request.Documents.Select((d, i) => d.ToEngine(i)).ToArray();
        var response = new V1.UpsertResponse();
        var ids = await store.UpsertAsync(request.Collection, inputs, context.CancellationToken);
        ingest.Record(ids.Count);
        response.Ids.Add(ids);
        return response;
    }

    [Authorize(Policy = ApiKeyRoles.Read)]
    public override async Task<V1.Document> Get(V1.GetDocumentRequest request, ServerCallContext context) =>
        (await store.GetDocumentAsync(request.Collection, request.Id, request.IncludeVector, context.CancellationToken)).ToProto();

    [Authorize(Policy = ApiKeyRoles.Admin)]
    public override async Task<V1.DeleteDocumentResponse> Delete(V1.DeleteDocumentRequest request, ServerCallContext context)
    {
        await store.DeleteDocumentAsync(request.Collection, request.Id, context.CancellationToken);
        return new V1.DeleteDocumentResponse();
    }

    [Authorize(Policy = ApiKeyRoles.Read)]
    public override async Task<V1.ListDocumentsResponse> List(V1.ListDocumentsRequest request, ServerCallContext context) =>
        (await store.ListDocumentsAsync(request.Collection, request.Offset, request.HasLimit ? request.Limit : WireApi.DefaultListLimit,
            request.HasAfter ? request.After : null, request.IncludeVectors, context.CancellationToken)).ToProto();

    [Authorize(Policy = ApiKeyRoles.Read)]
    public override async Task<V1.CountResponse> Count(V1.CountRequest request, ServerCallContext context) =>
        new() { Count = await store.CountAsync(request.Collection, context.CancellationToken) };

    [Authorize(Policy = ApiKeyRoles.Read)]
    public override async Task<V1.GetDocumentsResponse> GetBatch(V1.GetDocumentsRequest request, ServerCallContext context)
    {
        var documents = await store.GetDocumentsAsync(request.Collection, [.. request.Ids], request.IncludeVectors, context.CancellationToken);
        var response = new V1.GetDocumentsResponse();
        response.Documents.Add(documents.Select(d => d.ToProto()));
        return response;
    }

    [Authorize(Policy = ApiKeyRoles.Read)]
    public override async Task<V1.ScrollResponse> Scroll(V1.ScrollRequest request, ServerCallContext context) =>
        (await store.ScrollAsync(request.Collection, request.ToEngine(), context.CancellationToken)).ToProto();
}

internal sealed class SearchGrpcService(IDocumentStore store) : V1.Search.SearchBase
{
    [Authorize(Policy = ApiKeyRoles.Read)]
    public override async Task<V1.QueryResponse> Query(V1.QueryRequest request, ServerCallContext context)
    {
        var hits = await store.QueryAsync(request.Collection, request.ToEngine(), context.CancellationToken);
        var response = new V1.QueryResponse();
        response.Results.Add(hits.Select(h => h.ToProto()));
        return response;
    }

    [Authorize(Policy = ApiKeyRoles.Read)]
    public override async Task<V1.QueryBatchResponse> QueryBatch(V1.QueryBatchRequest request, ServerCallContext context)
    {
        var results = await store.QueryBatchAsync(request.Collection, request.ToEngine(), context.CancellationToken);
        var response = new V1.QueryBatchResponse();
        foreach (var hits in results)
        {
            var one = new V1.QueryResponse();
            one.Results.Add(hits.Select(h => h.ToProto()));
            response.Responses.Add(one);
        }
        return response;
    }
}

internal sealed class EmbeddingsGrpcService(VectorStoreEngine engine) : V1.Embeddings.EmbeddingsBase
{
    private readonly WireApi _api = new(engine);

    [Authorize(Policy = ApiKeyRoles.Read)]
    public override Task<V1.EmbedResponse> Embed(V1.EmbedRequest request, ServerCallContext context) =>
        _api.EmbedAsync(request, context.CancellationToken);

    [Authorize(Policy = ApiKeyRoles.Read)]
    public override Task<V1.ListModelsResponse> ListModels(V1.ListModelsRequest request, ServerCallContext context) =>
        Task.FromResult(_api.ListModels());
}
