namespace VectorStore.Engine;

/// <summary>One page of a collection's documents in id order (ordinal), and how many the collection holds.</summary>
public sealed record DocumentPage(IReadOnlyList<Document> Documents, long Total, int Offset, int Limit);
