namespace VectorStoreDb.Engine;

/// <summary>A document's non-vector parts as held in memory.</summary>
internal sealed record StoredDocument(string Id, string? Text, IReadOnlyDictionary<string, MetadataValue> Metadata)
{
    /// <summary>
    /// The chunks of a text split into several, in order (chunk 0's label is the document's own label); null for a
    /// document indexed as one vector. Every chunk's label maps to this same document.
    /// </summary>
    public StoredChunk[]? Chunks { get; init; }

    /// <summary>The chunk number and character range <paramref name="label"/> stands for in this document.</summary>
    public StoredChunk ChunkAt(int label, out int number)
    {
        if (Chunks is { } chunks)
        {
            for (int i = 0; i < chunks.Length; i++)
            {
                if (chunks[i].Label == label)
                {
                    number = i;
                    return chunks[i];
                }
            }
        }
        number = 0;
        return new StoredChunk(label, 0, Text?.Length ?? 0);
    }
}

/// <summary>Where one chunk of a document lives: its index label and its character range in the text.</summary>
internal readonly record struct StoredChunk(int Label, int Start, int End);
