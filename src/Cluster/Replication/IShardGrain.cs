using VectorStoreDb.Cluster.Wire;

namespace VectorStoreDb.Cluster.Replication;

/// <summary>
/// A shard's sequencer (key: <see cref="ShardKey"/>): gives each write the next sequence number and sends it to every
/// live replica. One write at a time (the grain's turn model), so every replica sees one order.
/// </summary>
public interface IShardGrain : IGrainWithStringKey
{
    /// <summary>Upserts documents (ids assigned) or deletes one id; acknowledged once the consistency rule is met.</summary>
    Task<ApplyResult> WriteAsync(ReplicaDocument[]? upserts, string? deleteId);

    /// <summary>The highest sequence number acknowledged to a client since this sequencer was activated.</summary>
    [AlwaysInterleave]
    Task<long> GetAcknowledgedAsync();

    /// <summary>
    /// The shard's placement changed: the next write reads it again. Queued between writes (not interleaved), so each
    /// write goes to exactly the old or the new set of replicas.
    /// </summary>
    Task RefreshAsync();

    /// <summary>
    /// A replica of <paramref name="node"/> asks before it serves its first read (after it joined, came back, or
    /// missed a write). Queued between writes like one, so when it answers true every write numbered before has
    /// finished and every later one goes to that replica too and needs its acknowledgement: catching up from its
    /// peers after this gives the replica every acknowledged write. False when the placement this sequencer reads
    /// (fresh from the catalog if the node was not in it) does not name the node, or its node is not live here.
    /// </summary>
    Task<bool> AdmitAsync(string node);
}
