namespace VectorStore.Engine.Storage;

/// <summary>What a log record does.</summary>
public enum RecordKind : byte
{
    Upsert = 1,
    Delete = 2,
}

/// <summary>One durable write. <see cref="Vector"/> is the vector as stored in the index (normalised for cosine).</summary>
public sealed record StorageRecord(RecordKind Kind, string Id, string? Text = null, float[]? Vector = null, IReadOnlyDictionary<string, MetadataValue>? Metadata = null);

/// <summary>
/// Where collections live. The engine sees only this interface so the on-disk format (today an
/// append-only checksummed log, later FASTER) can change without touching the write and query paths.
/// </summary>
public interface IStorageProvider : IDisposable
{
    /// <summary>Names of the collections that exist on disk.</summary>
    IReadOnlyList<string> ListCollections();

    CollectionSettings LoadSettings(string collection);

    /// <summary>Creates the collection's storage and persists its settings atomically.</summary>
    void CreateCollection(CollectionSettings settings);

    /// <summary>Removes the collection and frees its space.</summary>
    void DeleteCollection(string collection);

    IShardStore OpenShard(string collection, int shard);
}

/// <summary>The durable log of one shard.</summary>
public interface IShardStore : IDisposable
{
    /// <summary>Appends records; the returned task completes only once they are durable.</summary>
    Task AppendAsync(IReadOnlyList<StorageRecord> records, CancellationToken cancellationToken = default);

    /// <summary>Every durable record, oldest first, for rebuilding the shard's state at open.</summary>
    IEnumerable<StorageRecord> Replay();
}
