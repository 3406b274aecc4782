namespace VectorStore.Client;

/// <summary>How vectors are compared.</summary>
public enum DistanceMetric
{
    /// <summary>Cosine similarity; higher is closer.</summary>
    Cosine,
    /// <summary>Inner product; higher is closer.</summary>
    Dot,
    /// <summary>Euclidean distance; lower is closer.</summary>
    L2,
}

/// <summary>Options for a new collection; anything left null takes the server's default.</summary>
public sealed record CollectionOptions
{
    public DistanceMetric? Metric { get; init; }

    /// <summary>Encoder that embeds text (default <c>demo</c>); <c>none</c> with a <see cref="Dimension"/> for raw vectors.</summary>
    public string? Encoder { get; init; }

    public int? Dimension { get; init; }

    /// <summary><c>hnsw</c> or <c>exact</c>.</summary>
    public string? Index { get; init; }

    public int? M { get; init; }

    public int? EfConstruction { get; init; }

    public int? Shards { get; init; }
}

/// <summary>A collection's settings and size.</summary>
public sealed record CollectionDescription(
    string Name,
    DistanceMetric Metric,
    string? Encoder,
    int Dimension,
    string Index,
    int M,
    int EfConstruction,
    int Shards,
    long DocumentCount,
    DateTimeOffset CreatedAt);

/// <summary>
/// A document to write. Text is embedded by the collection's encoder unless a vector is given. Metadata
/// values may be strings, numbers, booleans, or arrays of those.
/// </summary>
public sealed record DocumentWrite
{
    public string? Id { get; init; }

    public string? Text { get; init; }

    public float[]? Vector { get; init; }

    public IReadOnlyDictionary<string, object?>? Metadata { get; init; }
}

/// <summary>A stored document. Metadata numbers come back as <see cref="double"/>, arrays as <c>object?[]</c>.</summary>
public sealed record VectorDocument(string Id, string? Text, IReadOnlyDictionary<string, object?> Metadata, float[]? Vector);

/// <summary>A k-NN query by <see cref="Text"/> or by <see cref="Vector"/>.</summary>
public sealed record SearchQuery
{
    public string? Text { get; init; }

    public float[]? Vector { get; init; }

    public int K { get; init; } = 10;

    /// <summary>A Mongo-style JSON filter, e.g. <c>{"kind":"pet","year":{"$gte":2021}}</c>.</summary>
    public string? Filter { get; init; }

    /// <summary>Scan every vector instead of using the approximate index.</summary>
    public bool Exact { get; init; }

    /// <summary>HNSW beam width for this query (≥ <see cref="K"/>).</summary>
    public int? Ef { get; init; }

    public bool IncludeVectors { get; init; }
}

/// <summary>One result: cosine similarity, dot product or L2 distance as the collection's metric defines it.</summary>
public sealed record SearchHit(string Id, float Score, string? Text, IReadOnlyDictionary<string, object?> Metadata, float[]? Vector);

/// <summary>An encoder the store can embed text with.</summary>
public sealed record ModelDescription(string Name, int Dimension, int MaxTokens, string Kind);

/// <summary>Why a call was refused; the same for remote and embedded clients.</summary>
public enum VectorStoreErrorCode
{
    Unknown,
    InvalidArgument,
    NotFound,
    AlreadyExists,
    LimitExceeded,
    FailedPrecondition,
    Unavailable,
    Unauthenticated,
    PermissionDenied,
    Cancelled,
    /// <summary>The call's deadline (<see cref="VectorStoreClientOptions.Timeout"/>) passed before the server answered.</summary>
    DeadlineExceeded,
    /// <summary>The server is at capacity (e.g. every chat generation slot and queue place is taken); retry later. HTTP 429 / gRPC RESOURCE_EXHAUSTED with trailer <c>error-code: busy</c>.</summary>
    Busy,
}

/// <summary>A refused call; <see cref="Field"/> names the input at fault where there is one.</summary>
public sealed class VectorStoreClientException(VectorStoreErrorCode code, string message, string? field = null, Exception? inner = null)
    : Exception(message, inner)
{
    public VectorStoreErrorCode Code { get; } = code;

    public string? Field { get; } = field;
}
