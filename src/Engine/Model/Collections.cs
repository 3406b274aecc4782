using System.Text.Json.Serialization;
using VectorStoreDb.Index;

namespace VectorStoreDb.Engine;

/// <summary>What a collection is created with. Persisted beside its data; immutable afterwards.</summary>
public sealed record CollectionSettings
{
    public required string Name { get; init; }

    [JsonConverter(typeof(JsonStringEnumConverter<Metric>))]
    public Metric Metric { get; init; } = Metric.Cosine;

    /// <summary>The encoder that embeds document and query text, or null for a raw-vector collection.</summary>
    public string? Encoder { get; init; }

    public required int Dimension { get; init; }

    /// <summary><c>hnsw</c> or <c>exact</c>.</summary>
    public string Index { get; init; } = IndexKinds.Exact;

    /// <summary>HNSW links per node on upper layers (layer 0 has twice as many).</summary>
    public int M { get; init; } = 16;

    /// <summary>HNSW beam width while building.</summary>
    public int EfConstruction { get; init; } = 200;

    /// <summary>Number of shards; each has its own index and log, so a cluster can spread them later.</summary>
    public int Shards { get; init; } = 1;

    /// <summary>
    /// <c>none</c>, <c>random</c> or <c>pca</c>: the index holds vectors projected to <see cref="IndexDimension"/>
    /// while the full vector stays stored for rescoring.
    /// </summary>
    public string Projection { get; init; } = ProjectionKinds.None;

    /// <summary>Dimension of the vectors in the index; equals <see cref="Dimension"/> without a projection.</summary>
    public int IndexDimension { get; init; }

    /// <summary>Rescore the projected index's candidates with the full vectors (on by default when projecting).</summary>
    public bool Rescore { get; init; } = true;

    /// <summary>Seed of the random projection's Gaussian matrix, so every restart rebuilds the same matrix.</summary>
    public ulong ProjectionSeed { get; init; }

    /// <summary>PCA is fitted automatically when the collection first holds this many documents.</summary>
    public int PcaSampleSize { get; init; } = 1000;

    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>The full-text (BM25) index, or null when the collection has none.</summary>
    public TextIndexSettings? TextIndex { get; init; }

    /// <summary>Mode a query that names none runs in: <c>dense</c> (default), <c>text</c> or <c>hybrid</c>.</summary>
    public string DefaultMode { get; init; } = QueryModes.Dense;

    /// <summary>
    /// Texts longer than the encoder's window are split into overlapping token windows, each embedded and indexed,
    /// instead of being truncated. On for new collections whose encoder can chunk; absent (off) in settings saved
    /// before chunking existed, so those collections keep behaving as they did.
    /// </summary>
    public bool Chunking { get; init; }

    /// <summary>Tokens per chunk (special tokens excluded); 0 means as many as the encoder reads.</summary>
    public int ChunkTokens { get; init; }

    /// <summary>Tokens consecutive chunks share, so a sentence cut by one window is whole in the next.</summary>
    public int ChunkOverlap { get; init; }
}

/// <summary>Projections a collection may use.</summary>
public static class ProjectionKinds
{
    public const string None = "none";
    public const string Random = "random";
    public const string Pca = "pca";
}

/// <summary>Index kinds a collection may use.</summary>
public static class IndexKinds
{
    public const string Exact = "exact";
    public const string Hnsw = "hnsw";
}

/// <summary>A request to create a collection; unset members take their documented defaults.</summary>
public sealed record CreateCollectionRequest
{
    public required string Name { get; init; }

    /// <summary><c>cosine</c> (default), <c>dot</c> or <c>l2</c>.</summary>
    public string? Metric { get; init; }

    /// <summary>Encoder name; defaults to <c>demo</c> when no <see cref="Dimension"/> is given. <c>none</c> makes a raw-vector collection.</summary>
    public string? Encoder { get; init; }

    /// <summary>Vector dimension; required for raw-vector collections, checked against the encoder otherwise.</summary>
    public int? Dimension { get; init; }

    public string? Index { get; init; }

    public int? M { get; init; }

    public int? EfConstruction { get; init; }

    public int? Shards { get; init; }

    /// <summary>Keep a full-text (BM25) index beside the vectors; default off, or on when another text option is given.</summary>
    public bool? Text { get; init; }

    /// <summary>Text analysis: <c>english</c> (default: stop words + Porter stemming) or <c>none</c>.</summary>
    public string? TextLanguage { get; init; }

    /// <summary>BM25 k1 (default 1.2).</summary>
    public float? Bm25K1 { get; init; }

    /// <summary>BM25 b (default 0.75).</summary>
    public float? Bm25B { get; init; }

    /// <summary>Mode for queries that name none: <c>dense</c> (default), <c>text</c> or <c>hybrid</c>.</summary>
    public string? DefaultMode { get; init; }
    /// <summary><c>none</c> (default), <c>random</c> or <c>pca</c>.</summary>
    public string? Projection { get; init; }

