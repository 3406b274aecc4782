using Microsoft.Extensions.Logging;
using VectorStoreDb.Engine.Storage;
using VectorStoreDb.Engine.Storage.Format;

namespace VectorStoreDb.Engine;

/// <summary>Whether the engine serves requests yet.</summary>
public enum EngineState
{
    /// <summary>Collections are being opened (checkpoints loaded, logs replayed); requests get <see cref="ErrorCode.Unavailable"/>.</summary>
    Recovering,
    /// <summary>Every collection that could be opened is open.</summary>
    Ready,
}

/// <summary>What a start-up recovered, for logs and health endpoints.</summary>
public sealed record RecoveryReport(int Collections, int UnavailableCollections, long Documents, long LogRecordsReplayed, int ShardsFromCheckpoint, int TornLogTails, TimeSpan Elapsed);

// Checkpoints and snapshots: the engine drives them, the storage provider decides where the bytes go.
public sealed partial class VectorStoreEngine
{
    /// <summary>
    /// Checkpoints every shard with writes no checkpoint covers yet (or every shard when <paramref name="force"/>),
    /// then truncates their logs. Runs in the background every <see cref="DurabilityOptions.CheckpointIntervalSeconds"/>.
    /// </summary>
    public async Task<int> CheckpointAsync(bool force = false, CancellationToken cancellationToken = default)
    {
        Collection[] collections;
        lock (_catalogLock)
        {
            ThrowIfNotReady();
            collections = [.. _collections.Values];
        }
        int written = 0;
        foreach (var collection in collections)
        {
            try
            {
                written += await collection.CheckpointAsync(force, cancellationToken);
            }
            catch (ObjectDisposedException)
            {
                // Deleted while we were at it.
            }
        }
        return written;
    }

    internal IReadOnlyList<Shard> ShardsOf(string collection) => Find(collection).Shards;

    /// <summary>Bytes the data folder holds, for tests and metrics.</summary>
    public long DiskUsageBytes() => _storage.DiskUsageBytes();

    /// <summary>
    /// Writes a consistent snapshot of the collection into one checksummed file while writes go on (each shard is
    /// captured at one point in its log). <paramref name="name"/> defaults to the collection name and a UTC timestamp.
    /// </summary>
    public async Task<SnapshotInfo> CreateSnapshotAsync(string collection, string? name = null, CancellationToken cancellationToken = default)
    {
        var found = Find(collection);
        name ??= $"{collection}-{DateTime.UtcNow:yyyyMMdd-HHmmss-fff}";
        using (var file = _storage.CreateSnapshot(collection, name))
        {
            var stream = file.Stream;
            // Shard states carry their projected index; without the same projection a restore would rebuild it.
            SnapshotFormat.WriteHeader(stream, found.Settings, _storage.ReadCollectionFile(collection, Collection.ProjectionFile) ?? []);
            foreach (var shard in found.Shards)
            {
                await shard.WriteSnapshotAsync(stream, cancellationToken);
            }
            SnapshotFormat.WriteEnd(stream);
            await Task.Run(file.Commit, CancellationToken.None);
        }
        var info = _storage.ListSnapshots(collection).First(s => s.Name == name);
        _logger.LogInformation("Wrote snapshot {Snapshot} of collection {Collection} ({Bytes} bytes)", name, collection, info.SizeBytes);
        return info;
    }

    /// <summary>Snapshots kept for a collection name (also after the collection itself was deleted).</summary>
    public IReadOnlyList<SnapshotInfo> ListSnapshots(string collection)
    {
        ThrowIfNotReady();
        return _storage.ListSnapshots(ValidateCollectionName(collection));
    }

    /// <summary>Opens a snapshot file for download; throws <see cref="ErrorCode.NotFound"/> when there is none.</summary>
    public Stream OpenSnapshot(string collection, string snapshot)
    {
        ThrowIfNotReady();
        return _storage.OpenSnapshot(ValidateCollectionName(collection), snapshot) ?? throw SnapshotNotFound(collection, snapshot);
    }

    public void DeleteSnapshot(string collection, string snapshot)
    {
        ThrowIfNotReady();
        if (!_storage.DeleteSnapshot(ValidateCollectionName(collection), snapshot))
        {
            throw SnapshotNotFound(collection, snapshot);
        }
    }

