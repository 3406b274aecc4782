namespace VectorStoreDb.Engine;

/// <summary>A document to upsert. Text is embedded by the collection's encoder unless a vector is given.</summary>
public sealed record DocumentInput
{
    /// <summary>Generated (a time-ordered GUID) when absent.</summary>
    public string? Id { get; init; }

    public string? Text { get; init; }

    public float[]? Vector { get; init; }

    public IReadOnlyDictionary<string, MetadataValue>? Metadata { get; init; }
}
