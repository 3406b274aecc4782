using System.ComponentModel.DataAnnotations;

namespace VectorStore.Engine;

/// <summary>The <c>VectorStore</c> configuration section (appsettings.json, <c>VectorStore__*</c> environment variables, command line).</summary>
public sealed class VectorStoreOptions
{
    public const string SectionName = "VectorStore";

    /// <summary>Folder holding every collection's files. Relative paths are resolved against the working directory.</summary>
    [Required]
    public string DataPath { get; set; } = "data";

    /// <summary>Shards a new collection gets unless its request says otherwise; each shard has its own index and log.</summary>
    [Range(1, 64)]
    public int DefaultShards { get; set; } = 1;

    public LimitsOptions Limits { get; set; } = new();
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

    /// <summary>Texts in one embed request.</summary>
    [Range(1, 100_000)]
    public int MaxEmbedBatch { get; set; } = 256;

    /// <summary>Collections one store may hold.</summary>
    [Range(1, 1_000_000)]
    public int MaxCollections { get; set; } = 1_000;

    /// <summary>Bytes of one HTTP request body or gRPC message (enforced by the server).</summary>
    [Range(1024, 2L * 1024 * 1024 * 1024)]
    public long MaxRequestBytes { get; set; } = 32 * 1024 * 1024;
}
