namespace VectorStoreDb.Engine;

/// <summary>A chunk of a document's text: its number (0-based) and its character range <c>[Start, End)</c> in the text.</summary>
public sealed record ChunkHighlight(int Chunk, int Start, int End, string Text);
