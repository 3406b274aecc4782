namespace VectorStoreDb.Cluster.Wire;

/// <summary>
/// A replica's answer to a sequencer that starts a new epoch: <see cref="Accepted"/> when the epoch is higher than any
/// it promised before (from then on it refuses operations of older epochs), and where it stands either way.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record Promise(
    [property: Id(0)] bool Accepted,
    [property: Id(1)] ReplicaState State);
