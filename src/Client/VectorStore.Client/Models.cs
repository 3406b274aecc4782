namespace VectorStoreDb.Client;

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

/// <summary>
/// What a text is embedded as. Retrieval models with asymmetric prompts (arctic-xs puts an instruction before queries)
/// embed the two differently; symmetric ones (minilm, demo) treat both alike.
/// </summary>
public enum EmbeddingInputType
{
    /// <summary>A passage to be stored and found (the default; what ingest embeds).</summary>
    Document,
    /// <summary>A search query (what /query, hybrid and RAG retrieval embed).</summary>
    Query,
}

/// <summary>Options for a new collection; anything left null takes the server's default.</summary>
public sealed record CollectionOptions
{
    public DistanceMetric? Metric { get; init; }

    /// <summary>Encoder that embeds text (default: the server's, <c>minilm</c> when built in, else <c>demo</c>); <c>none</c> with a <see cref="Dimension"/> for raw vectors.</summary>
    public string? Encoder { get; init; }

    public int? Dimension { get; init; }

    /// <summary><c>hnsw</c> or <c>exact</c>.</summary>
    public string? Index { get; init; }

    public int? M { get; init; }

    public int? EfConstruction { get; init; }

    public int? Shards { get; init; }

    /// <summary>
    /// Keep a full-text (BM25) index beside the vectors, for <see cref="SearchMode.Text"/> and <see cref="SearchMode.Hybrid"/> queries.
    /// Null: the server's default (on for collections with an encoder, off for raw vectors); false turns it off.
    /// </summary>
    public bool? Text { get; init; }

    /// <summary><c>english</c> (default: stop words + Porter stemming) or <c>none</c>.</summary>
    public string? TextLanguage { get; init; }

    /// <summary>BM25 k1 (default 1.2).</summary>
    public float? Bm25K1 { get; init; }

    /// <summary>BM25 b (default 0.75).</summary>
    public float? Bm25B { get; init; }

    /// <summary>Mode for queries that set no <see cref="SearchQuery.Mode"/> (default <see cref="SearchMode.Dense"/>).</summary>
    public SearchMode? DefaultMode { get; init; }
    /// <summary>
    /// <c>none</c> (default), <c>random</c> or <c>pca</c>: the index holds vectors projected to <see cref="IndexDimension"/>,
    /// and the stored full vectors rescore the candidates.
    /// </summary>
    public string? Projection { get; init; }

    /// <summary>Dimension of the index vectors; defaults to half the vector dimension when projecting.</summary>
    public int? IndexDimension { get; init; }

    /// <summary>Rescore projected candidates with the full vectors (default true when projecting).</summary>
    public bool? Rescore { get; init; }

    /// <summary><c>pca</c>: documents to wait for and fit on (default 1000).</summary>
    public int? PcaSampleSize { get; init; }

    /// <summary><c>random</c>: seed of the Gaussian matrix.</summary>
    public ulong? ProjectionSeed { get; init; }

    /// <summary>Split texts longer than the encoder's window into overlapping chunks (default true when the encoder can); false truncates them.</summary>
    public bool? Chunking { get; init; }

    /// <summary>Tokens per chunk (default: the encoder's window).</summary>
    public int? ChunkTokens { get; init; }

    /// <summary>Tokens consecutive chunks share (default 32, or a quarter of a smaller window).</summary>
    public int? ChunkOverlap { get; init; }

    /// <summary>
    /// <c>none</c> (default), <c>int8</c> or <c>binary</c>: searches run over compressed codes, and (with
    /// <see cref="Rescore"/>, default true) the candidates are rescored with the full vectors. <c>int8</c> works with
    /// either <see cref="Index"/> (HNSW walks the codes); <c>binary</c> needs <c>exact</c>.
    /// </summary>
    public string? Quantization { get; init; }

    /// <summary>Quantized scans keep k × oversampling candidates for rescoring (default 3 for int8, 8 for binary; 1–100).</summary>
    public float? Oversampling { get; init; }

