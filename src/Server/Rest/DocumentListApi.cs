using Microsoft.AspNetCore.Mvc;
using VectorStoreDb.Engine;
using VectorStoreDb.Server.Hosting;
using VectorStoreDb.Server.Operations;
using VectorStoreDb.Wire;

namespace VectorStoreDb.Server.Rest;

/// <summary>
/// Reading documents in bulk: <c>GET /collections/{name}/documents?after=&amp;limit=&amp;includeVectors=</c> (cursor) or
/// <c>?offset=&amp;limit=</c> pages through a collection in id order; <c>POST …/documents/batch-get</c> reads many ids at
/// once; <c>POST …/documents/scroll</c> walks the documents a filter matches, in id order or by a metadata field.
/// </summary>
public static class DocumentListApi
{
    public static IEndpointRouteBuilder MapDocumentListApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/collections/{name}/documents", async (string name, IDocumentStore store, CancellationToken cancellationToken, string? after = null, int offset = 0, int limit = WireApi.DefaultListLimit, bool includeVectors = false) =>
            TypedResults.Ok(DocumentPageDto.From(await store.ListDocumentsAsync(name, offset, limit, string.IsNullOrEmpty(after) ? null : after, includeVectors, cancellationToken))))
            .WithTags("Documents").RequireReadKey().WithName("listDocuments")
            .WithSummary($"A page of documents in ordinal id order (limit 1–{VectorStoreEngine.MaxListLimit}, default {WireApi.DefaultListLimit}) and the total count. " +
                "Scan with the cursor: pass the page's nextAfter as ?after= until it is null (each page costs the same wherever it is); " +
                "?offset= also works but deep offsets cost more. Vectors only with ?includeVectors=true.");

        app.MapPost("/collections/{name}/documents/batch-get", async (string name, [FromBody] BatchGetBody body, IDocumentStore store, CancellationToken cancellationToken) =>
            TypedResults.Ok(new DocumentListDto([.. (await store.GetDocumentsAsync(name, body.ToIds(), body.IncludeVectors, cancellationToken)).Select(DocumentDto.From)])))
            .WithTags("Documents").RequireReadKey().WithName("getDocuments")
            .WithSummary("The documents under the given ids, in request order; ids with no document are left out. At most the batch limit of ids (default 1000).");

        app.MapPost("/collections/{name}/documents/scroll", async (string name, [FromBody] ScrollBody body, IDocumentStore store, CancellationToken cancellationToken) =>
            TypedResults.Ok(ScrollPageDto.From(await store.ScrollAsync(name, body.ToRequest(), cancellationToken))))
            .WithTags("Documents").RequireReadKey().WithName("scrollDocuments")
            .WithSummary($"A page of the documents a filter matches (limit 1–{VectorStoreEngine.MaxListLimit}, default 50), in id order or ordered by a metadata field " +
                "(orderBy: {field, descending}; documents without the field come last). Pass the page's next as after, with the same filter and orderBy, until it is null.");
        return app;
    }
}

/// <summary>A page of documents; <see cref="NextAfter"/> is the <c>after</c> cursor of the next page, null on the last page.</summary>
public sealed record DocumentPageDto(IReadOnlyList<DocumentDto> Documents, long Total, int Offset, int Limit, string? NextAfter)
{
    internal static DocumentPageDto From(DocumentPage page) => new([.. page.Documents.Select(DocumentDto.From)], page.Total, page.Offset, page.Limit, page.NextAfter);
}

/// <summary>Answer of <c>POST /collections/{name}/documents/batch-get</c>: the documents found, in request order.</summary>
public sealed record DocumentListDto(IReadOnlyList<DocumentDto> Documents);

/// <summary>A page of a scroll; <see cref="Next"/> is the <c>after</c> cursor of the next page, null on the last page.</summary>
public sealed record ScrollPageDto(IReadOnlyList<DocumentDto> Documents, string? Next)
{
    internal static ScrollPageDto From(ScrollPage page) => new([.. page.Documents.Select(DocumentDto.From)], page.Next);
}
