namespace VectorStoreDb.Cluster.Wire;

/// <summary>
/// Operations a peer replica still keeps after a sequence number. <see cref="Truncated"/> means the peer's log no
/// longer reaches back that far, so the reader must catch up from a snapshot instead.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record LogSlice(
    [property: Id(0)] ReplicaOperation[] Operations,
    [property: Id(1)] long PeerAppliedSequence,
    [property: Id(2)] bool Truncated);