    /// <summary>Index vector dimension with a projection; defaults to half the vector dimension.</summary>
    public int? IndexDimension { get; init; }

    /// <summary>Rescore projected candidates with the full vectors; defaults to true.</summary>
    public bool? Rescore { get; init; }

    /// <summary>Seed of the random projection; a fixed default when absent.</summary>
    public ulong? ProjectionSeed { get; init; }

    /// <summary>Documents a PCA projection waits for (and fits on); default 1000.</summary>
    public int? PcaSampleSize { get; init; }

    /// <summary>Split long texts into overlapping chunks (default true when the encoder can); false truncates them.</summary>
    public bool? Chunking { get; init; }

    /// <summary>Tokens per chunk; default the encoder's window.</summary>
    public int? ChunkTokens { get; init; }

    /// <summary>Tokens shared by consecutive chunks; default 32 (or a quarter of a smaller window).</summary>
    public int? ChunkOverlap { get; init; }
}

/// <summary>A collection as listings show it.</summary>
/// <param name="Settings">What the collection was created with.</param>
/// <param name="DocumentCount">Documents it holds.</param>
/// <param name="ProjectionReady">True when the index holds projected vectors (false for no projection, or a PCA not fitted yet).</param>
public sealed record CollectionInfo(CollectionSettings Settings, long DocumentCount, bool ProjectionReady = false);

/// <summary>A document to upsert. Text is embedded by the collection's encoder unless a vector is given.</summary>
public sealed record DocumentInput
{
    /// <summary>Generated (a time-ordered GUID) when absent.</summary>
    public string? Id { get; init; }

    public string? Text { get; init; }

    public float[]? Vector { get; init; }

    public IReadOnlyDictionary<string, MetadataValue>? Metadata { get; init; }
}

/// <summary>A stored document.</summary>
public sealed record Document(string Id, string? Text, IReadOnlyDictionary<string, MetadataValue> Metadata, float[]? Vector = null)
{
    /// <summary>How the text was split when it was longer than the encoder's window (null when indexed whole).</summary>
    public IReadOnlyList<ChunkSpan>? Chunks { get; init; }
}

/// <summary>One chunk of a document's text: its number and character range <c>[Start, End)</c>.</summary>
public sealed record ChunkSpan(int Chunk, int Start, int End);

/// <summary>A k-NN query by text or by vector.</summary>
public sealed record QueryRequest
{
    public string? Text { get; init; }

    public float[]? Vector { get; init; }

    public int K { get; init; } = 10;

    public Filtering.MetadataFilter? Filter { get; init; }

    /// <summary>Scan every vector instead of using the approximate index.</summary>
    public bool Exact { get; init; }

    /// <summary>HNSW beam width for this query (≥ k); null takes the default.</summary>
    public int? Ef { get; init; }

    public bool IncludeVectors { get; init; }

    /// <summary><c>dense</c>, <c>text</c> or <c>hybrid</c>; null takes the collection's default mode.</summary>
    public string? Mode { get; init; }

    /// <summary>Candidates each retriever contributes to hybrid fusion (default max(100, k)).</summary>
    public int? Prefetch { get; init; }

    /// <summary><c>dbsf</c> (default) or <c>rrf</c>.</summary>
    public string? Fusion { get; init; }

    /// <summary>The k of Reciprocal Rank Fusion (default 60).</summary>
    public int? RrfK { get; init; }

    /// <summary>Weight of the dense retriever in fusion (default 1).</summary>
    public float? DenseWeight { get; init; }

    /// <summary>Weight of the text retriever in fusion (default 1).</summary>
    public float? TextWeight { get; init; }

    /// <summary>Say for each result which retriever found it, at what rank and score.</summary>
    public bool Explain { get; init; }

    /// <summary>
    /// Return chunks instead of documents (dense mode): every hit is one chunk, so a long document may appear more
    /// than once, each time with its chunk as <see cref="QueryHit.Highlight"/>.
    /// </summary>
    public bool Chunks { get; init; }
}

/// <summary>One query result: in dense mode the metric's natural score (similarity for cosine/dot, distance for l2), in text mode the BM25 score, in hybrid mode the fused score.</summary>
public sealed record QueryHit(string Id, float Score, string? Text, IReadOnlyDictionary<string, MetadataValue> Metadata, float[]? Vector = null)
{
    /// <summary>Set when the query asked to explain: which retriever found the hit, at what rank and score.</summary>
    public HitExplanation? Explanation { get; init; }

    /// <summary>
    /// The chunk that matched: set for documents that were split into chunks (the best chunk's score is the hit's
    /// score), and for every hit of a query that asked for chunks.
    /// </summary>
    public ChunkHighlight? Highlight { get; init; }
}

/// <summary>A chunk of a document's text: its number (0-based) and its character range <c>[Start, End)</c> in the text.</summary>
public sealed record ChunkHighlight(int Chunk, int Start, int End, string Text);
