namespace VectorStoreDb.Cluster.Wire;

/// <summary>One hit of a shard replica, as the coordinator merges it.</summary>
[GenerateSerializer, Immutable]
public sealed record ShardHit
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public float Score { get; init; }
    [Id(2)] public string? Text { get; init; }
    [Id(3)] public required byte[] MetadataJson { get; init; }
    [Id(4)] public float[]? Vector { get; init; }
    [Id(5)] public int? HighlightChunk { get; init; }
    [Id(6)] public int HighlightStart { get; init; }
    [Id(7)] public int HighlightEnd { get; init; }
    [Id(8)] public string? HighlightText { get; init; }
    [Id(9)] public int? DenseRank { get; init; }
    [Id(10)] public float? DenseScore { get; init; }
    [Id(11)] public int? TextRank { get; init; }
    [Id(12)] public float? TextScore { get; init; }
    [Id(13)] public bool Explained { get; init; }
}
