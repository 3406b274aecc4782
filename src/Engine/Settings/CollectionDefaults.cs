using VectorStoreDb.Index;

namespace VectorStoreDb.Engine.Settings;

/// <summary>
/// Every default a new collection gets for a setting its request leaves out, in one place. The settings record's
/// initialisers and <see cref="CollectionSettingsResolver"/> both read these, so a default is written once.
/// Persisted settings always carry every member, so changing a default here never changes an existing collection.
/// </summary>
public static class CollectionDefaults
{
    public const Metric Metric = VectorStoreDb.Index.Metric.Cosine;

    /// <summary>HNSW: approximate search in O(log n); <c>exact</c> must be asked for.</summary>
    public const string Index = IndexKinds.Hnsw;

    /// <summary>HNSW links per node on upper layers.</summary>
    public const int M = 16;

    public const int MinM = 2;

    public const int MaxM = 128;

    /// <summary>HNSW beam width while building.</summary>
    public const int EfConstruction = 200;

    public const int MaxEfConstruction = 4096;

    /// <summary>Shards of a collection when neither the request nor <see cref="VectorStoreOptions.DefaultShards"/> says otherwise.</summary>
    public const int Shards = 1;

    public const int MaxShards = 64;

    public const string Projection = ProjectionKinds.None;

    /// <summary>Rescoring is on whenever a projection is used.</summary>
    public const bool RescoreWithProjection = true;

    /// <summary>Vectors are scanned as float32 unless a quantization is asked for.</summary>
    public const string Quantization = "none";

    /// <summary>Rescoring is on whenever a quantization is used.</summary>
    public const bool RescoreWithQuantization = true;

    /// <summary>Largest oversampling factor (candidates = k × oversampling); 0 picks the kind's default.</summary>
    public const float MaxOversampling = 100;

    /// <summary>Seed of the random projection when the request gives none.</summary>
    public const ulong ProjectionSeed = 0x5EED;

    public const int PcaSampleSize = 1000;

    public const int MinPcaSampleSize = 2;

    public const int MaxPcaSampleSize = 100_000;

    /// <summary>Tokens consecutive chunks share: 32, or a quarter of a smaller chunk.</summary>
    public const int ChunkOverlap = 32;

    public const int MinChunkTokens = 8;

    public const string DefaultMode = QueryModes.Dense;

    public const string TextLanguage = Text.TextAnalyzer.English;

    public const float Bm25K1 = 1.2f;

    public const float Bm25B = 0.75f;

    /// <summary>Index dimension of a projection when the request gives none: half the vector dimension.</summary>
    public static int ProjectedDimension(int dimension) => Math.Max(1, dimension / 2);

    /// <summary>Chunk overlap when the request gives none, for chunks of <paramref name="chunkTokens"/> tokens.</summary>
    public static int Overlap(int chunkTokens) => Math.Min(ChunkOverlap, chunkTokens / 4);

    /// <summary>Tokens per chunk: a stored 0 means "as many as the encoder reads" (<paramref name="windowTokens"/>).</summary>
    public static int EffectiveChunkTokens(int chunkTokens, int windowTokens) => chunkTokens == 0 ? windowTokens : chunkTokens;
}
