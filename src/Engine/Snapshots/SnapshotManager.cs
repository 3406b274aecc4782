using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using VectorStoreDb.Engine.Catalog;
using VectorStoreDb.Engine.Storage;
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
    private const int SnapshotMagic = 0x4E535356; // "VSSN"
    // Version 2 adds the fitted projection (a PCA's matrix) after the shard count; version 1 snapshots still restore.
    private const int SnapshotVersion = 2;
    private const int SnapshotEnd = 0x444E4553;
    private static readonly JsonSerializerOptions SnapshotJson = new(JsonSerializerDefaults.Web);

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
            using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(SnapshotMagic);
                writer.Write(SnapshotVersion);
                writer.Write(JsonSerializer.Serialize(found.Settings, SnapshotJson));
                writer.Write(found.Shards.Count);
                // Shard states carry their projected index; without the same projection a restore would rebuild it.
                var projection = _storage.ReadCollectionFile(collection, Collection.ProjectionFile) ?? [];
                writer.Write(projection.Length);
                writer.Write(projection);
            }
            foreach (var shard in found.Shards)
            {
                await shard.WriteSnapshotAsync(stream, cancellationToken);
            }
            using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(SnapshotEnd);
            }
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
        var reader = new ChecksummedReader(snapshot, "snapshot");
        CollectionSettings settings;
        int shards;
        byte[] projection = [];
        using (var binary = new BinaryReader(reader, Encoding.UTF8, leaveOpen: true))
        {
            try
            {
                int version = binary.ReadInt32() == SnapshotMagic ? binary.ReadInt32() : -1;
                if (version is not (1 or SnapshotVersion))
                {
                    throw new InvalidDataException("not a snapshot file of a supported version.");
                }
                settings = JsonSerializer.Deserialize<CollectionSettings>(binary.ReadString(), SnapshotJson) ?? throw new InvalidDataException("the settings are empty.");
                shards = binary.ReadInt32();
                if (version >= 2)
                {
                    int length = binary.ReadInt32();
                    if (length < 0 || length > 1 << 30)
                    {
                        throw new InvalidDataException($"bad projection length {length}.");
                    }
                    projection = binary.ReadBytes(length);
                    if (projection.Length != length)
                    {
                        throw new EndOfStreamException("the projection is cut short.");
                    }
                }
            }
            catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or JsonException)
            {
                throw VectorStoreException.Invalid("snapshot", $"the snapshot cannot be read: {ex.Message}");
            }
        }
        if (shards != settings.Shards)
        {
            throw VectorStoreException.Invalid("snapshot", $"the snapshot holds {shards} shards but its settings say {settings.Shards}.");
        }
        settings = settings with { Name = NameRules.CollectionName(target ?? settings.Name, "target"), CreatedAt = DateTimeOffset.UtcNow };
        Collection collection;
        // Reserve the name while the data streams in: the half-restored collection is not found, and the name is taken.
        catalog.ReserveForRestore(settings.Name, "target");
        try
        {
            _storage.CreateCollection(settings);
            try
            {
                if (projection.Length > 0)
                {
                    _storage.WriteCollectionFile(settings.Name, Collection.ProjectionFile, projection);
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
            await Task.Run(() =>
            {
                foreach (var shard in collection.Shards)
                {
                    shard.RestoreFrom(reader);
                }
                using (var binary = new BinaryReader(reader, Encoding.UTF8, leaveOpen: true))
                {
                    if (binary.ReadInt32() != SnapshotEnd)
                    {
                        throw new InvalidDataException("the snapshot does not end where expected.");
                    }
                }
                reader.VerifyEnd();
            }, cancellationToken);
            // The restored state is durable only once checkpointed: the log of the new collection is empty.
            await collection.CheckpointAsync(force: true, CancellationToken.None);
        }
        catch (Exception ex)
        {
            collection.Dispose();
            _storage.DeleteCollection(settings.Name);
            catalog.AbandonRestore(settings.Name);
            if (ex is InvalidDataException or EndOfStreamException)
            {
                throw VectorStoreException.Invalid("snapshot", $"the snapshot is damaged: {ex.Message}");
            }
            throw;
        }
        catalog.CompleteRestore(collection);
        _logger.LogInformation("Restored collection {Collection} from a snapshot ({Documents} documents)", settings.Name, collection.Count);
        return collection.Info;
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
