using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using VectorStoreDb.Embedding;
using VectorStoreDb.Engine;
using VectorStoreDb.Server.Operations;
using V1 = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.Server.Grpc;

// Thin adapters: map the message, call the engine, map the answer. Errors are mapped by ErrorInterceptor.
// Each method declares the API-key role it needs (a method without one needs admin).

internal sealed class CollectionsGrpcService(VectorStoreEngine engine) : V1.Collections.CollectionsBase
{
    [Authorize(Policy = ApiKeyRoles.Admin)]
    public override async Task<V1.CollectionInfo> Create(V1.CreateCollectionRequest request, ServerCallContext context) =>
        (await engine.CreateCollectionAsync(request.ToEngine(), context.CancellationToken)).ToProto();

    [Authorize(Policy = ApiKeyRoles.Read)]
    public override Task<V1.ListCollectionsResponse> List(V1.ListCollectionsRequest request, ServerCallContext context)
    {
        var response = new V1.ListCollectionsResponse();
        response.Collections.Add(engine.ListCollections().Select(c => c.ToProto()));
        return Task.FromResult(response);
    }

    [Authorize(Policy = ApiKeyRoles.Read)]
    public override Task<V1.CollectionInfo> Get(V1.GetCollectionRequest request, ServerCallContext context) =>
        Task.FromResult(engine.GetCollection(request.Name).ToProto());

    [Authorize(Policy = ApiKeyRoles.Admin)]
    public override async Task<V1.DeleteCollectionResponse> Delete(V1.DeleteCollectionRequest request, ServerCallContext context)
    {
        await engine.DeleteCollectionAsync(request.Name, context.CancellationToken);
        return new V1.DeleteCollectionResponse();
    }
}

internal sealed class DocumentsGrpcService(VectorStoreEngine engine) : V1.Documents.DocumentsBase
{
    [Authorize(Policy = ApiKeyRoles.Admin)]
    public override async Task<V1.UpsertResponse> Upsert(V1.UpsertRequest request, ServerCallContext context)
    {
        var inputs = request.Documents.Select((d, i) => d.ToEngine(i)).ToArray();
        var response = new V1.UpsertResponse();
        response.Ids.Add(await engine.UpsertAsync(request.Collection, inputs, context.CancellationToken));
        return response;
    }

    [Authorize(Policy = ApiKeyRoles.Read)]
    public override Task<V1.Document> Get(V1.GetDocumentRequest request, ServerCallContext context) =>
        Task.FromResult(engine.GetDocument(request.Collection, request.Id, request.IncludeVector).ToProto());

    [Authorize(Policy = ApiKeyRoles.Admin)]
    public override async Task<V1.DeleteDocumentResponse> Delete(V1.DeleteDocumentRequest request, ServerCallContext context)
    {
        await engine.DeleteDocumentAsync(request.Collection, request.Id, context.CancellationToken);
        return new V1.DeleteDocumentResponse();
    }

    [Authorize(Policy = ApiKeyRoles.Read)]
    public override Task<V1.ListDocumentsResponse> List(V1.ListDocumentsRequest request, ServerCallContext context)
    {
        var page = engine.ListDocuments(request.Collection, request.Offset, request.HasLimit ? request.Limit : 50, request.HasAfter ? request.After : null, request.IncludeVectors);
        var response = new V1.ListDocumentsResponse { Total = page.Total };
        response.Documents.Add(page.Documents.Select(d => d.ToProto()));
        if (page.NextAfter is { } next)
        {
            response.NextAfter = next;
        }
        return Task.FromResult(response);
    }

    [Authorize(Policy = ApiKeyRoles.Read)]
    public override Task<V1.CountResponse> Count(V1.CountRequest request, ServerCallContext context) =>
        Task.FromResult(new V1.CountResponse { Count = engine.Count(request.Collection) });
}

internal sealed class SearchGrpcService(VectorStoreEngine engine) : V1.Search.SearchBase
{
    [Authorize(Policy = ApiKeyRoles.Read)]
    public override async Task<V1.QueryResponse> Query(V1.QueryRequest request, ServerCallContext context)
    {
        var hits = await engine.QueryAsync(request.Collection, request.ToEngine(), context.CancellationToken);
        var response = new V1.QueryResponse();
        response.Results.Add(hits.Select(h => h.ToProto()));
        return response;
    }
}

internal sealed class EmbeddingsGrpcService(VectorStoreEngine engine) : V1.Embeddings.EmbeddingsBase
{
    [Authorize(Policy = ApiKeyRoles.Read)]
    public override async Task<V1.EmbedResponse> Embed(V1.EmbedRequest request, ServerCallContext context)
    {
        string encoder = request.HasEncoder ? request.Encoder : DemoEncoder.DefaultName;
        var vectors = await engine.EmbedAsync([.. request.Texts], encoder, context.CancellationToken);
        var response = new V1.EmbedResponse { Encoder = encoder };
        foreach (var vector in vectors)
        {
            var embedding = new V1.Embedding();
            embedding.Values.Add(vector);
            response.Embeddings.Add(embedding);
        }
        return response;
    }

    [Authorize(Policy = ApiKeyRoles.Read)]
    public override Task<V1.ListModelsResponse> ListModels(V1.ListModelsRequest request, ServerCallContext context)
    {
        var response = new V1.ListModelsResponse();
        response.Models.Add(engine.Encoders.List().Select(e => new V1.ModelInfo { Name = e.Name, Dimension = e.Dimension, MaxTokens = e.MaxTokens, Kind = e.Kind }));
        return Task.FromResult(response);
    }
}
