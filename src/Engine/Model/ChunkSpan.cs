namespace VectorStoreDb.Engine;

/// <summary>One chunk of a document's text: its number and character range <c>[Start, End)</c>.</summary>
public sealed record ChunkSpan(int Chunk, int Start, int End);
