namespace VectorStoreDb.Cluster.Wire;

/// <summary>One shard's BM25 statistics for a query's terms (the engine's <c>TextStatistics</c> on the wire).</summary>
[GenerateSerializer, Immutable]
public sealed record ShardTextStatistics(
    [property: Id(0)] long DocumentCount,
    [property: Id(1)] long TotalLength,
    [property: Id(2)] Dictionary<string, long> DocumentFrequencies);
