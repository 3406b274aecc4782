using VectorStoreDb.Cluster.Catalog;
using VectorStoreDb.Cluster.Wire;

namespace VectorStoreDb.Cluster.Replication;

/// <summary>The two questions every shard-level grain and service asks: which nodes are live, and what the catalog says of a shard's collection.</summary>
internal static class ClusterLookups
{
    /// <summary>Names of the nodes this silo's membership view has as active.</summary>
    public static HashSet<string> ActiveNodeNames(this ClusterMembershipSnapshot snapshot) => snapshot.Members.Values
        .Where(m => m.Status == SiloStatus.Active)
        .Select(m => m.Name)
        .ToHashSet(StringComparer.Ordinal);

    /// <summary>The catalog's entry for the shard's collection; NotFound when it was deleted (or deleted and created again).</summary>
    public static async Task<CollectionEntry> GetCollectionEntryAsync(this IGrainFactory grains, ShardKey shard)
    {
        var entry = await grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key).GetAsync(shard.Collection);
        if (entry is null || entry.Incarnation != shard.Incarnation)
        {
            throw new ClusterException(ErrorCode.NotFound, $"Collection '{shard.Collection}' does not exist.", "name");
        }
        return entry;
    }
}
