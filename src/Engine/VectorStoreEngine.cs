using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VectorStore.Embedding;
using VectorStore.Engine.Storage;
using VectorStore.Index;

namespace VectorStore.Engine;

/// <summary>
/// The store: collections, their write path and their query path. Transport-free, so the server and the
/// embedded client run exactly the same code. Thread-safe.
/// </summary>
public sealed partial class VectorStoreEngine : IDisposable
{
    private readonly Dictionary<string, Collection> _collections = new(StringComparer.Ordinal);
    private readonly Lock _catalogLock = new();
    private readonly IStorageProvider _storage;
    private readonly ILogger _logger;
    private bool _disposed;

    public VectorStoreEngine(VectorStoreOptions options, EncoderRegistry encoders, IStorageProvider storage, ILogger<VectorStoreEngine>? logger = null)
    {
        Options = options;
        Encoders = encoders;
        _storage = storage;
        _logger = logger ?? NullLogger<VectorStoreEngine>.Instance;
        Load();
    }

    /// <summary>Opens (or creates) a store in <paramref name="dataPath"/> with the built-in demo encoder.</summary>
    public static VectorStoreEngine Open(string dataPath, ILoggerFactory? loggerFactory = null, EncoderRegistry? encoders = null, Action<VectorStoreOptions>? configure = null)
    {
        loggerFactory ??= NullLoggerFactory.Instance;
        var options = new VectorStoreOptions { DataPath = dataPath };
        configure?.Invoke(options);
        var storage = new LogFileStorageProvider(options.DataPath, loggerFactory.CreateLogger<LogFileStorageProvider>());
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
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_collections.ContainsKey(settings.Name))
            {
                throw new VectorStoreException(ErrorCode.AlreadyExists, $"Collection '{settings.Name}' already exists.", "name");
            }
            if (_collections.Count >= Limits.MaxCollections)
            {
                throw new VectorStoreException(ErrorCode.LimitExceeded, $"The store already holds {_collections.Count} collections; the limit is {Limits.MaxCollections}.");
            }
            _storage.CreateCollection(settings);
            _collections[settings.Name] = new Collection(settings, ResolveEncoder(settings), _storage, Limits);
            _logger.LogInformation("Created collection {Collection} ({Metric}, dimension {Dimension}, encoder {Encoder}, index {Index})",
                settings.Name, settings.Metric.ToWireName(), settings.Dimension, settings.Encoder ?? "none", settings.Index);
            return Task.FromResult(new CollectionInfo(settings, 0));
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
        Collection collection;
        lock (_catalogLock)
        {
            collection = Find(name);
            _collections.Remove(name);
            _storage.DeleteCollection(name);
        }
        collection.Dispose();
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
        return await found.EmbedAsync(texts, cancellationToken);
    }

    private Collection Find(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_catalogLock)
        {
            return name is not null && _collections.TryGetValue(name, out var collection) ? collection : throw VectorStoreException.CollectionNotFound(name ?? "");
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
        return ResolveTextSettings(request, new CollectionSettings
        {
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

    private void Load()
    {
        var started = Stopwatch.StartNew();
        long documents = 0;
        foreach (string name in _storage.ListCollections())
        {
            try
            {
                var settings = _storage.LoadSettings(name);
                var collection = new Collection(settings, ResolveEncoder(settings), _storage, Limits);
                _collections[name] = collection;
                documents += collection.Count;
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or System.Text.Json.JsonException or VectorStoreException)
            {
                // One damaged collection must not take the whole store down.
                _logger.LogError(ex, "Could not open collection {Collection}; it stays unavailable until repaired", name);
            }
        }
        _logger.LogInformation("Opened {Collections} collections with {Documents} documents in {Elapsed} ms", _collections.Count, documents, started.ElapsedMilliseconds);
    }

    [GeneratedRegex("^[a-z0-9_-]{1,64}$")]
    private static partial Regex CollectionName();

    public void Dispose()
    {
        lock (_catalogLock)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            foreach (var collection in _collections.Values)
            {
                collection.Dispose();
            }
            _collections.Clear();
        }
        _storage.Dispose();
    }
}
