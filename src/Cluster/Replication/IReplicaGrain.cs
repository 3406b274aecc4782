using VectorStoreDb.Cluster.Wire;

namespace VectorStoreDb.Cluster.Replication;

/// <summary>
/// One replica of one shard, pinned to its node (key: <see cref="ReplicaKey"/>). Writes arrive from the shard's
/// sequencer one at a time in sequence order; reads, log reads and status interleave with them.
/// </summary>
public interface IReplicaGrain : IGrainWithStringKey
{
    /// <summary>Creates the local collection from the user's create request; returns the engine's resolved settings as JSON.</summary>
    Task<string> CreateAsync(string requestJson);

    /// <summary>Deletes the local collection and the replica log.</summary>
    Task DropAsync();

    /// <summary>
    /// A sequencer starting <paramref name="epoch"/>: accepted (durably) when it is higher than any epoch promised
    /// before; from then on operations of older epochs are refused. Answers with where this replica stands.
    /// </summary>
    Task<Promise> PromiseAsync(long epoch);

    /// <summary>
    /// Applies the operation with this sequence number on top of the history it was numbered on, first catching up
    /// from a peer if earlier ones are missing or this replica holds writes that history does not.
    /// </summary>
    Task<ApplyResult> ApplyAsync(ReplicaOperation operation);

    /// <summary>
    /// Before this node joins the shard's placement: copies a live replica (its snapshot, then its log tail). It serves
    /// reads only once it is in the placement and has compared itself with its peers again.
    /// </summary>
    Task JoinAsync();

    /// <summary>
    /// Drops this replica's data when the catalog does not place it on this node (its collection was deleted or
    /// created again, or the shard moved away, while the node was down); true when it did. A replica created or
    /// joined in this activation is never an orphan: the catalog learns of it only after.
    /// </summary>
    Task<bool> DropIfOrphanedAsync();

    /// <summary>This node is leaving the shard's placement: refuse reads from now on, and delete the data shortly after.</summary>
    [AlwaysInterleave]
    Task RetireAsync();

    /// <summary>The next time this replica serves, it first checks its peers and catches up.</summary>
    [AlwaysInterleave]
    Task MarkStaleAsync();

    /// <summary>Operations for a peer catching up (see <see cref="LogRead"/>), or why it must copy a snapshot or ask elsewhere.</summary>
    [AlwaysInterleave]
    Task<LogSlice> ReadLogAsync(LogRead read);

    /// <summary>
    /// Takes an engine snapshot under the apply lock (exactly "everything up to N") and keeps it on this node for the
    /// caller to read in chunks; <see cref="EndSnapshotAsync"/> (or a few idle minutes) deletes it.
    /// </summary>
    [AlwaysInterleave]
    Task<ShardSnapshot> BeginSnapshotAsync();

    /// <summary>Up to <paramref name="count"/> bytes of a snapshot from <see cref="BeginSnapshotAsync"/>, from <paramref name="offset"/>.</summary>
    [AlwaysInterleave]
    Task<byte[]> ReadSnapshotAsync(string transferId, long offset, int count);

    [AlwaysInterleave]
    Task EndSnapshotAsync(string transferId);

    [AlwaysInterleave]
    Task<ReplicaState> GetStateAsync();

    [AlwaysInterleave]
    Task<ShardHit[]> QueryAsync(ShardQuery query);

    /// <summary>This shard's BM25 statistics for the terms of <paramref name="text"/>, for the coordinator to sum.</summary>
    [AlwaysInterleave]
    Task<ShardTextStatistics> GetTextStatisticsAsync(string text);

    [AlwaysInterleave]
    Task<ShardDocument?> GetAsync(string id, bool includeVector);

    /// <summary>Ids after <paramref name="after"/> in ordinal order, at most <paramref name="limit"/>, with their documents.</summary>
    [AlwaysInterleave]
    Task<ShardDocument[]> ListAsync(string? after, int limit, bool includeVectors);

    [AlwaysInterleave]
    Task<long> CountAsync();

    /// <summary>The documents of this shard under <paramref name="ids"/> (those it holds, each once), for a batch get.</summary>
    [AlwaysInterleave]
    Task<ShardDocument[]> GetManyAsync(string[] ids, bool includeVectors);

    /// <summary>This shard's page of a scroll (its best <c>limit</c> matches after the cursor), for the coordinator to merge.</summary>
    [AlwaysInterleave]
    Task<ShardScrollPage> ScrollAsync(ShardScroll scroll);

    /// <summary>Many queries on this shard at once (the engine's batch path); result i answers query i.</summary>
    [AlwaysInterleave]
    Task<ShardHit[][]> QueryBatchAsync(ShardQuery[] queries);
}
