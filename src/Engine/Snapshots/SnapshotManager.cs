using Microsoft.Extensions.Logging;
using VectorStoreDb.Engine.Catalog;
using VectorStoreDb.Engine.Storage;
using VectorStoreDb.Engine.Storage.Format;
using VectorStoreDb.Engine.Validation;

namespace VectorStoreDb.Engine.Snapshots;

/// <summary>
/// Snapshots: writes one checksummed file per snapshot while writes go on, and restores such a file into a new
/// collection. The manager drives them; the storage provider decides where the bytes go. A snapshot being written
/// holds a lease on its collection, so a concurrent delete waits for it instead of closing files under it.
/// </summary>
internal sealed class SnapshotManager(CollectionCatalog catalog, IStorageProvider storage, VectorStoreOptions options, ILogger logger)
{
    private readonly IStorageProvider _storage = storage;
    private readonly ILogger _logger = logger;

    /// <summary>
    /// Writes a consistent snapshot of the collection into one checksummed file while writes go on (each shard is
    /// captured at one point in its log). <paramref name="name"/> defaults to the collection name and a UTC timestamp.
    /// </summary>
    public async Task<SnapshotInfo> CreateSnapshotAsync(string collection, string? name = null, CancellationToken cancellationToken = default)
    {
        name = name is null ? $"{collection}-{DateTime.UtcNow:yyyyMMdd-HHmmss-fff}" : NameRules.SnapshotName(name);
        using var lease = catalog.Acquire(collection);
        var found = lease.Collection;
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
        catalog.ThrowIfNotReady();
        return _storage.ListSnapshots(NameRules.CollectionName(collection));
    }

    /// <summary>Opens a snapshot file for download; throws <see cref="ErrorCode.NotFound"/> when there is none.</summary>
    public Stream OpenSnapshot(string collection, string snapshot)
    {
        catalog.ThrowIfNotReady();
        return _storage.OpenSnapshot(NameRules.CollectionName(collection), snapshot) ?? throw SnapshotNotFound(collection, snapshot);
    }

    public void DeleteSnapshot(string collection, string snapshot)
    {
        catalog.ThrowIfNotReady();
        if (!_storage.DeleteSnapshot(NameRules.CollectionName(collection), snapshot))
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
    /// named <paramref name="target"/> or, when null, as the snapshot's collection was. Every checksum is verified;
    /// a damaged snapshot creates nothing.
    /// </summary>
    public async Task<CollectionInfo> RestoreSnapshotAsync(Stream snapshot, string? target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (target is not null)
        {
            NameRules.CollectionName(target, "target");
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
            var settings = content.Settings with { Name = NameRules.CollectionName(target ?? content.Settings.Name, "target"), CreatedAt = DateTimeOffset.UtcNow };
            Collection collection;
            // Reserve the name while the state is installed: the half-restored collection is not found, and the name is taken.
            catalog.ReserveForRestore(settings.Name, "target");
            try
            {
                _storage.CreateCollection(settings);
                try
                {
                    if (content.Projection.Length > 0)
                    {
                        _storage.WriteCollectionFile(settings.Name, Collection.ProjectionFile, content.Projection);
                    }
                    collection = catalog.Open(settings);
                }
                catch
                {
                    _storage.DeleteCollection(settings.Name);
                    throw;
                }
            }
            catch
            {
                catalog.AbandonRestore(settings.Name);
                throw;
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
                _storage.DeleteCollection(settings.Name);
                catalog.AbandonRestore(settings.Name);
                throw;
            }
            catalog.CompleteRestore(collection);
            _logger.LogInformation("Restored collection {Collection} from a snapshot ({Documents} documents)", settings.Name, collection.Count);
            return collection.Info;
        }
    }

    /// <summary>Restores <see cref="VectorStoreOptions.RestoreSnapshot"/>, if set, once recovery has opened the store.</summary>
    public void RestoreAtStartup()
    {
        if (options.RestoreSnapshot is not { Length: > 0 } path)
        {
            return;
        }
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            var info = RestoreSnapshotAsync(file, options.RestoreSnapshotTarget).GetAwaiter().GetResult();
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

    private static VectorStoreException SnapshotNotFound(string collection, string snapshot) =>
        new(ErrorCode.NotFound, $"Snapshot '{snapshot}' of collection '{collection}' does not exist.", "snapshot");
}
