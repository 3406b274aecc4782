using System.ComponentModel.DataAnnotations;

namespace VectorStoreDb.Engine;

/// <summary>The <c>VectorStore</c> configuration section (appsettings.json, <c>VectorStore__*</c> environment variables, command line).</summary>
public sealed class VectorStoreOptions
{
    public const string SectionName = "VectorStore";

    /// <summary>Folder holding every collection's files. Relative paths are resolved against the working directory.</summary>
    [Required]
    public string DataPath { get; set; } = "data";

    /// <summary>
    /// Where <c>onDisk</c> collections map their full vectors from (each file is unlinked as soon as it is mapped, so
    /// the folder stays empty). Default <c>&lt;DataPath&gt;/mapped</c>. Put it on a disk, never on a tmpfs: the point is
    /// that the kernel can page the vectors out to the file.
    /// </summary>
    public string? MappedVectorsPath { get; set; }

    /// <summary>
    /// Encoder new text collections and <c>/embed</c> use when a request names none. Unset: <c>minilm</c> when the
    /// build carries the built-in models, else <c>demo</c>. Existing collections keep the encoder they were created with.
    /// </summary>
    public string? DefaultEncoder { get; set; }

    /// <summary>Shards a new collection gets unless its request says otherwise; each shard has its own index and log.</summary>
    [Range(1, 64)]
    public int DefaultShards { get; set; } = 1;

    public LimitsOptions Limits { get; set; } = new();

    /// <summary>The <c>VectorStore:Durability</c> section: when a write is acknowledged, checkpoints, log segments.</summary>
    public DurabilityOptions Durability { get; set; } = new();

    /// <summary>
    /// Open collections on a background task so a host can start listening (and report not-ready) while a large
    /// store recovers. Until <see cref="VectorStoreEngine.WhenReady"/> completes, calls fail with <see cref="ErrorCode.Unavailable"/>.
    /// </summary>
    public bool RecoverInBackground { get; set; }

    /// <summary>A snapshot file to restore at start-up (skipped when the target collection already exists).</summary>
    public string? RestoreSnapshot { get; set; }

    /// <summary>Collection the <see cref="RestoreSnapshot"/> file is restored into; defaults to the name stored in the snapshot.</summary>
    public string? RestoreSnapshotTarget { get; set; }
}

/// <summary>When an upsert or delete is acknowledged.</summary>
public enum DurabilityMode
{
    /// <summary>Acknowledge only after the write-ahead log entry is flushed to disk (fsync). Concurrent writers share flushes.</summary>
    Sync,
    /// <summary>Acknowledge at once and flush every <see cref="DurabilityOptions.CommitIntervalMs"/>: a crash loses up to that much acknowledged work.</summary>
    Async,
}

/// <summary>The <c>VectorStore:Durability</c> configuration section.</summary>
public sealed class DurabilityOptions
{
    /// <summary><c>sync</c> (default) or <c>async</c>.</summary>
    public DurabilityMode Mode { get; set; } = DurabilityMode.Sync;

    /// <summary>In async mode, how often the log is flushed; this is the window of acknowledged writes a crash can lose.</summary>
    [Range(1, 60_000)]
    public int CommitIntervalMs { get; set; } = 100;

    /// <summary>How often shards whose log has grown write a checkpoint (so restart loads instead of replaying); 0 turns background checkpoints off.</summary>
    [Range(0, 86_400)]
    public int CheckpointIntervalSeconds { get; set; } = 60;

    /// <summary>Write a checkpoint of every shard on orderly shutdown, so the next start replays nothing.</summary>
    public bool CheckpointOnShutdown { get; set; } = true;

    /// <summary>Size of one write-ahead-log segment file (a power of two, MiB). Space is reclaimed a whole segment at a time.</summary>
    [Range(1, 1024)]
    public int LogSegmentSizeMb { get; set; } = 64;
}

/// <summary>Documented maximums. Requests beyond them are refused with a clear error and change nothing.</summary>
public sealed class LimitsOptions
{
    /// <summary>Documents in one upsert request.</summary>
    [Range(1, 100_000)]
    public int MaxBatchSize { get; set; } = 1_000;

    /// <summary>Characters in one document's text.</summary>
    [Range(1, 10_000_000)]
    public int MaxTextLength { get; set; } = 100_000;

    /// <summary>Largest <c>k</c> a query may ask for.</summary>
    [Range(1, 100_000)]
    public int MaxK { get; set; } = 1_000;

    /// <summary>Largest vector dimension a collection may have.</summary>
    [Range(1, 65_536)]
    public int MaxDimension { get; set; } = 4_096;

    /// <summary>Characters in a document id.</summary>
    [Range(1, 4_096)]
    public int MaxIdLength { get; set; } = 256;

    /// <summary>Bytes of a document's metadata, as UTF-8 JSON.</summary>
    [Range(1, 16 * 1024 * 1024)]
    public int MaxMetadataBytes { get; set; } = 64 * 1024;

    /// <summary>Queries in one batch query request.</summary>
    [Range(1, 100_000)]
    public int MaxQueryBatch { get; set; } = 1_000;

    /// <summary>Texts in one embed request.</summary>
    [Range(1, 100_000)]
    public int MaxEmbedBatch { get; set; } = 256;

    /// <summary>Collections one store may hold.</summary>
    [Range(1, 1_000_000)]
    public int MaxCollections { get; set; } = 1_000;

    /// <summary>Chunks one document may be split into; a longer text is refused (raise ChunkTokens or this).</summary>
    [Range(1, 100_000)]
    public int MaxChunksPerDocument { get; set; } = 1_024;

    /// <summary>Bytes of one HTTP request body or gRPC message (enforced by the server).</summary>
    [Range(1024, 2L * 1024 * 1024 * 1024)]
    public long MaxRequestBytes { get; set; } = 32 * 1024 * 1024;
}
