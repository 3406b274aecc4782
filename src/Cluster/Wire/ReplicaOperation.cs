namespace VectorStoreDb.Cluster.Wire;

/// <summary>What one sequence number of a shard stands for: an upsert batch or the delete of one id.</summary>
[GenerateSerializer, Immutable]
public sealed record ReplicaOperation(
    [property: Id(0)] long Sequence,
    [property: Id(1)] ReplicaDocument[]? Upserts,
    [property: Id(2)] string? DeleteId);
