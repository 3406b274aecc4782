using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VectorStoreDb.Embedding;
using VectorStoreDb.Engine.Diagnostics;
using VectorStoreDb.Engine.Storage;
using VectorStoreDb.Index;

namespace VectorStoreDb.Engine;

/// <summary>
/// The store: collections, their write path and their query path. Transport-free, so the server and the
/// embedded client run exactly the same code. Thread-safe.
/// </summary>
public sealed partial class VectorStoreEngine : IDisposable
{
    private readonly Dictionary<string, Collection> _collections = new(StringComparer.Ordinal);
    /// <summary>Collections whose files could not be opened, with the reason: they answer Unavailable, not NotFound.</summary>
    private readonly Dictionary<string, string> _failed = new(StringComparer.Ordinal);
    private readonly Lock _catalogLock = new();
    private readonly IStorageProvider _storage;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _recovery;
    private Task? _checkpointer;
    private volatile EngineState _state = EngineState.Recovering;
    private bool _disposed;

    public VectorStoreEngine(VectorStoreOptions options, EncoderRegistry encoders, IStorageProvider storage, ILogger<VectorStoreEngine>? logger = null)
    {
        Options = options;
        Encoders = encoders;
        _storage = storage;
        _logger = logger ?? NullLogger<VectorStoreEngine>.Instance;
        if (options.RecoverInBackground)
        {
            _recovery = Task.Run(() =>
            {
                try
                {
                    Recover();
                }
                catch (Exception ex)
                {
                    // The host sees a store that never becomes ready (readyz stays 503) and this reason in the log.
                    _logger.LogCritical(ex, "Recovery of the store failed");
                    throw;
                }
            });
        }
        else
        {
            Recover();
            _recovery = Task.CompletedTask;
        }
        VectorStoreTelemetry.Register(this);
    }

    /// <summary><see cref="EngineState.Recovering"/> while collections are being opened, then <see cref="EngineState.Ready"/>.</summary>
    public EngineState State => _state;

    /// <summary>Completes when recovery has finished (at once unless <see cref="VectorStoreOptions.RecoverInBackground"/>).</summary>
    public Task WhenReady => _recovery;

    /// <summary>What the last start-up recovered.</summary>
    public RecoveryReport? LastRecovery { get; private set; }

    /// <summary>Opens (or creates) a store in <paramref name="dataPath"/> with the built-in demo encoder.</summary>
    public static VectorStoreEngine Open(string dataPath, ILoggerFactory? loggerFactory = null, EncoderRegistry? encoders = null, Action<VectorStoreOptions>? configure = null)
    {
        loggerFactory ??= NullLoggerFactory.Instance;
        var options = new VectorStoreOptions { DataPath = dataPath };
        configure?.Invoke(options);
        var storage = new FasterStorageProvider(options.DataPath, options.Durability, loggerFactory);
        return new VectorStoreEngine(options, encoders ?? EncoderRegistry.CreateDefault(), storage, loggerFactory.CreateLogger<VectorStoreEngine>());
    }

    public VectorStoreOptions Options { get; }

    public EncoderRegistry Encoders { get; }

    private LimitsOptions Limits => Options.Limits;

    public Task<CollectionInfo> CreateCollectionAsync(CreateCollectionRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        cancellationToken.ThrowIfCancellationRequested();
        var settings = ResolveSettings(request);
        lock (_catalogLock)
        {
            ThrowIfNotReady();
            if (_collections.ContainsKey(settings.Name) || _failed.ContainsKey(settings.Name))
            {
                throw new VectorStoreException(ErrorCode.AlreadyExists, $"Collection '{settings.Name}' already exists.", "name");
            }
            if (_collections.Count >= Limits.MaxCollections)
            {
                throw new VectorStoreException(ErrorCode.LimitExceeded, $"The store already holds {_collections.Count} collections; the limit is {Limits.MaxCollections}.");
            }
            _storage.CreateCollection(settings);
            try
            {
                _collections[settings.Name] = new Collection(settings, ResolveEncoder(settings), _storage, Limits);
            }
            catch
            {
                _storage.DeleteCollection(settings.Name);
                throw;
            }
            _logger.LogInformation("Created collection {Collection} ({Metric}, dimension {Dimension}, encoder {Encoder}, index {Index})",
                settings.Name, settings.Metric.ToWireName(), settings.Dimension, settings.Encoder ?? "none", settings.Index);
            return Task.FromResult(_collections[settings.Name].Info);
        }
    }

    public IReadOnlyList<CollectionInfo> ListCollections()
    {
        lock (_catalogLock)
        {
            return [.. _collections.Values.OrderBy(c => c.Settings.Name, StringComparer.Ordinal).Select(c => c.Info)];
        }
    }

    public CollectionInfo GetCollection(string name) => Find(name).Info;

