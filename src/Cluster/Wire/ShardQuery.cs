namespace VectorStoreDb.Cluster.Wire;

/// <summary>
/// A query pushed down to one shard replica: every knob of the engine's <c>QueryRequest</c>, with the filter as the
/// JSON it was written in (the engine compiles it on the replica with its own parser).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ShardQuery
{
    [Id(0)] public string? Text { get; init; }
    [Id(1)] public float[]? Vector { get; init; }
    [Id(2)] public int K { get; init; }
    [Id(3)] public string? FilterJson { get; init; }
    [Id(4)] public bool Exact { get; init; }
    [Id(5)] public int? Ef { get; init; }
    [Id(6)] public bool IncludeVectors { get; init; }
    [Id(7)] public string? Mode { get; init; }
    [Id(8)] public int? Prefetch { get; init; }
    [Id(9)] public string? Fusion { get; init; }
    [Id(10)] public int? RrfK { get; init; }
    [Id(11)] public float? DenseWeight { get; init; }
    [Id(12)] public float? TextWeight { get; init; }
    [Id(13)] public bool Explain { get; init; }
    [Id(14)] public bool Chunks { get; init; }

    /// <summary>Cluster-wide BM25 statistics for text and hybrid queries, summed by the coordinator over every shard.</summary>
    [Id(15)] public ShardTextStatistics? TextStatistics { get; init; }
}
