using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using VectorStoreDb.Embedding;
using VectorStoreDb.Engine.Storage;

namespace VectorStoreDb.Engine.Catalog;

/// <summary>
/// The store's collections by name: which are open, which failed to open, which names are taken by a restore or a
/// delete in progress. Finding a collection is lock-free (a dictionary read and one interlocked increment); creating,
/// deleting and restoring serialise on one lock and never wait for an operation while holding it.
/// </summary>
internal sealed class CollectionCatalog(IStorageProvider storage, EncoderRegistry encoders, LimitsOptions limits, ILogger logger)
{
    /// <summary>How long shutdown waits for running operations to release their collections before closing anyway.</summary>
    private static readonly TimeSpan ShutdownDrainTimeout = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, CollectionEntry> _open = new(StringComparer.Ordinal);
    /// <summary>Collections whose files could not be opened, with the reason: they answer Unavailable, not NotFound.</summary>
    private readonly ConcurrentDictionary<string, string> _failed = new(StringComparer.Ordinal);
    /// <summary>Names a restore is filling or a delete is removing files of: taken for create, not found for everything else.</summary>
    private readonly HashSet<string> _busyNames = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private volatile EngineState _state = EngineState.Recovering;
    private volatile bool _disposed;

    public EngineState State => _state;

    public int OpenCount => _open.Count;

    public int FailedCount => _failed.Count;

    /// <summary>Opens every collection the storage holds; one that cannot be opened is kept as unavailable, not fatal.</summary>
    public RecoveryReport Recover()
    {
        var started = Stopwatch.StartNew();
        long documents = 0;
        long replayed = 0;
        int fromCheckpoint = 0;
        int torn = 0;
        foreach (string name in storage.ListCollections())
        {
            try
            {
                var settings = storage.LoadSettings(name);
                var collection = new Collection(settings, ResolveEncoder(settings), storage, limits);
                _open[name] = new CollectionEntry(collection);
                documents += collection.Count;
                foreach (var shard in collection.Shards)
                {
                    replayed += shard.Recovery.RecordsReplayed;
                    fromCheckpoint += shard.Recovery.FromCheckpoint ? 1 : 0;
                    torn += shard.Recovery.TornTail ? 1 : 0;
                }
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or System.Text.Json.JsonException or VectorStoreException or UnauthorizedAccessException)
            {
                // One damaged collection must not take the whole store down.
                logger.LogError(ex, "Could not open collection {Collection}; it stays unavailable until restored or deleted", name);
                _failed[name] = ex.Message;
            }
        }
        _state = EngineState.Ready;
        return new RecoveryReport(_open.Count, _failed.Count, documents, replayed, fromCheckpoint, torn, started.Elapsed);
    }

