namespace VectorStoreDb.Engine.Storage;

/// <summary>What a log record does.</summary>
public enum RecordKind : byte
{
    Upsert = 1,
    Delete = 2,
}

/// <summary>One durable write. <see cref="Vector"/> is the vector as stored in the index (normalised for cosine).</summary>
public sealed record StorageRecord(RecordKind Kind, string Id, string? Text = null, float[]? Vector = null, IReadOnlyDictionary<string, MetadataValue>? Metadata = null)
{
    /// <summary>
    /// The chunks of a text split into several (null otherwise): chunk 0's vector is <see cref="Vector"/>, so a
    /// reader that ignores chunks still sees the document's first window.
    /// </summary>
    public IReadOnlyList<ChunkRecord>? Chunks { get; init; }
}

/// <summary>One chunk of a document: its character range <c>[Start, End)</c> in the text and its vector.</summary>
public sealed record ChunkRecord(int Start, int End, float[] Vector);

/// <summary>A snapshot file as listings show it.</summary>
public sealed record SnapshotInfo(string Collection, string Name, long SizeBytes, DateTimeOffset CreatedAt);

/// <summary>
/// Where collections live. The engine sees only this interface (and <see cref="IShardStore"/>), never the
/// storage engine underneath (FASTER today), so that engine can be swapped without touching the write and
/// query paths.
/// </summary>
public interface IStorageProvider : IDisposable
{
    /// <summary>Names of the collections that exist on disk.</summary>
    IReadOnlyList<string> ListCollections();

    CollectionSettings LoadSettings(string collection);

    /// <summary>Creates the collection's storage and persists its settings atomically.</summary>
    void CreateCollection(CollectionSettings settings);

    /// <summary>Removes the collection and frees its space. Its shard stores must be disposed first.</summary>
    void DeleteCollection(string collection);

    /// <summary>Reads a small collection-level file (e.g. a fitted projection) written by <see cref="WriteCollectionFile"/>; null when absent.</summary>
    byte[]? ReadCollectionFile(string collection, string name) => null;

    /// <summary>Durably and atomically replaces a small collection-level file.</summary>
    void WriteCollectionFile(string collection, string name, byte[] data) =>
        throw new NotSupportedException($"{GetType().Name} cannot store collection files.");

    IShardStore OpenShard(string collection, int shard);

    /// <summary>Starts a snapshot file; nothing is visible until <see cref="IPendingFile.Commit"/>.</summary>
    IPendingFile CreateSnapshot(string collection, string snapshot);

    IReadOnlyList<SnapshotInfo> ListSnapshots(string collection);

    /// <summary>Opens a snapshot for reading, or returns null when there is none by that name.</summary>
    Stream? OpenSnapshot(string collection, string snapshot);

    /// <summary>Deletes a snapshot; false when there was none.</summary>
    bool DeleteSnapshot(string collection, string snapshot);

    /// <summary>Bytes the data folder holds (collections, logs, checkpoints, snapshots).</summary>
    long DiskUsageBytes();
}

/// <summary>
/// A file being written (checkpoint or snapshot): written to a temporary name, then fsync'd and atomically
/// renamed into place by <see cref="Commit"/>. Disposing without committing deletes it.
/// </summary>
public interface IPendingFile : IDisposable
{
    /// <summary>The content stream; the storage layer frames and checksums what is written to it.</summary>
    Stream Stream { get; }

    void Commit();
}

/// <summary>What <see cref="IShardStore.Recover"/> found.</summary>
public sealed record ShardRecoveryInfo(bool FromCheckpoint, long RecordsReplayed, bool TornTail);

/// <summary>
/// The durable state of one shard: a write-ahead log plus checkpoints of the shard's whole state. Appends are
/// ordered by the caller (one writer at a time); durability is awaited separately so concurrent writers share
/// one log flush (group commit).
/// </summary>
public interface IShardStore : IDisposable
{
    /// <summary>
    /// Rebuilds the shard: hands the newest intact checkpoint to <paramref name="loadCheckpoint"/> (falling back to
    /// an older one when it throws <see cref="InvalidDataException"/>), then every log record after it to
    /// <paramref name="apply"/>, oldest first. Throws <see cref="InvalidDataException"/> naming the file and
    /// offset when the state cannot be rebuilt.
    /// </summary>
    ShardRecoveryInfo Recover(Action<Stream> loadCheckpoint, Action<StorageRecord> apply, Action resetState);

    /// <summary>Adds the records to the log (not yet durable) and returns the log position after them.</summary>
    long Append(IReadOnlyList<StorageRecord> records);

    /// <summary>Completes once everything up to <paramref name="position"/> is durable; at once in async durability mode.</summary>
    ValueTask WaitForDurableAsync(long position, CancellationToken cancellationToken = default);

    /// <summary>The log position after the last append.</summary>
    long Position { get; }

    /// <summary>The log position the newest checkpoint covers.</summary>
    long CheckpointPosition { get; }

    /// <summary>
    /// Starts a checkpoint of the state as of <paramref name="position"/>; the caller writes the state to the
    /// pending file's stream and commits it, after which the log before the checkpoints still kept is truncated.
    /// </summary>
    IPendingFile BeginCheckpoint(long position);
}
