namespace VectorStoreDb.Cluster.Catalog;

/// <summary>The catalog grain's persistent state: every collection, and a version bumped by each change.</summary>
[GenerateSerializer]
public sealed class CatalogState
{
    [Id(0)] public Dictionary<string, CollectionEntry> Collections { get; set; } = new(StringComparer.Ordinal);

    [Id(1)] public long Version { get; set; }

    /// <summary>Nodes being drained: no new replica is placed on them and rebalancing moves theirs away.</summary>
    [Id(2)] public HashSet<string> Draining { get; set; } = new(StringComparer.Ordinal);
}
