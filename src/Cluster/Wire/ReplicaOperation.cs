namespace VectorStoreDb.Cluster.Wire;

/// <summary>
/// What one sequence number of a shard stands for: an upsert batch or the delete of one id. <see cref="Epoch"/> names
/// the sequencer activation that numbered it and <see cref="PreviousEpoch"/> the one that numbered sequence − 1, so a
/// replica applies it only on top of the same history (a number reused after a sequencer died is told apart).
/// Operations logged before epochs existed read as epoch 0.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ReplicaOperation(
    [property: Id(0)] long Sequence,
    [property: Id(1)] ReplicaDocument[]? Upserts,
    [property: Id(2)] string? DeleteId,
    [property: Id(3)] long Epoch = 0,
    [property: Id(4)] long PreviousEpoch = 0);
