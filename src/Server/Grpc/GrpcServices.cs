using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using VectorStoreDb.Engine;
using VectorStoreDb.Server.Operations;
using VectorStoreDb.Wire;
using V1 = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.Server.Grpc;

// Transport only: each call is the WireApi call the embedded client makes too. Errors are mapped by ErrorInterceptor.
// Each method declares the API-key role it needs (a method without one needs admin).

internal sealed class CollectionsGrpcService(VectorStoreEngine engine) : V1.Collections.CollectionsBase
{
    private readonly WireApi _api = new(engine);

    [Authorize(Policy = ApiKeyRoles.Admin)]
    public override Task<V1.CollectionInfo> Create(V1.CreateCollectionRequest request, ServerCallContext context) =>
        _api.CreateCollectionAsync(request, context.CancellationToken);

    [Authorize(Policy = ApiKeyRoles.Read)]
    public override Task<V1.ListCollectionsResponse> List(V1.ListCollectionsRequest request, ServerCallContext context) =>
        Task.FromResult(_api.ListCollections());

    [Authorize(Policy = ApiKeyRoles.Read)]
    public override Task<V1.CollectionInfo> Get(V1.GetCollectionRequest request, ServerCallContext context) =>
        Task.FromResult(_api.GetCollection(request));

    [Authorize(Policy = ApiKeyRoles.Admin)]
    public override Task<V1.DeleteCollectionResponse> Delete(V1.DeleteCollectionRequest request, ServerCallContext context) =>
        _api.DeleteCollectionAsync(request, context.CancellationToken);
}

internal sealed class DocumentsGrpcService(VectorStoreEngine engine) : V1.Documents.DocumentsBase
{
    private readonly WireApi _api = new(engine);

    [Authorize(Policy = ApiKeyRoles.Admin)]
    public override Task<V1.UpsertResponse> Upsert(V1.UpsertRequest request, ServerCallContext context) =>
        _api.UpsertAsync(request, context.CancellationToken);

    [Authorize(Policy = ApiKeyRoles.Read)]
    public override Task<V1.Document> Get(V1.GetDocumentRequest request, ServerCallContext context) =>
        Task.FromResult(_api.GetDocument(request));

    [Authorize(Policy = ApiKeyRoles.Admin)]
    public override Task<V1.DeleteDocumentResponse> Delete(V1.DeleteDocumentRequest request, ServerCallContext context) =>
        _api.DeleteDocumentAsync(request, context.CancellationToken);

    [Authorize(Policy = ApiKeyRoles.Read)]
    public override Task<V1.ListDocumentsResponse> List(V1.ListDocumentsRequest request, ServerCallContext context) =>
        Task.FromResult(_api.ListDocuments(request));

    [Authorize(Policy = ApiKeyRoles.Read)]
    public override Task<V1.CountResponse> Count(V1.CountRequest request, ServerCallContext context) =>
        Task.FromResult(_api.Count(request));
}

internal sealed class SearchGrpcService(VectorStoreEngine engine) : V1.Search.SearchBase
{
    private readonly WireApi _api = new(engine);

    [Authorize(Policy = ApiKeyRoles.Read)]
    public override Task<V1.QueryResponse> Query(V1.QueryRequest request, ServerCallContext context) =>
        _api.QueryAsync(request, context.CancellationToken);
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
