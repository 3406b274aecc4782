using VectorStore.Engine;

namespace VectorStore.Server.Rest;

/// <summary><c>GET /collections/{name}/documents?offset=&amp;limit=</c>: page through a collection in id order.</summary>
public static class DocumentListApi
{
    public static IEndpointRouteBuilder MapDocumentListApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/collections/{name}/documents", (string name, VectorStoreEngine engine, int offset = 0, int limit = 50) =>
            TypedResults.Ok(DocumentPageDto.From(engine.ListDocuments(name, offset, limit))))
            .WithTags("Documents")
            .WithSummary($"A page of documents in ordinal id order (limit 1–{VectorStoreEngine.MaxListLimit}, default 50), without vectors, and the total count.");
        return app;
    }
}

public sealed record DocumentPageDto(IReadOnlyList<DocumentDto> Documents, long Total, int Offset, int Limit)
{
    internal static DocumentPageDto From(DocumentPage page) => new([.. page.Documents.Select(DocumentDto.From)], page.Total, page.Offset, page.Limit);
}
