namespace VectorStoreDb.Cluster.Wire;

/// <summary>
/// A peer's engine snapshot of its local collection, taken at exactly <see cref="AppliedSequence"/> and kept on the
/// peer's disk while the receiver reads it in chunks (<c>ReadSnapshotAsync</c>). <see cref="Checksum"/> is the
/// XxHash128 of all <see cref="Length"/> bytes: the receiver checks the file it spooled against it before applying it.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ShardSnapshot(
    [property: Id(0)] string TransferId,
    [property: Id(1)] long AppliedSequence,
    [property: Id(2)] long Length,
    [property: Id(3)] byte[] Checksum,
    [property: Id(4)] long LastEpoch = 0);
