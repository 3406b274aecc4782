namespace VectorStoreDb.Engine;

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

    /// <summary>Keep a full-text (BM25) index beside the vectors. Unset: on when an encoder embeds the documents or another text option is given, off for raw vectors.</summary>
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

    /// <summary><c>none</c> (default), <c>int8</c> (either index) or <c>binary</c> (<c>index: exact</c>); no projection.</summary>
    public string? Quantization { get; init; }

    /// <summary>Quantized scans keep k × oversampling candidates for rescoring (default 3 for int8, 8 for binary).</summary>
    public float? Oversampling { get; init; }

    /// <summary>Keep the full vectors in memory-mapped files instead of RAM (default false); best with <c>quantization: int8</c>.</summary>
    public bool? OnDisk { get; init; }

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
