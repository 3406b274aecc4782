namespace VectorStoreDb.Cluster.Wire;

/// <summary>
/// Operations a peer replica keeps after a position of the reader's (see <see cref="LogRead"/>). <see cref="Status"/>
/// says whether the reader may apply them, must copy the peer's snapshot instead, or must ask another peer.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record LogSlice(
    [property: Id(0)] ReplicaOperation[] Operations,
    [property: Id(1)] long PeerAppliedSequence,
    [property: Id(2)] LogSliceStatus Status);

[GenerateSerializer]
public enum LogSliceStatus
{
    /// <summary>The operations follow the reader's last one on the same history.</summary>
    Follows,

    /// <summary>The peer's log no longer reaches back to the reader's position: copy its snapshot.</summary>
    Truncated,

    /// <summary>The reader's last operation is not the peer's at that number (the reader kept a write that was never acknowledged): copy the peer's snapshot.</summary>
    Diverged,

    /// <summary>The peer does not hold the position the reader is heading for: ask another peer.</summary>
    Elsewhere,
}

/// <summary>
/// A catch-up read: operations after (<see cref="After"/>, <see cref="AfterEpoch"/>), the reader's last one, towards
/// (<see cref="Until"/>, <see cref="UntilEpoch"/>), the position it must reach, at most <see cref="Max"/> of them.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record LogRead(
    [property: Id(0)] long After,
    [property: Id(1)] long AfterEpoch,
    [property: Id(2)] long Until,
    [property: Id(3)] long UntilEpoch,
    [property: Id(4)] int Max);
