namespace VectorStoreDb.Cluster.Wire;

/// <summary>
/// A scroll request pushed down to one shard replica: the same filter (as its JSON), order, limit and cursor on every
/// shard, so the coordinator can merge the pages (<see cref="Engine.Operations.ScrollMerge"/>).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ShardScroll(
    [property: Id(0)] string? FilterJson,
    [property: Id(1)] string? OrderField,
    [property: Id(2)] bool OrderDescending,
    [property: Id(3)] int Limit,
    [property: Id(4)] string? After,
    [property: Id(5)] bool IncludeVectors);

/// <summary>One shard's scroll page; <see cref="More"/> when the shard holds matches beyond it.</summary>
[GenerateSerializer, Immutable]
public sealed record ShardScrollPage(
    [property: Id(0)] ShardDocument[] Documents,
    [property: Id(1)] bool More);