    public void ThrowIfNotReady()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_state != EngineState.Ready)
        {
            throw new VectorStoreException(ErrorCode.Unavailable, "The store is still recovering its data; retry shortly.");
        }
    }

    /// <summary>
    /// A lease on the open collection <paramref name="name"/>; NotFound when there is none (also when it is being
    /// deleted or restored), Unavailable when its files could not be opened.
    /// </summary>
    public CollectionLease Acquire(string name)
    {
        ThrowIfNotReady();
        if (name is not null)
        {
            // A collection deleted (and maybe re-created) between the lookup and the acquire refuses the lease; the
            // second lookup finds the new incarnation, if any.
            for (int attempt = 0; attempt < 2; attempt++)
            {
                if (_open.TryGetValue(name, out var entry) && entry.TryAcquire())
                {
                    return new CollectionLease(entry);
                }
            }
            if (_failed.TryGetValue(name, out string? reason))
            {
                throw new VectorStoreException(ErrorCode.Unavailable, $"Collection '{name}' is unavailable: its files could not be opened ({reason}). Restore it from a snapshot or delete it.", "name");
            }
        }
        throw VectorStoreException.CollectionNotFound(name ?? "");
    }

    /// <summary>Leases on every open collection (a snapshot of the catalog); the caller disposes each.</summary>
    public List<CollectionLease> AcquireAll()
    {
        var leases = new List<CollectionLease>(_open.Count);
        if (_disposed)
        {
            return leases;
        }
        foreach (var entry in _open.Values)
        {
            if (entry.TryAcquire())
            {
                leases.Add(new CollectionLease(entry));
            }
        }
        return leases;
    }

    /// <summary>Creates the collection's files and opens it; refused when the name is taken or the store is full.</summary>
    public CollectionInfo Create(CollectionSettings settings)
    {
        lock (_lock)
        {
            ThrowIfNotReady();
            ThrowIfTaken(settings.Name, "name", "");
            if (_open.Count >= limits.MaxCollections)
            {
                throw new VectorStoreException(ErrorCode.LimitExceeded, $"The store already holds {_open.Count} collections; the limit is {limits.MaxCollections}.");
            }
            storage.CreateCollection(settings);
            Collection collection;
            try
            {
                collection = new Collection(settings, ResolveEncoder(settings), storage, limits);
            }
            catch
            {
                storage.DeleteCollection(settings.Name);
                throw;
            }
            _open[settings.Name] = new CollectionEntry(collection);
            return collection.Info;
        }
    }

    /// <summary>
    /// Deletes the collection: from this moment it is not found and takes no new operation; operations already
    /// running on it finish, then its files are closed and removed, and only then is the name free again.
    /// </summary>
    public async Task DeleteAsync(string name)
    {
        CollectionEntry? entry;
        lock (_lock)
        {
            ThrowIfNotReady();
            // A collection that failed to open can still be deleted, so an operator can drop damaged data.
            if (name is not null && _failed.TryRemove(name, out _))
            {
                storage.DeleteCollection(name);
                return;
            }
            if (name is null || !_open.TryRemove(name, out entry))
            {
                throw VectorStoreException.CollectionNotFound(name ?? "");
            }
            _busyNames.Add(name);
        }
        try
        {
            // Close the log files before the folder goes, so nothing writes into a deleted file.
            await entry.CloseAsync();
            storage.DeleteCollection(name);
        }
        finally
        {
            lock (_lock)
            {
                _busyNames.Remove(name);
            }
        }
    }

    /// <summary>Takes <paramref name="name"/> for a restore: it is not found until <see cref="CompleteRestore"/>.</summary>
    public void ReserveForRestore(string name, string field)
    {
        lock (_lock)
        {
            ThrowIfNotReady();
            ThrowIfTaken(name, field, "; restore into a new name");
            _busyNames.Add(name);
        }
    }

    /// <summary>Publishes a restored collection under the name <see cref="ReserveForRestore"/> took.</summary>
    public void CompleteRestore(Collection collection)
    {
        lock (_lock)
        {
            _busyNames.Remove(collection.Settings.Name);
            _open[collection.Settings.Name] = new CollectionEntry(collection);
        }
    }

    /// <summary>Frees a reserved name after a failed restore; the caller has removed its files.</summary>
    public void AbandonRestore(string name)
    {
        lock (_lock)
        {
            _busyNames.Remove(name);
        }
    }

    /// <summary>Opens a collection whose files exist (a restore's target), with the encoder its settings name.</summary>
    public Collection Open(CollectionSettings settings) => new(settings, ResolveEncoder(settings), storage, limits);

    /// <summary>
    /// Stops handing out leases and closes every collection once its running operations end (waiting up to
    /// <see cref="ShutdownDrainTimeout"/>); <paramref name="beforeClose"/> runs first on each (the shutdown checkpoint).
    /// </summary>
    public void Close(Action<string, Collection> beforeClose)
    {
        List<CollectionEntry> entries;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            entries = [.. _open.Values];
            _open.Clear();
        }
        foreach (var entry in entries)
        {
            beforeClose(entry.Collection.Settings.Name, entry.Collection);
            try
            {
                if (!entry.CloseAsync().Wait(ShutdownDrainTimeout))
                {
                    logger.LogWarning("Collection {Collection} still had running operations after {Timeout}; closing the store without waiting for them", entry.Collection.Settings.Name, ShutdownDrainTimeout);
                }
            }
            catch (AggregateException ex)
            {
                logger.LogWarning(ex, "Closing collection {Collection} failed", entry.Collection.Settings.Name);
            }
        }
    }

    private void ThrowIfTaken(string name, string field, string hint)
    {
        if (_open.ContainsKey(name) || _failed.ContainsKey(name) || _busyNames.Contains(name))
        {
            throw new VectorStoreException(ErrorCode.AlreadyExists, $"Collection '{name}' already exists{hint}.", field);
        }
    }

    private ITextEncoder? ResolveEncoder(CollectionSettings settings)
    {
        if (settings.Encoder is null)
        {
            return null;
        }
        if (!encoders.TryGet(settings.Encoder, out var encoder))
        {
            throw new VectorStoreException(ErrorCode.Unavailable, $"Collection '{settings.Name}' uses encoder '{settings.Encoder}', which is not configured.");
        }
        return encoder;
    }
}
