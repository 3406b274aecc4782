namespace VectorStoreDb.Cluster.Wire;

/// <summary>A stored document as a replica returns it (get and list).</summary>
[GenerateSerializer, Immutable]
public sealed record ShardDocument(
    [property: Id(0)] string Id,
    [property: Id(1)] string? Text,
    [property: Id(2)] byte[] MetadataJson,
    [property: Id(3)] float[]? Vector,
    [property: Id(4)] int[]? ChunkSpans);
