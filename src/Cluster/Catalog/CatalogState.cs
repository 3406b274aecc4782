namespace VectorStoreDb.Cluster.Catalog;

/// <summary>The catalog grain's persistent state: every collection, and a version bumped by each change.</summary>
[GenerateSerializer]
public sealed class CatalogState
{
    [Id(0)] public Dictionary<string, CollectionEntry> Collections { get; set; } = new(StringComparer.Ordinal);

    [Id(1)] public long Version { get; set; }
}
