namespace VectorStoreDb.Cluster.Wire;

/// <summary>
/// Where a replica stands: what it has applied (and the epoch of that last operation), what its log still holds,
/// whether it serves reads, and the highest sequencer epoch it has promised to follow.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ReplicaState(
    [property: Id(0)] string Node,
    [property: Id(1)] long AppliedSequence,
    [property: Id(2)] long LogFirstSequence,
    [property: Id(3)] bool Serving,
    [property: Id(4)] long Documents,
    [property: Id(5)] long LastEpoch = 0,
    [property: Id(6)] long PromisedEpoch = 0)
{
    /// <summary>Position in the shard's history: a later epoch wins, then a higher sequence number.</summary>
    public bool IsAhead(ReplicaState other) =>
        LastEpoch != other.LastEpoch ? LastEpoch > other.LastEpoch : AppliedSequence > other.AppliedSequence;
}
