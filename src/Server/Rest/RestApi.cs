using Microsoft.AspNetCore.Mvc;
using VectorStoreDb.Embedding;
using VectorStoreDb.Engine;
using VectorStoreDb.Server.Dashboard;
using VectorStoreDb.Server.Hosting;
using VectorStoreDb.Server.Operations;

namespace VectorStoreDb.Server.Rest;

/// <summary>The REST/JSON API. Routes and shapes are a contract: scripts and the README rely on them.</summary>
public static class RestApi
{
    public static IEndpointRouteBuilder MapVectorStoreRestApi(this IEndpointRouteBuilder app)
    {
        var collections = app.MapGroup("/collections").WithTags("Collections");

        // The body is optional (`curl -X PUT …/collections/x` creates one with defaults), so it is read by hand:
        // a declared [FromBody] parameter would make routing refuse requests without a JSON content type.
        collections.MapPut("/{name}", async (string name, HttpRequest request, IDocumentStore store, CancellationToken cancellationToken) =>
        {
            bool hasBody = request.ContentLength > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);
            if (hasBody && !request.HasJsonContentType())
            {
                throw new VectorStoreException(ErrorCode.InvalidArgument, "body: send JSON with Content-Type: application/json.", "body");
            }
            var body = hasBody ? await request.ReadFromJsonAsync<CreateCollectionBody>(cancellationToken) : null;
            var info = await store.CreateCollectionAsync((body ?? new CreateCollectionBody()).ToRequest(name), body?.Replicas, body?.WriteConsistency, cancellationToken);
            return TypedResults.Created($"/collections/{Uri.EscapeDataString(info.Settings.Name)}", CollectionDto.From(info));
        }).RequireAdminKey().WithName("createCollection")
            .Accepts<CreateCollectionBody>(isOptional: true, "application/json").ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Create a collection (metric, encoder or dimension, index settings).");

        collections.MapGet("/", async (IDocumentStore store, CancellationToken cancellationToken) =>
            TypedResults.Ok(new CollectionListDto([.. (await store.ListCollectionsAsync(cancellationToken)).Select(CollectionDto.From)])))
            .RequireReadKey().WithName("listCollections").WithSummary("List collections with their settings and document counts.");

        collections.MapGet("/{name}", async (string name, IDocumentStore store, CancellationToken cancellationToken) =>
            TypedResults.Ok(CollectionDto.From(await store.GetCollectionAsync(name, cancellationToken))))
            .RequireReadKey().WithName("getCollection").WithSummary("A collection's settings and document count.");

        collections.MapPost("/{name}/projection/refit", async (string name, IDocumentStore store, CancellationToken cancellationToken) =>
        {
            var (fitted, info) = await store.RefitProjectionAsync(name, cancellationToken);
            return TypedResults.Ok(new RefitDto(fitted, CollectionDto.From(info)));
        }).RequireAdminKey().WithName("refitProjection").ProducesProblem(StatusCodes.Status422UnprocessableEntity).WithSummary("Refit a pca collection's projection on its stored full vectors and rebuild its index.");

        collections.MapDelete("/{name}", async (string name, IDocumentStore store, CancellationToken cancellationToken) =>
        {
            await store.DeleteCollectionAsync(name, cancellationToken);
            return TypedResults.NoContent();
        }).RequireAdminKey().WithName("deleteCollection").WithSummary("Delete a collection and all its documents.");

        var documents = collections.MapGroup("/{name}").WithTags("Documents");

        documents.MapPost("/documents", async (string name, [FromBody] UpsertBody body, IDocumentStore store, IngestStatistics ingest, CancellationToken cancellationToken) =>
        {
            var ids = await store.UpsertAsync(name, body.ToInputs(), cancellationToken);
            ingest.Record(ids.Count);
            return TypedResults.Ok(new UpsertResultDto(ids));
        })
            .RequireAdminKey().WithName("upsertDocuments").WithSummary("Insert or replace a batch of documents; text is embedded unless a vector is given.");

        documents.MapGet("/documents/{id}", async (string name, string id, IDocumentStore store, CancellationToken cancellationToken, bool includeVector = false) =>
            TypedResults.Ok(DocumentDto.From(await store.GetDocumentAsync(name, id, includeVector, cancellationToken))))
            .RequireReadKey().WithName("getDocument").WithSummary("Get a document by id.");

        documents.MapDelete("/documents/{id}", async (string name, string id, IDocumentStore store, CancellationToken cancellationToken) =>
        {
            await store.DeleteDocumentAsync(name, id, cancellationToken);
            return TypedResults.NoContent();
        }).RequireAdminKey().WithName("deleteDocument").WithSummary("Delete a document by id.");

        documents.MapGet("/count", async (string name, IDocumentStore store, CancellationToken cancellationToken) =>
            TypedResults.Ok(new CountDto(await store.CountAsync(name, cancellationToken))))
            .RequireReadKey().WithName("countDocuments").WithSummary("Number of documents in the collection.");

        documents.MapPost("/query", async (string name, [FromBody] QueryBody body, IDocumentStore store, CancellationToken cancellationToken) =>
            TypedResults.Ok(QueryResponseDto.From(await store.QueryAsync(name, body.ToRequest(), cancellationToken))))
            .WithTags("Search").RequireReadKey().WithName("query")
            .WithSummary("Search by vector (dense), by words (text, BM25) or both fused (hybrid), with an optional metadata filter; best first.");

        documents.MapPost("/query/batch", async (string name, [FromBody] QueryBatchBody body, IDocumentStore store, CancellationToken cancellationToken) =>
            TypedResults.Ok(new QueryBatchResponseDto([.. (await store.QueryBatchAsync(name, body.ToRequests(), cancellationToken)).Select(QueryResponseDto.From)])))
            .WithTags("Search").RequireReadKey().WithName("queryBatch")
            .WithSummary("Many queries in one request (at most Limits:MaxQueryBatch, default 1000); results[i] answers queries[i]. Dense queries without a filter are searched together.");

        app.MapPost("/embed", async ([FromBody] EmbedBody body, VectorStoreEngine engine, CancellationToken cancellationToken) =>
        {
            var texts = body.Texts ?? throw new VectorStoreException(ErrorCode.InvalidArgument, "texts: required, e.g. {\"texts\":[\"hello\"]}.", "texts");
            string encoder = body.Encoder ?? engine.Encoders.DefaultName;
            if (!EmbeddingInputTypes.TryParse(body.InputType, out var inputType))
            {
                throw new VectorStoreException(ErrorCode.InvalidArgument, $"inputType: must be 'query' or 'document', was '{body.InputType}'.", "inputType");
            }
            return TypedResults.Ok(new EmbedResponseDto(await engine.EmbedAsync(texts, encoder, inputType, cancellationToken), encoder));
        }).WithTags("Embeddings").RequireReadKey().WithName("embed")
            .WithSummary("Embed texts with a named encoder (default: the server's default encoder, minilm when built in), as documents (default) or as queries (inputType: query).");

        app.MapGet("/models", (VectorStoreEngine engine) =>
            TypedResults.Ok(new ModelListDto([.. engine.Encoders.List().Select(e => new ModelDto(e.Name, e.Dimension, e.MaxTokens, e.Kind))], engine.Encoders.DefaultName)))
            .WithTags("Embeddings").RequireReadKey().WithName("listEncoders").WithSummary("The encoders this server can embed with.");

        return app;
    }
}
