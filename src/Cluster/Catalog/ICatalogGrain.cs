using VectorStoreDb.Cluster.Wire;

namespace VectorStoreDb.Cluster.Catalog;

/// <summary>The cluster-wide, durable collection catalog (one activation, key <see cref="Key"/>).</summary>
public interface ICatalogGrain : IGrainWithStringKey
{
    const string Key = "catalog";

    /// <summary>Creates the collection's replicas on distinct nodes and records it; refused input creates nothing.</summary>
    Task<CollectionEntry> CreateAsync(string name, string requestJson, int shards, int replicas, string writeConsistency);

    Task DeleteAsync(string name);

    [AlwaysInterleave]
    Task<CollectionEntry?> GetAsync(string name);

    [AlwaysInterleave]
    Task<CollectionEntry[]> ListAsync();

    /// <summary>
    /// The moves that spread replicas evenly over the active nodes that are not draining, and take every replica off
    /// draining nodes; refused (FailedPrecondition) when a draining node's replica has nowhere to go.
    /// </summary>
    [AlwaysInterleave]
    Task<ReplicaMove[]> PlanRebalanceAsync();

    /// <summary>
    /// Moves one replica: the target copies a live replica (snapshot, then log tail), joins the shard's writes, then
    /// the source leaves them and stops serving. False when the catalog no longer matches the move (already done).
    /// </summary>
    Task<bool> MoveReplicaAsync(ReplicaMove move);

    /// <summary>Marks a node as draining (or no longer draining).</summary>
    Task SetDrainingAsync(string node, bool draining);

    [AlwaysInterleave]
    Task<string[]> GetDrainingAsync();
}
