namespace VectorStoreDb.Cluster.Wire;

/// <summary>Where a replica stands: what it has applied, what its log still holds, whether it serves reads.</summary>
[GenerateSerializer, Immutable]
public sealed record ReplicaState(
    [property: Id(0)] string Node,
    [property: Id(1)] long AppliedSequence,
    [property: Id(2)] long LogFirstSequence,
    [property: Id(3)] bool Serving,
    [property: Id(4)] long Documents);
