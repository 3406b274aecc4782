using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VectorStoreDb.Embedding;
using VectorStoreDb.Engine.Catalog;
using VectorStoreDb.Engine.Diagnostics;
using VectorStoreDb.Engine.Operations;
using VectorStoreDb.Engine.Settings;
using VectorStoreDb.Engine.Snapshots;
using VectorStoreDb.Engine.Storage;
using VectorStoreDb.Engine.Validation;
using VectorStoreDb.Index;

namespace VectorStoreDb.Engine;

/// <summary>
/// The store: collections, their write path and their query path. Transport-free, so the server and the
/// embedded client run exactly the same code. Thread-safe.
/// </summary>
/// <remarks>
/// A facade over named components, and the only place the engine's state is declared: the
/// <see cref="CollectionCatalog"/> (collections by name, with leases), the <see cref="CollectionSettingsResolver"/>
/// (defaults and rules of new collections), the <see cref="RequestValidator"/>, the <see cref="SnapshotManager"/> and
/// the <see cref="Checkpointer"/>. Every operation on a collection holds a lease on it from lookup to completion, so a
/// concurrent delete makes it answer <see cref="ErrorCode.NotFound"/> or complete, never fail on disposed state.
/// </remarks>
public sealed class VectorStoreEngine : IDisposable
{
    private readonly IStorageProvider _storage;
    private readonly ILogger _logger;
    private readonly CollectionCatalog _catalog;
    private readonly CollectionSettingsResolver _settings;
    private readonly RequestValidator _validator;
    private readonly SnapshotManager _snapshots;
    private readonly Checkpointer _checkpointer;
    private readonly Task _recovery;
    private int _disposed;

    public VectorStoreEngine(VectorStoreOptions options, EncoderRegistry encoders, IStorageProvider storage, ILogger<VectorStoreEngine>? logger = null)
    {
        Options = options;
        Encoders = encoders;
        _storage = storage;
        // Process-wide (the index layer has no engine to ask); the files are unlinked once mapped, so engines sharing a process never see each other's.
        string mapped = options.MappedVectorsPath ?? Path.Combine(options.DataPath, "mapped");
        MappedVectorFiles.SweepStaleFiles(mapped);
        MappedVectorFiles.Folder = mapped;
        _logger = logger ?? NullLogger<VectorStoreEngine>.Instance;
        _catalog = new CollectionCatalog(storage, encoders, options.Limits, _logger);
        _settings = new CollectionSettingsResolver(options, encoders);
        _validator = new RequestValidator(options.Limits);
        _snapshots = new SnapshotManager(_catalog, storage, options, _logger);
        _checkpointer = new Checkpointer(_catalog, options.Durability, _logger);
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
    public EngineState State => _catalog.State;

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

    /// <summary>Largest page <see cref="ListDocuments"/> and <see cref="ScrollAsync"/> return.</summary>
    public const int MaxListLimit = RequestValidator.MaxPageSize;

    public Task<CollectionInfo> CreateCollectionAsync(CreateCollectionRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        cancellationToken.ThrowIfCancellationRequested();
        var settings = _settings.Resolve(request);
        var info = _catalog.Create(settings);
        _logger.LogInformation("Created collection {Collection} ({Metric}, dimension {Dimension}, encoder {Encoder}, index {Index})",
            settings.Name, settings.Metric.ToWireName(), settings.Dimension, settings.Encoder ?? "none", settings.Index);
        return Task.FromResult(info);
    }

    public IReadOnlyList<CollectionInfo> ListCollections()
    {
        var leases = _catalog.AcquireAll();
        try
        {
            return [.. leases.Select(l => l.Collection.Info).OrderBy(c => c.Settings.Name, StringComparer.Ordinal)];
        }
        finally
        {
            Release(leases);
        }
    }

    public CollectionInfo GetCollection(string name)
    {
        using var lease = _catalog.Acquire(name);
        return lease.Collection.Info;
    }

    /// <summary>
    /// Deletes the collection. It is not found from the moment this is called; operations already running on it
    /// complete first, then its files are removed, and only then can the name be created again.
    /// </summary>
    public async Task DeleteCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await _catalog.DeleteAsync(name);
        _logger.LogInformation("Deleted collection {Collection}", name);
    }

