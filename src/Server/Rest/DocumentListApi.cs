using VectorStoreDb.Engine;
using VectorStoreDb.Server.Operations;
using VectorStoreDb.Wire;

namespace VectorStoreDb.Server.Rest;

/// <summary>
/// <c>GET /collections/{name}/documents?after=&amp;limit=&amp;includeVectors=</c> (cursor) or <c>?offset=&amp;limit=</c>:
/// page through a collection in id order.
/// </summary>
public static class DocumentListApi
{
    public static IEndpointRouteBuilder MapDocumentListApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/collections/{name}/documents", (string name, VectorStoreEngine engine, string? after = null, int offset = 0, int limit = WireApi.DefaultListLimit, bool includeVectors = false) =>
            TypedResults.Ok(DocumentPageDto.From(engine.ListDocuments(name, offset, limit, string.IsNullOrEmpty(after) ? null : after, includeVectors))))
            .WithTags("Documents").RequireReadKey().WithName("listDocuments")
            .WithSummary($"A page of documents in ordinal id order (limit 1–{VectorStoreEngine.MaxListLimit}, default {WireApi.DefaultListLimit}) and the total count. " +
                "Scan with the cursor: pass the page's nextAfter as ?after= until it is null (each page costs the same wherever it is); " +
                "?offset= also works but deep offsets cost more. Vectors only with ?includeVectors=true.");
        return app;
    }
}

/// <summary>A page of documents; <see cref="NextAfter"/> is the <c>after</c> cursor of the next page, null on the last page.</summary>
public sealed record DocumentPageDto(IReadOnlyList<DocumentDto> Documents, long Total, int Offset, int Limit, string? NextAfter)
{
    internal static DocumentPageDto From(DocumentPage page) => new([.. page.Documents.Select(DocumentDto.From)], page.Total, page.Offset, page.Limit, page.NextAfter);
}
