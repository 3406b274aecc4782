using System.Collections;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using VectorStoreDb.Embedding;
using VectorStoreDb.Engine;
using VectorStoreDb.Engine.Filtering;
using VectorStoreDb.Index;

namespace VectorStoreDb.Client.Embedded;

/// <summary>
/// <see cref="IVectorStoreClient"/> over the engine in this process, storing in a local folder. Behaves like
/// <see cref="VectorStoreGrpcClient"/> against a server (same validation, same error codes and field names),
/// so an application can start embedded and move to a server by changing one line. Thread-safe. One data
/// folder must be opened by one store at a time.
/// </summary>
public sealed class EmbeddedVectorStore : IVectorStoreClient
{
    private readonly bool _ownsEngine;

    /// <summary>Wraps an engine the caller owns (for example one shared with a server in the same process).</summary>
    public EmbeddedVectorStore(VectorStoreEngine engine, bool ownsEngine = false)
    {
        ArgumentNullException.ThrowIfNull(engine);
        Engine = engine;
        _ownsEngine = ownsEngine;
    }

    /// <summary>Opens (or creates) a store in <paramref name="dataPath"/>, with the built-in demo encoder unless <paramref name="encoders"/> says otherwise.</summary>
    /// <param name="dataPath">Folder for the collections' files; created when missing.</param>
    /// <param name="configure">Adjusts options such as <see cref="VectorStoreOptions.Limits"/>.</param>
    /// <param name="loggerFactory">Where the engine logs; nothing is logged when null.</param>
    /// <param name="encoders">The encoders collections may use (default: <c>demo</c> only).</param>
    public static EmbeddedVectorStore Open(string dataPath, Action<VectorStoreOptions>? configure = null, ILoggerFactory? loggerFactory = null, EncoderRegistry? encoders = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataPath);
        return new EmbeddedVectorStore(VectorStoreEngine.Open(dataPath, loggerFactory, encoders, configure), ownsEngine: true);
    }

    /// <summary>The engine underneath, for what the SDK interface does not cover.</summary>
    public VectorStoreEngine Engine { get; }

    /// <inheritdoc />
    public Task<CollectionDescription> CreateCollectionAsync(string name, CollectionOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        var request = new CreateCollectionRequest
        {
            Name = name,
            Metric = options?.Metric is { } metric ? ToWire(metric) : null,
            Encoder = options?.Encoder,
            Dimension = options?.Dimension,
            Index = options?.Index,
            M = options?.M,
            EfConstruction = options?.EfConstruction,
            Shards = options?.Shards,
            Text = options?.Text,
            TextLanguage = options?.TextLanguage,
            Bm25K1 = options?.Bm25K1,
            Bm25B = options?.Bm25B,
            DefaultMode = options?.DefaultMode is { } mode ? HybridWireNames.ToWire(mode) : null,
            Projection = options?.Projection,
            IndexDimension = options?.IndexDimension,
            Rescore = options?.Rescore,
            PcaSampleSize = options?.PcaSampleSize,
            ProjectionSeed = options?.ProjectionSeed,
            Chunking = options?.Chunking,
            ChunkTokens = options?.ChunkTokens,
            ChunkOverlap = options?.ChunkOverlap,
        };
        return Run(async () => ToDescription(await Engine.CreateCollectionAsync(request, cancellationToken)), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<CollectionDescription>> ListCollectionsAsync(CancellationToken cancellationToken = default) =>
        Run(() => Task.FromResult<IReadOnlyList<CollectionDescription>>([.. Engine.ListCollections().Select(ToDescription)]), cancellationToken);

    /// <inheritdoc />
    public Task<CollectionDescription> GetCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Run(() => Task.FromResult(ToDescription(Engine.GetCollection(name))), cancellationToken);
    }

    /// <inheritdoc />
    public Task DeleteCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Run(async () =>
        {
            await Engine.DeleteCollectionAsync(name, cancellationToken);
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> UpsertAsync(string collection, IEnumerable<DocumentWrite> documents, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(documents);
        return Run(() =>
        {
            var inputs = new List<DocumentInput>();
            foreach (var document in documents)
            {
                string field = $"documents[{inputs.Count}]";
                if (document is null)
                {
                    throw new VectorStoreException(ErrorCode.InvalidArgument, $"{field}: must not be null.", field);
                }
                inputs.Add(new DocumentInput
                {
                    Id = document.Id,
                    Text = document.Text,
                    Vector = document.Vector,
                    Metadata = ToMetadata(document.Metadata, $"{field}.metadata"),
                });
            }
            return Engine.UpsertAsync(collection, inputs, cancellationToken);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<VectorDocument> GetDocumentAsync(string collection, string id, bool includeVector = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(id);
        return Run(() =>
        {
            var document = Engine.GetDocument(collection, id, includeVector);
            return Task.FromResult(ToVectorDocument(document, includeVector));
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task DeleteDocumentAsync(string collection, string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(id);
        return Run(async () =>
        {
            await Engine.DeleteDocumentAsync(collection, id, cancellationToken);
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<long> CountAsync(string collection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        return Run(() => Task.FromResult(Engine.Count(collection)), cancellationToken);
    }

    /// <inheritdoc />
    public Task<VectorDocumentPage> ListDocumentsAsync(string collection, string? after = null, int limit = 50, bool includeVectors = false, int offset = 0,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        return Run(() =>
        {
            var page = Engine.ListDocuments(collection, offset, limit, after, includeVectors);
            return Task.FromResult(new VectorDocumentPage(
                [.. page.Documents.Select(d => ToVectorDocument(d, includeVectors))],
                page.Total, page.NextAfter));
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<SnapshotDescription> CreateSnapshotAsync(string collection, string? name = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        return Run(async () => ToSnapshot(await Engine.CreateSnapshotAsync(collection, name, cancellationToken)), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<SnapshotDescription>> ListSnapshotsAsync(string collection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        return Run(() => Task.FromResult<IReadOnlyList<SnapshotDescription>>([.. Engine.ListSnapshots(collection).Select(ToSnapshot)]), cancellationToken);
    }

    /// <inheritdoc />
    public Task<CollectionDescription> RestoreSnapshotAsync(string collection, string snapshot, string target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(target);
        return Run(async () => ToDescription(await Engine.RestoreSnapshotAsync(collection, snapshot, target, cancellationToken)), cancellationToken);
    }

    /// <inheritdoc />
    public Task DeleteSnapshotAsync(string collection, string snapshot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(snapshot);
        return Run(() =>
        {
            Engine.DeleteSnapshot(collection, snapshot);
            return Task.FromResult(true);
        }, cancellationToken);
    }

    private static SnapshotDescription ToSnapshot(Engine.Storage.SnapshotInfo info) => new(info.Collection, info.Name, info.SizeBytes, info.CreatedAt);

    /// <inheritdoc />
    public Task<IReadOnlyList<SearchHit>> QueryAsync(string collection, SearchQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(query);
        return Run<IReadOnlyList<SearchHit>>(async () =>
        {
            var request = new QueryRequest
            {
                Text = query.Text,
                Vector = query.Vector,
                K = query.K,
                Filter = ParseFilter(query.Filter),
                Exact = query.Exact,
                Ef = query.Ef,
                IncludeVectors = query.IncludeVectors,
                Mode = query.Mode is { } mode ? HybridWireNames.ToWire(mode) : null,
                Prefetch = query.Prefetch,
                Fusion = query.Fusion is { } fusion ? HybridWireNames.ToWire(fusion) : null,
                RrfK = query.RrfK,
                DenseWeight = query.DenseWeight,
                TextWeight = query.TextWeight,
                Explain = query.Explain,
                Chunks = query.Chunks,
            };
            var hits = await Engine.QueryAsync(collection, request, cancellationToken);
            return [.. hits.Select(h => new SearchHit(h.Id, h.Score, h.Text, Metadata.ToObjects(h.Metadata), query.IncludeVectors ? h.Vector : null)
            {
                Explanation = h.Explanation is { } e ? new SearchHitExplanation(e.DenseRank, e.DenseScore, e.TextRank, e.TextScore) : null,
                Highlight = h.Highlight is { } c ? new TextHighlight(c.Chunk, c.Start, c.End, c.Text) : null,
            })];
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<float[]>> EmbedAsync(IReadOnlyList<string> texts, string? encoder = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        return Run<IReadOnlyList<float[]>>(async () => await Engine.EmbedAsync(texts, encoder, cancellationToken), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ModelDescription>> ListModelsAsync(CancellationToken cancellationToken = default) =>
        Run(() => Task.FromResult<IReadOnlyList<ModelDescription>>([.. Engine.Encoders.List().Select(e => new ModelDescription(e.Name, e.Dimension, e.MaxTokens, e.Kind))]),
            cancellationToken);

    private static IReadOnlyDictionary<string, MetadataValue>? ToMetadata(IReadOnlyDictionary<string, object?>? metadata, string field)
    {
        if (metadata is null)
        {
            return null;
        }
        foreach (var (key, value) in metadata)
        {
            // The engine would see a dictionary as a list of pairs; name it as the nested object it is, as the remote client does.
            if (value is IDictionary or IEnumerable<KeyValuePair<string, object?>>)
            {
                throw new VectorStoreException(ErrorCode.InvalidArgument, $"{field}.{key}: nested objects are not supported; use strings, numbers, booleans or arrays of those.", $"{field}.{key}");
            }
        }
        return Metadata.FromObjects(metadata, field);
    }

    private static MetadataFilter? ParseFilter(string? filter)
    {
        if (string.IsNullOrWhiteSpace(filter))
        {
            return null;
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(filter);
        }
        catch (JsonException ex)
        {
            throw new VectorStoreClientException(VectorStoreErrorCode.InvalidArgument, $"filter: not valid JSON ({ex.Message}).", "filter", ex);
        }
        using (document)
        {
            return MetadataFilter.Parse(document.RootElement, "filter");
        }
    }

    /// <summary>Runs an engine call, translating its refusals into the SDK's exception exactly as the server's status codes would.</summary>
    private static async Task<T> Run<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            return await call().ConfigureAwait(false);
        }
        catch (VectorStoreException ex)
        {
            throw ToClientException(ex);
        }
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested)
        {
            throw new VectorStoreClientException(VectorStoreErrorCode.Cancelled, "The call was cancelled.", null, ex);
        }
    }

    /// <summary>The SDK exception for an engine refusal: the same code, message and field a server would send.</summary>
    public static VectorStoreClientException ToClientException(VectorStoreException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var code = exception.Code switch
        {
            ErrorCode.InvalidArgument => VectorStoreErrorCode.InvalidArgument,
            ErrorCode.NotFound => VectorStoreErrorCode.NotFound,
            ErrorCode.AlreadyExists => VectorStoreErrorCode.AlreadyExists,
            ErrorCode.LimitExceeded => VectorStoreErrorCode.LimitExceeded,
            ErrorCode.FailedPrecondition => VectorStoreErrorCode.FailedPrecondition,
            ErrorCode.Unavailable => VectorStoreErrorCode.Unavailable,
            ErrorCode.Busy => VectorStoreErrorCode.Busy,
            _ => VectorStoreErrorCode.Unknown,
        };
        return new VectorStoreClientException(code, exception.Message, exception.Field, exception);
    }

    private static string ToWire(DistanceMetric metric) => metric switch
    {
        DistanceMetric.Dot => Metric.Dot.ToWireName(),
        DistanceMetric.L2 => Metric.L2.ToWireName(),
        _ => Metric.Cosine.ToWireName(),
    };

    private static CollectionDescription ToDescription(CollectionInfo info)
    {
        var s = info.Settings;
        var metric = s.Metric switch
        {
            Metric.Dot => DistanceMetric.Dot,
            Metric.L2 => DistanceMetric.L2,
            _ => DistanceMetric.Cosine,
        };
        return new CollectionDescription(s.Name, metric, s.Encoder, s.Dimension, s.Index, s.M, s.EfConstruction, s.Shards, info.DocumentCount, s.CreatedAt,
            s.Projection, s.IndexDimension > 0 ? s.IndexDimension : s.Dimension, s.Projection != ProjectionKinds.None && s.Rescore, s.PcaSampleSize, info.ProjectionReady)
        {

            TextIndex = s.TextIndex is { } text ? new TextIndexDescription(text.Language, text.K1, text.B) : null,
            DefaultMode = HybridWireNames.ModeFromWire(s.DefaultMode),
            Chunking = s.Chunking ? new ChunkingDescription(s.ChunkTokens == 0 ? null : s.ChunkTokens, s.ChunkOverlap) : null,
        };
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsEngine)
        {
            Engine.Dispose();
        }
    }

    private static VectorDocument ToVectorDocument(Document document, bool includeVector) =>
        new(document.Id, document.Text, Metadata.ToObjects(document.Metadata), includeVector ? document.Vector : null)
        {
            Chunks = document.Chunks is { } chunks ? [.. chunks.Select(c => new TextChunkSpan(c.Chunk, c.Start, c.End))] : null,
        };
}