    public async Task<IReadOnlyList<string>> UpsertAsync(string collection, IReadOnlyList<DocumentInput> documents, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documents);
        using var lease = _catalog.Acquire(collection);
        _validator.Upsert(documents);
        return await lease.Collection.UpsertAsync(documents, cancellationToken);
    }

    /// <summary>
    /// Every rule <see cref="UpsertAsync"/> checks before it writes, for a collection with these settings, without
    /// writing or needing the collection here: a cluster coordinator refuses a batch that spans shards on other nodes
    /// before any of them writes. Returns the ids, a time-ordered GUID where a document names none. Chunk limits,
    /// which need the encoder's tokenizer, are checked only by the write itself.
    /// </summary>
    public IReadOnlyList<string> ValidateUpsert(CollectionSettings settings, IReadOnlyList<DocumentInput> documents)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(documents);
        _validator.Upsert(documents);
        return _validator.UpsertInto(settings, settings.Encoder is not null, documents);
    }

    /// <summary>
    /// The collection's BM25 statistics for <paramref name="text"/>'s terms (as its analyser splits them): what a
    /// cluster sums over its shards and passes back as <see cref="QueryRequest.TextStatistics"/>.
    /// </summary>
    public TextStatistics GetTextStatistics(string collection, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        using var lease = _catalog.Acquire(collection);
        return lease.Collection.GetTextStatistics(text);
    }

    /// <summary>The query rules that need no collection (k, ef, the text), as <see cref="QueryAsync"/> checks them.</summary>
    public void ValidateQuery(QueryRequest request) => _validator.Query(request);

    /// <summary>The batch rules that need no collection (size, then each query as <see cref="ValidateQuery"/>, named <c>queries[i]</c>), as <see cref="QueryBatchAsync"/> checks them.</summary>
    public void ValidateQueryBatch(IReadOnlyList<QueryRequest> queries) => _validator.QueryBatch(queries);

    /// <summary>The batch-get rules (at most the batch limit of ids, none null), as <see cref="GetDocumentsAsync"/> checks them.</summary>
    public void ValidateGetMany(IReadOnlyList<string> ids) => _validator.GetMany(ids);

    /// <summary>The scroll rules that need no collection (limit, order field), as <see cref="ScrollAsync"/> checks them.</summary>
    public static void ValidateScroll(ScrollRequest request) => RequestValidator.Scroll(request);

    /// <summary>Returns the document, or throws <see cref="ErrorCode.NotFound"/>. Any id is looked up as given (see <see cref="NameRules"/>).</summary>
    public Document GetDocument(string collection, string id, bool includeVector = false)
    {
        using var lease = _catalog.Acquire(collection);
        return lease.Collection.Get(id, includeVector) ?? throw DocumentNotFound(collection, id);
    }

    /// <summary>
    /// The documents under <paramref name="ids"/> (at most <see cref="LimitsOptions.MaxBatchSize"/>), in request
    /// order. Ids with no document are left out (compare the ids to see which); an id asked for twice is returned twice.
    /// </summary>
    public Task<IReadOnlyList<Document>> GetDocumentsAsync(string collection, IReadOnlyList<string> ids, bool includeVectors = false, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var lease = _catalog.Acquire(collection);
        _validator.GetMany(ids);
        return Task.FromResult(DocumentReader.GetMany(lease.Collection, ids, includeVectors));
    }

    /// <summary>Deletes the document, or throws <see cref="ErrorCode.NotFound"/> when there is none. Any id is looked up as given.</summary>
    public async Task DeleteDocumentAsync(string collection, string id, CancellationToken cancellationToken = default)
    {
        using var lease = _catalog.Acquire(collection);
        if (!await lease.Collection.DeleteAsync(id, cancellationToken))
        {
            throw DocumentNotFound(collection, id);
        }
    }

    public long Count(string collection)
    {
        using var lease = _catalog.Acquire(collection);
        return lease.Collection.Count;
    }

    public async Task<IReadOnlyList<QueryHit>> QueryAsync(string collection, QueryRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var lease = _catalog.Acquire(collection);
        _validator.Query(request);
        return await lease.Collection.QueryAsync(request, cancellationToken);
    }

    /// <summary>
    /// Answers many queries at once; result i belongs to query i. Dense queries without a filter that share k, ef
    /// and exact are searched together (<see cref="VectorStoreDb.Index.IVectorIndex.SearchBatch"/>: one pass over memory for an
    /// exact scan, all cores for HNSW); the others run one after another. At most
    /// <see cref="LimitsOptions.MaxQueryBatch"/> queries; a refusal names the query (<c>queries[i].k</c>).
    /// </summary>
    public async Task<IReadOnlyList<IReadOnlyList<QueryHit>>> QueryBatchAsync(string collection, IReadOnlyList<QueryRequest> queries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queries);
        using var lease = _catalog.Acquire(collection);
        _validator.QueryBatch(queries);
        return await lease.Collection.QueryBatchAsync(queries, cancellationToken);
    }

    /// <summary>
    /// Pages through a collection's documents in ordinal id order, so pages are stable while the collection
    /// does not change. Two ways to page:
    /// <list type="bullet">
    /// <item><paramref name="after"/> (a cursor: the previous page's <see cref="DocumentPage.NextAfter"/>) returns the ids
    /// strictly greater than it; pages stay correct while documents are written (each id shows up at most once).</item>
    /// <item><paramref name="offset"/> skips that many ids (after the cursor, when both are given), so deep offsets
    /// cost more: scans should follow the cursor.</item>
    /// </list>
    /// Each shard keeps its ids sorted once listed, so a page costs O(shards × (offset + limit) + log n), not a pass
    /// over the collection.
    /// </summary>
    public DocumentPage ListDocuments(string collection, int offset = 0, int limit = 50, string? after = null, bool includeVectors = false)
    {
        RequestValidator.Page(offset, limit);
        using var lease = _catalog.Acquire(collection);
        return DocumentReader.List(lease.Collection, offset, limit, after, includeVectors);
    }

    /// <summary>
    /// One page of the documents matching <see cref="ScrollRequest.Filter"/>, in id order or ordered by a metadata
    /// field (<see cref="ScrollRequest.OrderBy"/>). Follow <see cref="ScrollPage.Next"/> until it is null: every
    /// document that stays unchanged during the scroll is returned exactly once, while writes go on. In id order a
    /// page costs O(shards × log n + limit) plus the documents the filter rejects; ordered by a field, one pass over
    /// the collection with a heap of limit + 1 per shard.
    /// </summary>
    public Task<ScrollPage> ScrollAsync(string collection, ScrollRequest request, CancellationToken cancellationToken = default)
    {
        RequestValidator.Scroll(request);
        using var lease = _catalog.Acquire(collection);
        return Task.FromResult(DocumentReader.Scroll(lease.Collection, request, cancellationToken));
    }

    /// <summary>
    /// Refits a <c>pca</c> collection's projection on its stored full vectors (up to its sample size), persists it and
    /// rebuilds the index from the full vectors. Returns how many vectors the fit used.
    /// </summary>
    public async Task<int> RefitProjectionAsync(string collection, CancellationToken cancellationToken = default)
    {
        using var lease = _catalog.Acquire(collection);
        return await lease.Collection.RefitProjectionAsync(cancellationToken);
    }

    /// <summary>Embeds texts as documents with a named encoder (default: <see cref="EncoderRegistry.DefaultName"/>).</summary>
    public Task<float[][]> EmbedAsync(IReadOnlyList<string> texts, string? encoder = null, CancellationToken cancellationToken = default) =>
        EmbedAsync(texts, encoder, EmbeddingInputType.Document, cancellationToken);

    /// <summary>
    /// Embeds texts as queries or documents with a named encoder (default: <see cref="EncoderRegistry.DefaultName"/>);
    /// a model with asymmetric prompts puts its query or document prefix first.
    /// </summary>
    public async Task<float[][]> EmbedAsync(IReadOnlyList<string> texts, string? encoder, EmbeddingInputType inputType, CancellationToken cancellationToken = default)
    {
        _validator.Embed(texts);
        string name = encoder ?? Encoders.DefaultName;
        if (!Encoders.TryGet(name, out var found))
        {
            throw VectorStoreException.Invalid("encoder", $"unknown encoder '{name}'; known: {string.Join(", ", Encoders.List().Select(e => e.Name))}.");
        }
        return await VectorStoreTelemetry.EmbedAsync(found, texts, null, inputType, cancellationToken);
    }

    /// <summary>
    /// Checkpoints every shard with writes no checkpoint covers yet (or every shard when <paramref name="force"/>),
    /// then truncates their logs. Runs in the background every <see cref="DurabilityOptions.CheckpointIntervalSeconds"/>.
    /// </summary>
    public Task<int> CheckpointAsync(bool force = false, CancellationToken cancellationToken = default) =>
        _checkpointer.CheckpointAsync(force, cancellationToken);

    /// <summary>Bytes the data folder holds, for tests and metrics.</summary>
    public long DiskUsageBytes() => _storage.DiskUsageBytes();

    /// <summary>
    /// Writes a consistent snapshot of the collection into one checksummed file while writes go on (each shard is
    /// captured at one point in its log). <paramref name="name"/> defaults to the collection name and a UTC timestamp.
    /// </summary>
    public Task<SnapshotInfo> CreateSnapshotAsync(string collection, string? name = null, CancellationToken cancellationToken = default) =>
        _snapshots.CreateSnapshotAsync(collection, name, cancellationToken);

    /// <summary>Snapshots kept for a collection name (also after the collection itself was deleted).</summary>
    public IReadOnlyList<SnapshotInfo> ListSnapshots(string collection) => _snapshots.ListSnapshots(collection);

    /// <summary>Opens a snapshot file for download; throws <see cref="ErrorCode.NotFound"/> when there is none.</summary>
    public Stream OpenSnapshot(string collection, string snapshot) => _snapshots.OpenSnapshot(collection, snapshot);

    public void DeleteSnapshot(string collection, string snapshot) => _snapshots.DeleteSnapshot(collection, snapshot);

    /// <summary>Restores a stored snapshot into a new collection <paramref name="target"/>.</summary>
    public Task<CollectionInfo> RestoreSnapshotAsync(string collection, string snapshot, string target, CancellationToken cancellationToken = default) =>
        _snapshots.RestoreSnapshotAsync(collection, snapshot, target, cancellationToken);

    /// <summary>
    /// Restores a snapshot read from <paramref name="snapshot"/> (for example an uploaded file) into a new collection,
    /// named <paramref name="target"/> or, when null, as the snapshot's collection was. Every checksum is verified;
    /// a damaged snapshot creates nothing.
    /// </summary>
    public Task<CollectionInfo> RestoreSnapshotAsync(Stream snapshot, string? target, CancellationToken cancellationToken = default) =>
        _snapshots.RestoreSnapshotAsync(snapshot, target, cancellationToken);

    /// <summary>The open collection, without a lease: for tests that inspect its internals while nothing deletes it.</summary>
    internal Collection Find(string name)
    {
        using var lease = _catalog.Acquire(name);
        return lease.Collection;
    }

    /// <summary>A collection's shards, without a lease (tests only, like <see cref="Find"/>).</summary>
    internal IReadOnlyList<Shard> ShardsOf(string collection) => Find(collection).Shards;

    /// <summary>One value per open collection, for the metrics gauges; each read holds the collection's lease.</summary>
    internal List<(string Collection, long Value)> Measure(Func<Collection, long> value)
    {
        var leases = _catalog.AcquireAll();
        try
        {
            return [.. leases.Select(l => (l.Collection.Settings.Name, value(l.Collection)))];
        }
        finally
        {
            Release(leases);
        }
    }

    private void Recover()
    {
        var report = _catalog.Recover();
        LastRecovery = report;
        _logger.LogInformation("Recovered {Collections} collections ({Failed} unavailable) with {Documents} documents in {Elapsed} ms: {Checkpoints} shards loaded from checkpoints, {Records} log records replayed, {Torn} damaged log tails cut",
            report.Collections, report.UnavailableCollections, report.Documents, (long)report.Elapsed.TotalMilliseconds, report.ShardsFromCheckpoint, report.LogRecordsReplayed, report.TornLogTails);
        _snapshots.RestoreAtStartup();
        _checkpointer.Start();
    }

    private static void Release(List<CollectionLease> leases)
    {
        foreach (var lease in leases)
        {
            lease.Dispose();
        }
    }

    private static VectorStoreException DocumentNotFound(string collection, string id) =>
        new(ErrorCode.NotFound, $"Document '{id}' does not exist in collection '{collection}'.", "id");

    public void Dispose()
    {
        VectorStoreTelemetry.Unregister(this);
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        try
        {
            _recovery.Wait();
        }
        catch (AggregateException ex)
        {
            _logger.LogWarning(ex, "Recovery ended with an error before shutdown");
        }
        _checkpointer.Dispose();
        _catalog.Close((name, collection) =>
        {
            if (!Options.Durability.CheckpointOnShutdown)
            {
                return;
            }
            try
            {
                // An orderly stop leaves a checkpoint, so the next start loads instead of replaying.
                collection.CheckpointAsync(force: false, CancellationToken.None).GetAwaiter().GetResult();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                _logger.LogWarning(ex, "Could not checkpoint collection {Collection} at shutdown; the next start replays its log", name);
            }
        });
        _storage.Dispose();
    }
}
