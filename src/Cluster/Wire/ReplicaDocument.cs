namespace VectorStoreDb.Cluster.Wire;

/// <summary>
/// A document as it travels to a replica: the coordinator has already assigned its id, so every replica stores the
/// same id. Metadata travels as the engine's own UTF-8 JSON, so its exact types survive the hop.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ReplicaDocument(
    [property: Id(0)] string Id,
    [property: Id(1)] string? Text,
    [property: Id(2)] float[]? Vector,
    [property: Id(3)] byte[]? MetadataJson);
