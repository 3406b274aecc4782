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
}