    /// <summary>Keep the full vectors in memory-mapped files instead of the server's RAM (default false); best with int8.</summary>
    public bool? OnDisk { get; init; }
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
    DateTimeOffset CreatedAt,
    string Projection = "none",
    int IndexDimension = 0,
    bool Rescore = false,
    int PcaSampleSize = 0,
    bool ProjectionReady = false)
{
    /// <summary>The full-text index settings, or null when the collection has none.</summary>
    public TextIndexDescription? TextIndex { get; init; }

    /// <summary>Mode for queries that set none.</summary>
    public SearchMode DefaultMode { get; init; }

    /// <summary>How long texts are split, or null when they are truncated to the encoder's window.</summary>
    public ChunkingDescription? Chunking { get; init; }

    /// <summary><c>none</c>, <c>int8</c> or <c>binary</c>.</summary>
    public string Quantization { get; init; } = "none";

    /// <summary>The oversampling of quantized scans (0 without quantization).</summary>
    public float Oversampling { get; init; }

    /// <summary>True when the full vectors live in memory-mapped files rather than RAM.</summary>
    public bool OnDisk { get; init; }
}

/// <summary>A collection's chunking: tokens per chunk (null: the encoder's window) and tokens shared by consecutive chunks.</summary>
public sealed record ChunkingDescription(int? Tokens, int Overlap);

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
public sealed record VectorDocument(string Id, string? Text, IReadOnlyDictionary<string, object?> Metadata, float[]? Vector)
{
    /// <summary>How a text longer than the encoder's window was split into chunks; null when it was indexed whole.</summary>
    public IReadOnlyList<TextChunkSpan>? Chunks { get; init; }
}

/// <summary>One chunk of a document's text: its number and character range <c>[Start, End)</c>.</summary>
public sealed record TextChunkSpan(int Chunk, int Start, int End);

/// <summary>
/// One page of <see cref="IVectorStoreClient.ListDocumentsAsync"/>: documents in ordinal id order, the collection's
/// document count, and the cursor of the next page (<see cref="NextAfter"/>, null when this page is the last).
/// </summary>
public sealed record VectorDocumentPage(IReadOnlyList<VectorDocument> Documents, long Total, string? NextAfter);

/// <summary>
/// One page of the documents a filter matches (<see cref="IVectorStoreClient.ScrollAsync"/>). Start with
/// <see cref="After"/> null and pass each page's <see cref="ScrollResult.Next"/>, with the same filter and order, until
/// it is null; <see cref="VectorStoreClientExtensions.ScrollDocumentsAsync"/> does that for you.
/// </summary>
public sealed record ScrollQuery
{
    /// <summary>A Mongo-style JSON filter as in <see cref="SearchQuery.Filter"/>; null for every document.</summary>
    public string? Filter { get; init; }

    /// <summary>Order by a metadata field; null walks in ordinal id order.</summary>
    public DocumentOrder? OrderBy { get; init; }

    /// <summary>Documents per page, 1–1000.</summary>
    public int Limit { get; init; } = 50;

    /// <summary>The previous page's <see cref="ScrollResult.Next"/> (opaque); null for the first page.</summary>
    public string? After { get; init; }

    public bool IncludeVectors { get; init; }
}

/// <summary>
/// Order by the metadata value under <paramref name="Field"/>: numbers before strings before booleans, each in natural
/// order, reversed when <paramref name="Descending"/>. Documents without the field come last either way; ties go by id.
/// </summary>
public sealed record DocumentOrder(string Field, bool Descending = false);

/// <summary>A page of a scroll and the cursor of the next page (<see cref="Next"/>, null after the last).</summary>
public sealed record ScrollResult(IReadOnlyList<VectorDocument> Documents, string? Next);

/// <summary>A cluster as the node that answered sees it: membership, and every shard's replicas with their positions.</summary>
public sealed record ClusterStatusDescription(string Node, IReadOnlyList<ClusterNodeDescription> Nodes, IReadOnlyList<ClusterCollectionDescription> Collections);

/// <summary>A node (Orleans silo) and its membership status: <c>Active</c>, <c>Joining</c>, <c>ShuttingDown</c>, <c>Dead</c>...</summary>
public sealed record ClusterNodeDescription(string Name, string Address, string Status);

public sealed record ClusterCollectionDescription(string Name, int Shards, int Replicas, string WriteConsistency, IReadOnlyList<ClusterShardDescription> ShardStates);

