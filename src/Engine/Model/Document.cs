namespace VectorStoreDb.Engine;

/// <summary>A stored document.</summary>
public sealed record Document(string Id, string? Text, IReadOnlyDictionary<string, MetadataValue> Metadata, float[]? Vector = null)
{
    /// <summary>How the text was split when it was longer than the encoder's window (null when indexed whole).</summary>
    public IReadOnlyList<ChunkSpan>? Chunks { get; init; }
}