    public Task DeleteCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_catalogLock)
        {
            ThrowIfNotReady();
            // A collection that failed to open can still be deleted, so an operator can drop damaged data.
            if (_failed.Remove(name))
            {
                _storage.DeleteCollection(name);
            }
            else
            {
                var collection = Find(name);
                _collections.Remove(name);
                // Close the log files before the folder goes, so nothing writes into a deleted file.
                collection.Dispose();
                _storage.DeleteCollection(name);
            }
        }
        _logger.LogInformation("Deleted collection {Collection}", name);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> UpsertAsync(string collection, IReadOnlyList<DocumentInput> documents, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documents);
        return Find(collection).UpsertAsync(documents, cancellationToken);
    }

    /// <summary>Returns the document, or throws <see cref="ErrorCode.NotFound"/>.</summary>
    public Document GetDocument(string collection, string id, bool includeVector = false) =>
        Find(collection).Get(id, includeVector) ?? throw new VectorStoreException(ErrorCode.NotFound, $"Document '{id}' does not exist in collection '{collection}'.", "id");

    /// <summary>Deletes the document, or throws <see cref="ErrorCode.NotFound"/> when there is none.</summary>
    public async Task DeleteDocumentAsync(string collection, string id, CancellationToken cancellationToken = default)
    {
        if (!await Find(collection).DeleteAsync(id, cancellationToken))
        {
            throw new VectorStoreException(ErrorCode.NotFound, $"Document '{id}' does not exist in collection '{collection}'.", "id");
        }
    }

    public long Count(string collection) => Find(collection).Count;

    public Task<IReadOnlyList<QueryHit>> QueryAsync(string collection, QueryRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Find(collection).QueryAsync(request, cancellationToken);
    }

    /// <summary>Embeds texts with a named encoder (default <c>demo</c>).</summary>
    public async Task<float[][]> EmbedAsync(IReadOnlyList<string> texts, string? encoder = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (texts.Count == 0)
        {
            throw VectorStoreException.Invalid("texts", "at least one text is required.");
        }
        if (texts.Count > Limits.MaxEmbedBatch)
        {
            throw new VectorStoreException(ErrorCode.LimitExceeded, $"texts: {texts.Count} texts in one request; the limit is {Limits.MaxEmbedBatch}.", "texts");
        }
        for (int i = 0; i < texts.Count; i++)
        {
            if (string.IsNullOrEmpty(texts[i]))
            {
                throw VectorStoreException.Invalid($"texts[{i}]", "must be a non-empty string.");
            }
            if (texts[i].Length > Limits.MaxTextLength)
            {
                throw new VectorStoreException(ErrorCode.LimitExceeded, $"texts[{i}]: {texts[i].Length} characters; the limit is {Limits.MaxTextLength}.", $"texts[{i}]");
            }
        }
        string name = encoder ?? DemoEncoder.DefaultName;
        if (!Encoders.TryGet(name, out var found))
        {
            throw VectorStoreException.Invalid("encoder", $"unknown encoder '{name}'; known: {string.Join(", ", Encoders.List().Select(e => e.Name))}.");
        }
        return await VectorStoreTelemetry.EmbedAsync(found, texts, null, cancellationToken);
    }

    internal Collection Find(string name)
    {
        lock (_catalogLock)
        {
            ThrowIfNotReady();
            if (name is not null && _collections.TryGetValue(name, out var collection))
            {
                return collection;
            }
            if (name is not null && _failed.TryGetValue(name, out string? reason))
            {
                throw new VectorStoreException(ErrorCode.Unavailable, $"Collection '{name}' is unavailable: its files could not be opened ({reason}). Restore it from a snapshot or delete it.", "name");
            }
            throw VectorStoreException.CollectionNotFound(name ?? "");
        }
    }

    private void ThrowIfNotReady()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_state != EngineState.Ready)
        {
            throw new VectorStoreException(ErrorCode.Unavailable, "The store is still recovering its data; retry shortly.");
        }
    }

    private CollectionSettings ResolveSettings(CreateCollectionRequest request)
    {
        if (request.Name is null || !CollectionName().IsMatch(request.Name))
        {
            throw VectorStoreException.Invalid("name", "collection names are 1-64 characters of a-z, 0-9, '_' and '-'.");
        }
        var metric = Metric.Cosine;
        if (request.Metric is not null && !MetricExtensions.TryParse(request.Metric, out metric))
        {
            throw VectorStoreException.Invalid("metric", $"unknown metric '{request.Metric}'; use cosine, dot or l2.");
        }
        string? encoderName = request.Encoder;
        if (encoderName is null && request.Dimension is null)
        {
            encoderName = DemoEncoder.DefaultName;
        }
        if (string.Equals(encoderName, "none", StringComparison.OrdinalIgnoreCase) || encoderName == "")
        {
            encoderName = null;
        }
        int dimension;
        if (encoderName is not null)
        {
            if (!Encoders.TryGet(encoderName, out var encoder))
            {
                throw VectorStoreException.Invalid("encoder", $"unknown encoder '{encoderName}'; known: {string.Join(", ", Encoders.List().Select(e => e.Name))} (or 'none' with a dimension for raw vectors).");
            }
            encoderName = encoder.Name;
            dimension = encoder.Dimension;
            if (request.Dimension is { } given && given != dimension)
            {
                throw VectorStoreException.Invalid("dimension", $"encoder '{encoderName}' produces {dimension}-dimensional vectors, not {given}; leave dimension out to use the encoder's.");
            }
        }
        else
        {
            dimension = request.Dimension ?? throw VectorStoreException.Invalid("dimension", "a collection without an encoder needs a dimension.");
        }
        if (dimension < 1 || dimension > Limits.MaxDimension)
        {
            throw VectorStoreException.Invalid("dimension", $"must be between 1 and {Limits.MaxDimension}, was {dimension}.");
        }
        string index = request.Index?.Trim().ToLowerInvariant() ?? IndexFactory.DefaultKind;
        if (!IndexFactory.SupportedKinds.Contains(index))
        {
            throw VectorStoreException.Invalid("index", $"unknown index kind '{request.Index}'; use one of {string.Join(", ", IndexFactory.SupportedKinds)}.");
        }
        int m = request.M ?? 16;
        if (m < 2 || m > 128)
        {
            throw VectorStoreException.Invalid("m", $"must be between 2 and 128, was {m}.");
        }
        int efConstruction = request.EfConstruction ?? 200;
        if (efConstruction < m || efConstruction > 4096)
        {
            throw VectorStoreException.Invalid("efConstruction", $"must be between m ({m}) and 4096, was {efConstruction}.");
        }
        int shards = request.Shards ?? Options.DefaultShards;
        if (shards < 1 || shards > 64)
        {
            throw VectorStoreException.Invalid("shards", $"must be between 1 and 64, was {shards}.");
        }
        var (projection, indexDimension, rescore, seed) = ResolveProjection(request, dimension);
        int pcaSampleSize = request.PcaSampleSize ?? 1000;
        if (pcaSampleSize < 2 || pcaSampleSize > 100_000)
        {
            throw VectorStoreException.Invalid("pcaSampleSize", $"must be between 2 and 100000, was {pcaSampleSize}.");
        }
        var (chunking, chunkTokens, chunkOverlap) = ResolveChunking(request, encoderName is not null && Encoders.TryGet(encoderName, out var chunkingEncoder) ? chunkingEncoder : null);
        return ResolveTextSettings(request, new CollectionSettings
        {
            Chunking = chunking,
            ChunkTokens = chunkTokens,
            ChunkOverlap = chunkOverlap,
            Projection = projection,
            IndexDimension = indexDimension,
            Rescore = rescore,
            ProjectionSeed = seed,
            PcaSampleSize = pcaSampleSize,
            Name = request.Name,
            Metric = metric,
            Encoder = encoderName,
            Dimension = dimension,
            Index = index,
            M = m,
            EfConstruction = efConstruction,
            Shards = shards,
        });
    }

    private const int DefaultChunkOverlap = 32;

    /// <summary>Chunking is on by default whenever the encoder can chunk; asking for it where it cannot is an error, not a silent truncation.</summary>
    private static (bool Chunking, int Tokens, int Overlap) ResolveChunking(CreateCollectionRequest request, ITextEncoder? encoder)
    {
        bool asked = request.Chunking == true || request.ChunkTokens is not null || request.ChunkOverlap is not null;
        if (request.Chunking == false)
        {
            if (request.ChunkTokens is not null || request.ChunkOverlap is not null)
            {
                throw VectorStoreException.Invalid("chunking", "chunkTokens and chunkOverlap need chunking on.");
            }
            return (false, 0, 0);
        }
        if (encoder is not ITextChunker chunker)
        {
            if (asked)
            {
                throw VectorStoreException.Invalid("chunking", encoder is null
                    ? "a collection without an encoder stores given vectors; there is no text to chunk."
                    : $"encoder '{encoder.Name}' cannot split texts into chunks.");
            }
            return (false, 0, 0);
        }
        int window = chunker.WindowTokens;
        int tokens = request.ChunkTokens ?? 0;
        if (request.ChunkTokens is { } given && (given < 8 || given > window))
        {
            throw VectorStoreException.Invalid("chunkTokens", $"must be between 8 and {window} (the window of encoder '{encoder.Name}'), was {given}.");
        }
        int effective = tokens == 0 ? window : tokens;
        int overlap = request.ChunkOverlap ?? Math.Min(DefaultChunkOverlap, effective / 4);
        if (overlap < 0 || overlap >= effective)
        {
            throw VectorStoreException.Invalid("chunkOverlap", $"must be between 0 and {effective - 1} (less than the chunk's {effective} tokens), was {overlap}.");
        }
        return (true, tokens, overlap);
    }

    private static (string Kind, int IndexDimension, bool Rescore, ulong Seed) ResolveProjection(CreateCollectionRequest request, int dimension)
    {
        string kind = request.Projection?.Trim().ToLowerInvariant() ?? ProjectionKinds.None;
        if (kind is "")
        {
            kind = ProjectionKinds.None;
        }
        if (kind is not (ProjectionKinds.None or ProjectionKinds.Random or ProjectionKinds.Pca))
        {
            throw VectorStoreException.Invalid("projection", $"unknown projection '{request.Projection}'; use none, random or pca.");
        }
        if (kind == ProjectionKinds.None)
        {
            if (request.IndexDimension is { } d && d != dimension)
            {
                throw VectorStoreException.Invalid("indexDimension", $"without a projection the index dimension is the vector dimension ({dimension}), not {d}.");
            }
            return (kind, dimension, request.Rescore ?? false, 0);
        }
        int indexDimension = request.IndexDimension ?? Math.Max(1, dimension / 2);
        if (indexDimension < 1 || indexDimension > dimension)
        {
            throw VectorStoreException.Invalid("indexDimension", $"must be between 1 and the vector dimension ({dimension}), was {indexDimension}.");
        }
        return (kind, indexDimension, request.Rescore ?? true, request.ProjectionSeed ?? 0x5EED);
    }

    private ITextEncoder? ResolveEncoder(CollectionSettings settings)
    {
        if (settings.Encoder is null)
        {
            return null;
        }
        if (!Encoders.TryGet(settings.Encoder, out var encoder))
        {
            throw new VectorStoreException(ErrorCode.Unavailable, $"Collection '{settings.Name}' uses encoder '{settings.Encoder}', which is not configured.");
        }
        return encoder;
    }

    private void Recover()
    {
        var started = Stopwatch.StartNew();
        long documents = 0;
        long replayed = 0;
        int fromCheckpoint = 0;
        int torn = 0;
        foreach (string name in _storage.ListCollections())
        {
            try
            {
                var settings = _storage.LoadSettings(name);
                var collection = new Collection(settings, ResolveEncoder(settings), _storage, Limits);
                lock (_catalogLock)
                {
                    _collections[name] = collection;
                }
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
                _logger.LogError(ex, "Could not open collection {Collection}; it stays unavailable until restored or deleted", name);
                lock (_catalogLock)
                {
                    _failed[name] = ex.Message;
                }
            }
        }
        _state = EngineState.Ready;
        LastRecovery = new RecoveryReport(_collections.Count, _failed.Count, documents, replayed, fromCheckpoint, torn, started.Elapsed);
        _logger.LogInformation("Recovered {Collections} collections ({Failed} unavailable) with {Documents} documents in {Elapsed} ms: {Checkpoints} shards loaded from checkpoints, {Records} log records replayed, {Torn} damaged log tails cut",
            _collections.Count, _failed.Count, documents, (long)started.Elapsed.TotalMilliseconds, fromCheckpoint, replayed, torn);
        RestoreAtStartup();
        if (Options.Durability.CheckpointIntervalSeconds > 0)
        {
            _checkpointer = Task.Run(CheckpointLoopAsync);
        }
    }

    [GeneratedRegex("^[a-z0-9_-]{1,64}$")]
    private static partial Regex CollectionName();

    /// <summary>The open collections, for the metrics gauges (a snapshot; empty once disposed).</summary>
    internal Collection[] OpenCollections()
    {
        lock (_catalogLock)
        {
            return _disposed ? [] : [.. _collections.Values];
        }
    }

    public void Dispose()
    {
        VectorStoreTelemetry.Unregister(this);
        lock (_catalogLock)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
        }
        _stopping.Cancel();
        try
        {
            _recovery.Wait();
            _checkpointer?.Wait();
        }
        catch (AggregateException ex)
        {
            _logger.LogWarning(ex, "Background storage work ended with an error during shutdown");
        }
        lock (_catalogLock)
        {
            foreach (var (name, collection) in _collections)
            {
                if (Options.Durability.CheckpointOnShutdown)
                {
                    try
                    {
                        // An orderly stop leaves a checkpoint, so the next start loads instead of replaying.
                        collection.CheckpointAsync(force: false, CancellationToken.None).GetAwaiter().GetResult();
                    }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
                    {
                        _logger.LogWarning(ex, "Could not checkpoint collection {Collection} at shutdown; the next start replays its log", name);
                    }
                }
                collection.Dispose();
            }
            _collections.Clear();
        }
        _storage.Dispose();
        _stopping.Dispose();
    }
}
