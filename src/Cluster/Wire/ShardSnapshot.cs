namespace VectorStoreDb.Cluster.Wire;

/// <summary>An engine snapshot of a replica's local collection, taken at exactly <see cref="AppliedSequence"/>.</summary>
[GenerateSerializer, Immutable]
public sealed record ShardSnapshot(
    [property: Id(0)] byte[] Content,
    [property: Id(1)] long AppliedSequence);