public sealed record ClusterShardDescription(int Shard, IReadOnlyList<ClusterReplicaDescription> Replicas);

/// <summary>One replica: whether it answered, the sequence it applied, the first its log still holds, whether it serves reads, its documents.</summary>
public sealed record ClusterReplicaDescription(string Node, bool Reachable, long AppliedSequence, long LogFirstSequence, bool Serving, long Documents, string? Error);

/// <summary>One replica of one shard moved from node <see cref="From"/> to node <see cref="To"/>.</summary>
public sealed record ReplicaMoveDescription(string Collection, int Shard, string From, string To);

/// <summary>A stored snapshot of a collection.</summary>
public sealed record SnapshotDescription(string Collection, string Name, long SizeBytes, DateTimeOffset CreatedAt);

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

    /// <summary>Dense, text (BM25) or hybrid; null takes the collection's default mode.</summary>
    public SearchMode? Mode { get; init; }

    /// <summary>Hybrid: candidates from each retriever before fusion (default max(100, <see cref="K"/>)).</summary>
    public int? Prefetch { get; init; }

    /// <summary>Hybrid: how the two lists are merged (default <see cref="FusionMethod.Dbsf"/>).</summary>
    public FusionMethod? Fusion { get; init; }

    /// <summary>Hybrid RRF constant (default 60).</summary>
    public int? RrfK { get; init; }

    /// <summary>Hybrid: weight of the dense retriever (default 1).</summary>
    public float? DenseWeight { get; init; }

    /// <summary>Hybrid: weight of the text retriever (default 1).</summary>
    public float? TextWeight { get; init; }

    /// <summary>Fill <see cref="SearchHit.Explanation"/>: each result's rank and score in each retriever.</summary>
    public bool Explain { get; init; }

    /// <summary>Dense mode: one hit per matching chunk instead of per document, each with its <see cref="SearchHit.Highlight"/>.</summary>
    public bool Chunks { get; init; }
}

/// <summary>
/// One result. Dense mode: cosine similarity, dot product or L2 distance as the collection's metric defines it;
/// text mode: the BM25 score; hybrid mode: the fused score.
/// </summary>
public sealed record SearchHit(string Id, float Score, string? Text, IReadOnlyDictionary<string, object?> Metadata, float[]? Vector)
{
    /// <summary>Set when the query asked to <see cref="SearchQuery.Explain"/>.</summary>
    public SearchHitExplanation? Explanation { get; init; }

    /// <summary>The chunk that matched: set for documents split into chunks, and for every hit of a <see cref="SearchQuery.Chunks"/> query.</summary>
    public TextHighlight? Highlight { get; init; }
}

/// <summary>A chunk of a document's text: its number (0-based) and its character range <c>[Start, End)</c> in the text.</summary>
public sealed record TextHighlight(int Chunk, int Start, int End, string Text);

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

/// <summary>
/// A refused call; <see cref="Field"/> names the input at fault where there is one. <see cref="FieldViolations"/> and
/// <see cref="RetryAfter"/> come from the standard rich error details (<c>google.rpc.BadRequest</c>,
/// <c>google.rpc.RetryInfo</c> in <c>grpc-status-details-bin</c>).
/// </summary>
public sealed class VectorStoreClientException(VectorStoreErrorCode code, string message, string? field = null, Exception? inner = null,
    IReadOnlyList<VectorStoreFieldViolation>? fieldViolations = null, TimeSpan? retryAfter = null)
    : Exception(message, inner)
{
    public VectorStoreErrorCode Code { get; } = code;

    public string? Field { get; } = field;

    /// <summary>Each input at fault with why; empty when the refusal is not about an input.</summary>
    public IReadOnlyList<VectorStoreFieldViolation> FieldViolations { get; } =
        fieldViolations ?? (field is null ? [] : [new VectorStoreFieldViolation(field, message)]);

    /// <summary>How long the server asks to wait before retrying (<see cref="VectorStoreErrorCode.Busy"/>); null when it does not say.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>One input the server refused (a <c>google.rpc.BadRequest.FieldViolation</c>).</summary>
public sealed record VectorStoreFieldViolation(string Field, string Description);
