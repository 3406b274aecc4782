namespace VectorStoreDb.Cluster.Wire;

/// <summary>One replica of one shard moving from a node to another (rebalancing or draining).</summary>
[GenerateSerializer, Immutable]
public sealed record ReplicaMove(
    [property: Id(0)] string Collection,
    [property: Id(1)] int Shard,
    [property: Id(2)] string From,
    [property: Id(3)] string To);
