using Grpc.Core;
using VectorStoreDb.Embedding;
using VectorStoreDb.Engine;
using VectorStoreDb.Server.Hosting;
using V1 = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.Server.Grpc;

// Thin adapters: map the message, call the engine, map the answer. Errors are mapped by ErrorInterceptor.

internal sealed class CollectionsGrpcService(IDocumentStore store) : V1.Collections.CollectionsBase
{
    public override async Task<V1.CollectionInfo> Create(V1.CreateCollectionRequest request, ServerCallContext context) =>
        (await store.CreateCollectionAsync(request.ToEngine(), request.HasReplicas ? request.Replicas : null,
            request.HasWriteConsistency ? request.WriteConsistency : null, context.CancellationToken)).ToProto();

    public override async Task<V1.ListCollectionsResponse> List(V1.ListCollectionsRequest request, ServerCallContext context)
    {
        var response = new V1.ListCollectionsResponse();
        response.Collections.Add((await store.ListCollectionsAsync(context.CancellationToken)).Select(c => c.ToProto()));
        return response;
    }

    public override async Task<V1.CollectionInfo> Get(V1.GetCollectionRequest request, ServerCallContext context) =>
        (await store.GetCollectionAsync(request.Name, context.CancellationToken)).ToProto();

    public override async Task<V1.DeleteCollectionResponse> Delete(V1.DeleteCollectionRequest request, ServerCallContext context)
    {
        await store.DeleteCollectionAsync(request.Name, context.CancellationToken);
        return new V1.DeleteCollectionResponse();
    }
}

internal sealed class DocumentsGrpcService(IDocumentStore store) : V1.Documents.DocumentsBase
{
    public override async Task<V1.UpsertResponse> Upsert(V1.UpsertRequest request, ServerCallContext context)
    {
        var inputs = request.Documents.Select((d, i) => d.ToEngine(i)).ToArray();
        var response = new V1.UpsertResponse();
        response.Ids.Add(await store.UpsertAsync(request.Collection, inputs, context.CancellationToken));
        return response;
    }

    public override async Task<V1.Document> Get(V1.GetDocumentRequest request, ServerCallContext context) =>
        (await store.GetDocumentAsync(request.Collection, request.Id, request.IncludeVector, context.CancellationToken)).ToProto();

    public override async Task<V1.DeleteDocumentResponse> Delete(V1.DeleteDocumentRequest request, ServerCallContext context)
    {
        await store.DeleteDocumentAsync(request.Collection, request.Id, context.CancellationToken);
        return new V1.DeleteDocumentResponse();
    }

    public override async Task<V1.ListDocumentsResponse> List(V1.ListDocumentsRequest request, ServerCallContext context)
    {
        var page = await store.ListDocumentsAsync(request.Collection, request.Offset, request.HasLimit ? request.Limit : 50,
            request.HasAfter ? request.After : null, request.IncludeVectors, context.CancellationToken);
        var response = new V1.ListDocumentsResponse { Total = page.Total };
        response.Documents.Add(page.Documents.Select(d => d.ToProto()));
        if (page.NextAfter is { } next)
        {
            response.NextAfter = next;
        }
        return response;
    }

    public override async Task<V1.CountResponse> Count(V1.CountRequest request, ServerCallContext context) =>
        new() { Count = await store.CountAsync(request.Collection, context.CancellationToken) };
}

internal sealed class SearchGrpcService(IDocumentStore store) : V1.Search.SearchBase
{
    public override async Task<V1.QueryResponse> Query(V1.QueryRequest request, ServerCallContext context)
    {
        string? filterJson = request.Filter is { Fields.Count: > 0 } filter ? ProtoMapping.ToJson(filter).GetRawText() : null;
        var hits = await store.QueryAsync(request.Collection, request.ToEngine(), filterJson, context.CancellationToken);
        var response = new V1.QueryResponse();
        response.Results.Add(hits.Select(h => h.ToProto()));
        return response;
    }
}

internal sealed class EmbeddingsGrpcService(VectorStoreEngine engine) : V1.Embeddings.EmbeddingsBase
{
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

    public override Task<V1.ListModelsResponse> ListModels(V1.ListModelsRequest request, ServerCallContext context)
    {
        var response = new V1.ListModelsResponse();
        response.Models.Add(engine.Encoders.List().Select(e => new V1.ModelInfo { Name = e.Name, Dimension = e.Dimension, MaxTokens = e.MaxTokens, Kind = e.Kind }));
        return Task.FromResult(response);
    }
}