    /// <summary>Restores a stored snapshot into a new collection <paramref name="target"/>.</summary>
    public async Task<CollectionInfo> RestoreSnapshotAsync(string collection, string snapshot, string target, CancellationToken cancellationToken = default)
    {
        using var stream = OpenSnapshot(collection, snapshot);
        return await RestoreSnapshotAsync(stream, target, cancellationToken);
    }

    /// <summary>
    /// Restores a snapshot read from <paramref name="snapshot"/> (for example an uploaded file) into a new collection,
    /// named <paramref name="target"/> or, when null, as the snapshot's collection was. The whole file is read and
    /// checked (every checksum, section and length, the version, nothing after the end) before anything is created:
    /// a damaged snapshot creates no collection and leaves no file behind.
    /// </summary>
    public async Task<CollectionInfo> RestoreSnapshotAsync(Stream snapshot, string? target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (target is not null)
        {
            ValidateCollectionName(target, "target");
        }
        SnapshotContent content;
        try
        {
            content = await Task.Run(() => SnapshotFormat.Read(snapshot), cancellationToken);
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException)
        {
            throw VectorStoreException.Invalid("snapshot", $"the snapshot cannot be restored: {ex.Message}");
        }
        using (content)
        {
            var settings = content.Settings with { Name = ValidateCollectionName(target ?? content.Settings.Name, "target"), CreatedAt = DateTimeOffset.UtcNow };
            Collection collection;
            lock (_catalogLock)
            {
                ThrowIfNotReady();
                if (_collections.ContainsKey(settings.Name) || _failed.ContainsKey(settings.Name))
                {
                    throw new VectorStoreException(ErrorCode.AlreadyExists, $"Collection '{settings.Name}' already exists; restore into a new name.", "target");
                }
                _storage.CreateCollection(settings);
                try
                {
                    if (content.Projection.Length > 0)
                    {
                        _storage.WriteCollectionFile(settings.Name, Collection.ProjectionFile, content.Projection);
                    }
                    collection = new Collection(settings, ResolveEncoder(settings), _storage, Limits);
                }
                catch
                {
                    _storage.DeleteCollection(settings.Name);
                    throw;
                }
                // Reserve the name while the state is installed; Find will not hand out the half-restored collection.
                _failed[settings.Name] = "it is being restored from a snapshot";
            }
            try
            {
                for (int i = 0; i < collection.Shards.Count; i++)
                {
                    collection.Shards[i].Install(content.Shards[i]);
                }
                // The restored state is durable only once checkpointed: the log of the new collection is empty.
                await collection.CheckpointAsync(force: true, CancellationToken.None);
            }
            catch
            {
                collection.Dispose();
                lock (_catalogLock)
                {
                    _failed.Remove(settings.Name);
                    _storage.DeleteCollection(settings.Name);
                }
                throw;
            }
            lock (_catalogLock)
            {
                _failed.Remove(settings.Name);
                _collections[settings.Name] = collection;
            }
            _logger.LogInformation("Restored collection {Collection} from a snapshot ({Documents} documents)", settings.Name, collection.Count);
            return collection.Info;
        }
    }

    private void RestoreAtStartup()
    {
        if (Options.RestoreSnapshot is not { Length: > 0 } path)
        {
            return;
        }
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            var info = RestoreSnapshotAsync(file, Options.RestoreSnapshotTarget).GetAwaiter().GetResult();
            _logger.LogInformation("Restored snapshot {File} into collection {Collection} at start-up", path, info.Settings.Name);
        }
        catch (VectorStoreException ex) when (ex.Code == ErrorCode.AlreadyExists)
        {
            _logger.LogInformation("Snapshot {File} is not restored at start-up: {Reason}", path, ex.Message);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or VectorStoreException)
        {
            _logger.LogError(ex, "Could not restore snapshot {File} at start-up", path);
        }
    }

    private async Task CheckpointLoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Options.Durability.CheckpointIntervalSeconds));
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                try
                {
                    await CheckpointAsync(force: false, _stopping.Token);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
                {
                    _logger.LogError(ex, "Background checkpoint failed; the log keeps every write until the next one succeeds");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static string ValidateCollectionName(string name, string field = "name") =>
        name is not null && CollectionName().IsMatch(name) ? name : throw VectorStoreException.Invalid(field, "collection names are 1-64 characters of a-z, 0-9, '_' and '-'.");

    private static VectorStoreException SnapshotNotFound(string collection, string snapshot) =>
        new(ErrorCode.NotFound, $"Snapshot '{snapshot}' of collection '{collection}' does not exist.", "snapshot");
}
