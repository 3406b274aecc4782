using System.Text.Json.Serialization;
using VectorStoreDb.Engine.Settings;
using VectorStoreDb.Index;

namespace VectorStoreDb.Engine;

/// <summary>What a collection is created with. Persisted beside its data; immutable afterwards.</summary>
public sealed record CollectionSettings
{
    public required string Name { get; init; }

    [JsonConverter(typeof(JsonStringEnumConverter<Metric>))]
    public Metric Metric { get; init; } = CollectionDefaults.Metric;

    /// <summary>The encoder that embeds document and query text, or null for a raw-vector collection.</summary>
    public string? Encoder { get; init; }

    public required int Dimension { get; init; }

    /// <summary><c>hnsw</c> (the default) or <c>exact</c>.</summary>
    public string Index { get; init; } = CollectionDefaults.Index;

    /// <summary>HNSW links per node on upper layers (layer 0 has twice as many).</summary>
    public int M { get; init; } = CollectionDefaults.M;

    /// <summary>HNSW beam width while building.</summary>
    public int EfConstruction { get; init; } = CollectionDefaults.EfConstruction;

    /// <summary>Number of shards; each has its own index and log, so a cluster can spread them later.</summary>
    public int Shards { get; init; } = CollectionDefaults.Shards;

    /// <summary>
    /// <c>none</c>, <c>random</c> or <c>pca</c>: the index holds vectors projected to <see cref="IndexDimension"/>
    /// while the full vector stays stored for rescoring.
    /// </summary>
    public string Projection { get; init; } = CollectionDefaults.Projection;

    /// <summary>Dimension of the vectors in the index; equals <see cref="Dimension"/> without a projection.</summary>
    public int IndexDimension { get; init; }

    /// <summary>
    /// <c>none</c>, <c>int8</c> or <c>binary</c>: the exact scan (int8 or binary) or the HNSW walk (int8) runs over
    /// compressed codes kept beside the full vectors. Absent (none) in settings saved before quantization existed.
    /// </summary>
    public string Quantization { get; init; } = CollectionDefaults.Quantization;

    /// <summary>Candidates of a quantized scan per result (k × oversampling) before rescoring; 0 is the kind's default.</summary>
    public float Oversampling { get; init; }

    /// <summary>
    /// Full vectors live in memory-mapped files (paged by the kernel) instead of RAM; codes, graph and documents stay
    /// in memory. Absent (false) in settings saved before it existed. The log and checkpoints are unchanged.
    /// </summary>
    public bool OnDisk { get; init; }

    /// <summary>Rescore the projected index's (or the quantized scan's) candidates with the full vectors (on by default when projecting or quantizing).</summary>
    public bool Rescore { get; init; } = CollectionDefaults.RescoreWithProjection;

    /// <summary>Seed of the random projection's Gaussian matrix, so every restart rebuilds the same matrix.</summary>
    public ulong ProjectionSeed { get; init; }

    /// <summary>PCA is fitted automatically when the collection first holds this many documents.</summary>
    public int PcaSampleSize { get; init; } = CollectionDefaults.PcaSampleSize;

    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>The full-text (BM25) index, or null when the collection has none.</summary>
    public TextIndexSettings? TextIndex { get; init; }

    /// <summary>Mode a query that names none runs in: <c>dense</c> (default), <c>text</c> or <c>hybrid</c>.</summary>
    public string DefaultMode { get; init; } = CollectionDefaults.DefaultMode;

    /// <summary>
    /// Texts longer than the encoder's window are split into overlapping token windows, each embedded and indexed,
    /// instead of being truncated. On for new collections whose encoder can chunk; absent (off) in settings saved
    /// before chunking existed, so those collections keep behaving as they did.
    /// </summary>
    public bool Chunking { get; init; }

    /// <summary>Tokens per chunk (special tokens excluded); 0 means as many as the encoder reads.</summary>
    public int ChunkTokens { get; init; }

    /// <summary><see cref="ChunkTokens"/> as APIs show it: null for the stored 0 that means "the encoder's window". Not persisted.</summary>
    [JsonIgnore]
    public int? ChunkTokensOrNull => ChunkTokens == 0 ? null : ChunkTokens;

    /// <summary>Tokens consecutive chunks share, so a sentence cut by one window is whole in the next.</summary>
    public int ChunkOverlap { get; init; }
}
