namespace VectorStoreDb.Engine;

/// <summary>A page of a scroll and the cursor of the next page (pass it as <see cref="ScrollRequest.After"/>), null after the last.</summary>
public sealed record ScrollPage(IReadOnlyList<Document> Documents, string? Next);
