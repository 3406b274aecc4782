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
}
