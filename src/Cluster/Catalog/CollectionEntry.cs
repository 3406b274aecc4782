namespace VectorStoreDb.Cluster.Catalog;

/// <summary>
/// One collection in the cluster catalog: what it was created with, and which nodes hold each shard's replicas.
/// <see cref="RequestJson"/> and <see cref="SettingsJson"/> are the engine's own records as JSON, so the catalog never
/// lags behind a new collection setting.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record CollectionEntry
{
    [Id(0)] public required string Name { get; init; }

    /// <summary>Changes when a collection of the same name is created again; part of every replica's key.</summary>
    [Id(1)] public required string Incarnation { get; init; }

    /// <summary>The user's <c>CreateCollectionRequest</c>, replayed on every replica's node.</summary>
    [Id(2)] public required string RequestJson { get; init; }

    /// <summary>The settings the engine resolved (metric, dimension, encoder...), as a single-node store would report them.</summary>
    [Id(3)] public required string SettingsJson { get; init; }

    [Id(4)] public required int Shards { get; init; }

    [Id(5)] public required int Replicas { get; init; }

    /// <summary><c>majority</c>, <c>all</c> or a number.</summary>
    [Id(6)] public required string WriteConsistency { get; init; }

    /// <summary>For each shard, the nodes holding its replicas (distinct).</summary>
    [Id(7)] public required string[][] Placement { get; init; }

    /// <summary>The catalog version that last changed this entry.</summary>
    [Id(8)] public long Version { get; init; }
}
