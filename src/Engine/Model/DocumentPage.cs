namespace VectorStoreDb.Engine;

/// <summary>
/// One page of a collection's documents in id order (ordinal), and how many the collection holds.
/// <see cref="NextAfter"/> is the cursor for the next page (pass it as <c>after</c>), or null when this page is the last.
/// </summary>
public sealed record DocumentPage(IReadOnlyList<Document> Documents, long Total, int Offset, int Limit, string? After = null, string? NextAfter = null);
