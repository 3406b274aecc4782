using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace VectorStoreDb.Client.VectorData;

/// <summary>
/// A VectorStore collection seen through Microsoft.Extensions.VectorData. Works over any
/// <see cref="IVectorStoreClient"/> (the remote gRPC client or the embedded store). The key is the document id;
/// data properties are document metadata, except the text property (see <see cref="VectorStoreDbCollectionOptions.TextProperty"/>),
/// which is the document text the store can embed; the one vector property is the document vector.
/// </summary>
/// <typeparam name="TKey"><see cref="string"/> or <see cref="Guid"/> (<see cref="object"/> for dynamic collections).</typeparam>
/// <typeparam name="TRecord">The record type.</typeparam>
public class VectorStoreDbCollection<TKey, TRecord> : VectorStoreCollection<TKey, TRecord>, IKeywordHybridSearchable<TRecord>
    where TKey : notnull
    where TRecord : class
{
    /// <summary>The name MEVD telemetry and errors use for this database system.</summary>
    public const string SystemName = "vectorstore";

    /// <summary>
    /// The most records a filtered <c>GetAsync</c> sorts in memory. That happens only when <c>OrderBy</c>'s first key is
    /// one the store cannot order by (the key, descending; or a text property kept only as document text); every
    /// other listing is ordered by the store and streamed.
    /// </summary>
    public const int MaxFilteredRecords = 1_000;

    /// <summary>Ids per batch get: the store's default batch limit.</summary>
    private const int KeysPerCall = 1_000;

    /// <summary>The largest scroll page the store returns.</summary>
    private const int MaxPageSize = 1_000;

    /// <summary>How many single-document deletes a batch delete keeps in flight.</summary>
    private const int ConcurrentCalls = 32;

    private readonly IVectorStoreClient _client;
    private readonly VectorStoreDbCollectionOptions _options;
    private readonly CollectionModel _model;
    private readonly VectorStoreCollectionMetadata _metadata;
    private readonly VectorPropertyModel? _vectorProperty;
    private readonly DataPropertyModel? _textProperty;
    private readonly bool _generatesEmbeddings;
    private CollectionDescription? _description;

    /// <summary>Opens (not creates) collection <paramref name="name"/>; see <see cref="EnsureCollectionExistsAsync"/>.</summary>
    /// <param name="client">The remote or embedded client; not disposed by the collection.</param>
    /// <param name="name">The collection name.</param>
    /// <param name="options">Definition, embedding generator, server encoder and index settings.</param>
    public VectorStoreDbCollection(IVectorStoreClient client, string name, VectorStoreDbCollectionOptions? options = null)
        : this(client, name, options, static (o, generator) =>
        {
            if (typeof(TKey) != typeof(string) && typeof(TKey) != typeof(Guid))
            {
                throw new NotSupportedException($"Key type {typeof(TKey).Name} is not supported by VectorStore; use string or Guid.");
            }
            return new VectorStoreDbModelBuilder().Build(typeof(TRecord), typeof(TKey), o.Definition, generator);
        })
    {
    }

    private protected VectorStoreDbCollection(IVectorStoreClient client, string name, VectorStoreDbCollectionOptions? options,
        Func<VectorStoreDbCollectionOptions, IEmbeddingGenerator?, CollectionModel> buildModel)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        _client = client;
        Name = name;
        _options = options is null ? new VectorStoreDbCollectionOptions() : new VectorStoreDbCollectionOptions(options);
        _model = buildModel(_options, _options.EmbeddingGenerator);

        var keyType = _model.KeyProperty.Type;
        if (keyType != typeof(string) && keyType != typeof(Guid))
        {
            throw new NotSupportedException($"Key type {keyType.Name} (property '{_model.KeyProperty.ModelName}') is not supported by VectorStore; use string or Guid.");
        }
        _vectorProperty = _model.VectorProperties.Count > 0 ? _model.VectorProperty : null;
        if (_vectorProperty is not null)
        {
            _ = ToMetric(_vectorProperty);
            _ = ToIndex(_vectorProperty);
            _generatesEmbeddings = Array.IndexOf(VectorStoreDbModelBuilder.VectorTypes, _vectorProperty.Type) < 0;
        }
        else if (string.IsNullOrEmpty(_options.Encoder) || _options.Encoder == "none")
        {
            throw new NotSupportedException(
                $"Collection '{name}' has no vector property; either add one ([VectorStoreVector(dimensions)]) or set {nameof(VectorStoreDbCollectionOptions)}.{nameof(VectorStoreDbCollectionOptions.Encoder)} so the store embeds the text.");
        }
        _textProperty = FindTextProperty();
        _metadata = new VectorStoreCollectionMetadata { VectorStoreSystemName = SystemName, CollectionName = name };
    }

    /// <inheritdoc />
    public override string Name { get; }

    private DataPropertyModel? FindTextProperty()
    {
        if (_options.TextProperty is { } configured)
        {
            var property = _model.DataProperties.FirstOrDefault(p => p.ModelName == configured)
                ?? throw new ArgumentException($"TextProperty '{configured}' is not a data property of {typeof(TRecord).Name}.", nameof(VectorStoreDbCollectionOptions.TextProperty));
            return property.Type == typeof(string) ? property
                : throw new ArgumentException($"TextProperty '{configured}' must be a string property, not {property.Type.Name}.", nameof(VectorStoreDbCollectionOptions.TextProperty));
        }
        return _model.DataProperties.FirstOrDefault(p => p.IsFullTextIndexed && p.Type == typeof(string));
    }

    private static DistanceMetric ToMetric(VectorPropertyModel vector) => vector.DistanceFunction switch
    {
        null or DistanceFunction.CosineSimilarity => DistanceMetric.Cosine,
        DistanceFunction.DotProductSimilarity => DistanceMetric.Dot,
        DistanceFunction.EuclideanDistance => DistanceMetric.L2,
        var other => throw new NotSupportedException(
            $"Distance function '{other}' (property '{vector.ModelName}') is not supported by VectorStore; use CosineSimilarity, DotProductSimilarity or EuclideanDistance."),
    };

    private static string? ToIndex(VectorPropertyModel vector) => vector.IndexKind switch
    {
        // Unspecified: the store's default index.
        null => null,
        IndexKind.Hnsw => "hnsw",
        IndexKind.Flat => "exact",
        var other => throw new NotSupportedException($"Index kind '{other}' (property '{vector.ModelName}') is not supported by VectorStore; use Hnsw or Flat."),
    };

    /// <inheritdoc />
    public override async Task<bool> CollectionExistsAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            _description = await _client.GetCollectionAsync(Name, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (VectorStoreClientException e) when (e.Code == VectorStoreErrorCode.NotFound)
        {
            return false;
        }
        catch (VectorStoreClientException e)
        {
            throw Wrap(e, "CollectionExists");
        }
    }

    /// <inheritdoc />
    public override async Task EnsureCollectionExistsAsync(CancellationToken cancellationToken = default)
    {
        string encoder = string.IsNullOrEmpty(_options.Encoder) ? "none" : _options.Encoder;
        var settings = new CollectionOptions
        {
            Encoder = encoder,
            // With a server encoder the encoder fixes the dimension.
            Dimension = encoder == "none" ? _vectorProperty!.Dimensions : null,
            Metric = _vectorProperty is null ? null : ToMetric(_vectorProperty),
            Index = _vectorProperty is null ? null : ToIndex(_vectorProperty),
            M = _options.M,
            EfConstruction = _options.EfConstruction,
            Shards = _options.Shards,
            // The store's BM25 index covers the document text, i.e. the text property; build it when that property
            // asks for full-text search so HybridSearchAsync works on collections created here.
            Text = _textProperty is { IsFullTextIndexed: true } ? true : null,
        };
        try
        {
            _description = await _client.CreateCollectionAsync(Name, settings, cancellationToken).ConfigureAwait(false);
        }
        catch (VectorStoreClientException e) when (e.Code == VectorStoreErrorCode.AlreadyExists)
        {
        }
        catch (VectorStoreClientException e)
        {
            throw Wrap(e, "EnsureCollectionExists");
        }
    }

    /// <inheritdoc />
    public override async Task EnsureCollectionDeletedAsync(CancellationToken cancellationToken = default)
    {
        _description = null;
        try
        {
            await _client.DeleteCollectionAsync(Name, cancellationToken).ConfigureAwait(false);
        }
        catch (VectorStoreClientException e) when (e.Code == VectorStoreErrorCode.NotFound)
        {
        }
        catch (VectorStoreClientException e)
        {
            throw Wrap(e, "EnsureCollectionDeleted");
        }
    }

    /// <inheritdoc />
    public override async Task<TRecord?> GetAsync(TKey key, RecordRetrievalOptions? options = null, CancellationToken cancellationToken = default)
    {
        bool includeVectors = CheckIncludeVectors(options?.IncludeVectors ?? false);
        try
        {
            var document = await _client.GetDocumentAsync(Name, KeyToId(key), includeVectors, cancellationToken).ConfigureAwait(false);
            return ToRecord(document.Id, document.Text, document.Metadata, document.Vector, includeVectors);
        }
        catch (VectorStoreClientException e) when (e.Code == VectorStoreErrorCode.NotFound)
        {
            return null;
        }
        catch (VectorStoreClientException e)
        {
            throw Wrap(e, "Get");
        }
    }

    /// <inheritdoc />
    public override async IAsyncEnumerable<TRecord> GetAsync(IEnumerable<TKey> keys, RecordRetrievalOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        bool includeVectors = CheckIncludeVectors(options?.IncludeVectors ?? false);
        // One batch get per KeysPerCall keys; the store answers in key order and leaves out keys with no record.
        foreach (var ids in keys.Select(KeyToId).Chunk(KeysPerCall))
        {
            IReadOnlyList<VectorDocument> documents;
            try
            {
                documents = await _client.GetDocumentsAsync(Name, ids, includeVectors, cancellationToken).ConfigureAwait(false);
            }
            catch (VectorStoreClientException e)
            {
                throw Wrap(e, "Get");
            }
            foreach (var document in documents)
            {
                yield return ToRecord(document.Id, document.Text, document.Metadata, document.Vector, includeVectors);
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// A scroll of the store's documents matching the filter, streamed page by page. Without <c>OrderBy</c> records come
    /// in key order (ordinal). The store orders by <c>OrderBy</c>'s first key (records without a value last, in either
    /// direction); further keys order records that tie on it, here. When the first key is the record key descending, or
    /// a text property kept only as document text, the store cannot order by it: then at most
    /// <see cref="MaxFilteredRecords"/> matching records are read and sorted here.
    /// </remarks>
    public override async IAsyncEnumerable<TRecord> GetAsync(System.Linq.Expressions.Expression<Func<TRecord, bool>> filter, int top,
        FilteredRecordRetrievalOptions<TRecord>? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        options ??= new FilteredRecordRetrievalOptions<TRecord>();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Skip, nameof(options.Skip));
        bool includeVectors = CheckIncludeVectors(options.IncludeVectors);
        var sortKeys = (options.OrderBy?.Invoke(new FilteredRecordRetrievalOptions<TRecord>.OrderByDefinition()).Values ?? [])
            .Select(s => new SortKey(_model.GetDataOrKeyProperty(s.PropertySelector), s.Ascending))
            .ToList();
        var query = new ScrollQuery
        {
            Filter = FilterTranslator.Translate(filter, _model, TextOnlyPropertyName),
            Limit = (int)Math.Min(MaxPageSize, (long)top + options.Skip),
            IncludeVectors = includeVectors,
        };

        IAsyncEnumerable<TRecord> records;
        if (sortKeys.Count == 0)
        {
            records = RecordsAsync(query, includeVectors, cancellationToken);
        }
        else
        {
            var (storeOrders, order) = ServerOrder(sortKeys[0]);
            records = storeOrders
                ? OrderedByStoreAsync(query with { OrderBy = order }, sortKeys, includeVectors, cancellationToken)
                : OrderedHereAsync(query with { Limit = MaxPageSize }, sortKeys, includeVectors, cancellationToken);
        }

        int skipped = 0;
        int returned = 0;
        await foreach (var record in records.ConfigureAwait(false))
        {
            if (skipped < options.Skip)
            {
                skipped++;
                continue;
            }
            yield return record;
            if (++returned == top)
            {
                yield break;
            }
        }
    }

    /// <summary>
    /// Whether the store can order by <paramref name="key"/>, and how: the record key ascending is the store's id order
    /// (no <see cref="DocumentOrder"/>); a data property stored as metadata is ordered by its storage name.
    /// </summary>
    private (bool Orders, DocumentOrder? Order) ServerOrder(SortKey key) => key.Property switch
    {
        KeyPropertyModel => (key.Ascending, null),
        DataPropertyModel data when data == _textProperty && !data.IsIndexed => (false, null),
        var property => (true, new DocumentOrder(property.StorageName, !key.Ascending)),
    };

    /// <summary>Every record the scroll matches, in the store's order, one page in memory at a time.</summary>
    private async IAsyncEnumerable<TRecord> RecordsAsync(ScrollQuery query, bool includeVectors, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (true)
        {
            ScrollResult page;
            try
            {
                page = await _client.ScrollAsync(Name, query, cancellationToken).ConfigureAwait(false);
            }
            catch (VectorStoreClientException e)
            {
                throw Wrap(e, "Get");
            }
            foreach (var document in page.Documents)
            {
                yield return ToRecord(document.Id, document.Text, document.Metadata, document.Vector, includeVectors);
            }
            if (page.Next is null)
            {
                yield break;
            }
            query = query with { After = page.Next };
        }
    }

    /// <summary>
    /// The store orders by the first key (ties by id); records that tie on it are gathered and ordered by the other
    /// keys before they are passed on, so only one run of equal values is held at a time.
    /// </summary>
    private async IAsyncEnumerable<TRecord> OrderedByStoreAsync(ScrollQuery query, IReadOnlyList<SortKey> sortKeys, bool includeVectors,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var records = RecordsAsync(query, includeVectors, cancellationToken);
        if (sortKeys.Count == 1)
        {
            await foreach (var record in records.ConfigureAwait(false))
            {
                yield return record;
            }
            yield break;
        }
        var first = sortKeys[0];
        var tieBreak = new RecordComparer(sortKeys.Skip(1).ToList());
        var run = new List<TRecord>();
        object? runValue = null;
        await foreach (var record in records.ConfigureAwait(false))
        {
            object? value = first.Property.GetValueAsObject(record);
            if (run.Count > 0 && RecordComparer.CompareValues(value, runValue, ascending: true) != 0)
            {
                foreach (var ordered in run.Order(tieBreak))
                {
                    yield return ordered;
                }
                run.Clear();
            }
            if (run.Count == 0)
            {
                runValue = value;
            }
            run.Add(record);
        }
        foreach (var ordered in run.Order(tieBreak))
        {
            yield return ordered;
        }
    }

    /// <summary>Reads every matching record (at most <see cref="MaxFilteredRecords"/>) and orders them here.</summary>
    private async IAsyncEnumerable<TRecord> OrderedHereAsync(ScrollQuery query, IReadOnlyList<SortKey> sortKeys, bool includeVectors,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var all = new List<TRecord>();
        await foreach (var record in RecordsAsync(query, includeVectors, cancellationToken).ConfigureAwait(false))
        {
            if (all.Count == MaxFilteredRecords)
            {
                throw new NotSupportedException(
                    $"The store cannot order by '{sortKeys[0].Property.ModelName}'{(sortKeys[0].Ascending ? "" : " descending")}, so the records are sorted here, and more than {MaxFilteredRecords} match; narrow the filter or order by a data property.");
            }
            all.Add(record);
        }
        foreach (var record in all.Order(new RecordComparer(sortKeys)))
        {
            yield return record;
        }
    }

    /// <inheritdoc />
    public override async Task DeleteAsync(TKey key, CancellationToken cancellationToken = default)
    {
        try
        {
            await _client.DeleteDocumentAsync(Name, KeyToId(key), cancellationToken).ConfigureAwait(false);
        }
        catch (VectorStoreClientException e) when (e.Code == VectorStoreErrorCode.NotFound)
        {
            // Deleting what is not there is not an error in MEVD.
        }
        catch (VectorStoreClientException e)
        {
            throw Wrap(e, "Delete");
        }
    }

    /// <inheritdoc />
    public override async Task DeleteAsync(IEnumerable<TKey> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        foreach (var chunk in keys.Chunk(ConcurrentCalls))
        {
            await Task.WhenAll(chunk.Select(key => DeleteAsync(key, cancellationToken))).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public override Task UpsertAsync(TRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        return UpsertAsync([record], cancellationToken);
    }

    /// <inheritdoc />
    public override async Task UpsertAsync(IEnumerable<TRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        var batch = records.ToList();
        if (batch.Count == 0)
        {
            return;
        }
        float[]?[]? generated = null;
        if (_generatesEmbeddings)
        {
            var sources = batch.Select(r => _vectorProperty!.GetValueAsObject(r)
                ?? throw new ArgumentException($"Property '{_vectorProperty.ModelName}' is null; it is the input the embedding is generated from.", nameof(records))).ToList();
            var embeddings = await _vectorProperty!.GenerateEmbeddingsAsync(sources, cancellationToken).ConfigureAwait(false);
            generated = [.. embeddings.Select(e => e is Embedding<float> f ? f.Vector.ToArray()
                : throw new NotSupportedException($"The embedding generator returned {e.GetType().Name}; VectorStore stores Embedding<float>."))];
        }

        var keyProperty = _model.KeyProperty;
        var newKeys = new Guid?[batch.Count];
        var documents = new List<DocumentWrite>(batch.Count);
        for (int i = 0; i < batch.Count; i++)
        {
            var record = batch[i];
            object? key = keyProperty.GetValueAsObject(record);
            if (key is null || (key is Guid g && g == Guid.Empty) || key is "")
            {
                // Auto-generated (Guid) keys are made here rather than by the store so the record learns its key.
                if (keyProperty is not KeyPropertyModel { IsAutoGenerated: true } || keyProperty.Type != typeof(Guid))
                {
                    throw new ArgumentException($"Record {i} has no key ('{keyProperty.ModelName}' is null or empty).", nameof(records));
                }
                newKeys[i] = Guid.CreateVersion7();
                key = newKeys[i];
            }
            documents.Add(new DocumentWrite
            {
                Id = key is Guid guid ? guid.ToString("D") : (string)key!,
                Text = _textProperty?.GetValueAsObject(record) as string,
                Vector = generated is not null ? generated[i] : VectorOf(record),
                Metadata = MetadataOf(record),
            });
        }
        try
        {
            await _client.UpsertAsync(Name, documents, cancellationToken).ConfigureAwait(false);
        }
        catch (VectorStoreClientException e)
        {
            throw Wrap(e, "Upsert");
        }
        for (int i = 0; i < batch.Count; i++)
        {
            if (newKeys[i] is { } newKey)
            {
                keyProperty.SetValueAsObject(batch[i], newKey);
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// <paramref name="searchValue"/> may be a <see cref="ReadOnlyMemory{T}"/> of float, a float array or an
    /// <see cref="Embedding{T}"/> of float; any value the configured <see cref="IEmbeddingGenerator"/> accepts; or,
    /// without a generator, a <see cref="string"/> that the collection's server-side encoder embeds.
    /// Scores are the store's: cosine similarity, dot product (higher is closer) or Euclidean distance (lower is closer).
    /// </remarks>
    public override async IAsyncEnumerable<VectorSearchResult<TRecord>> SearchAsync<TInput>(TInput searchValue, int top,
        VectorSearchOptions<TRecord>? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(searchValue);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        options ??= new VectorSearchOptions<TRecord>();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Skip, nameof(options.Skip));
        bool includeVectors = CheckIncludeVectors(options.IncludeVectors);
        var vectorProperty = _vectorProperty is null ? null : _model.GetVectorPropertyOrSingle(options);

        var (vector, text) = await ToSearchVectorAsync(searchValue, vectorProperty, "Search", cancellationToken).ConfigureAwait(false);

        var query = PageQuery(vector, text, top, options.Skip, options.Filter, includeVectors);
        var hits = await QueryAsync(query, "Search", cancellationToken).ConfigureAwait(false);
        bool lowerIsCloser = vectorProperty?.DistanceFunction == DistanceFunction.EuclideanDistance;
        foreach (var hit in hits.Skip(options.Skip))
        {
            if (options.ScoreThreshold is { } threshold && (lowerIsCloser ? hit.Score > threshold : hit.Score < threshold))
            {
                continue;
            }
            yield return new VectorSearchResult<TRecord>(ToRecord(hit.Id, hit.Text, hit.Metadata, hit.Vector, includeVectors), hit.Score);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// <para>
    /// Runs the store's hybrid query: the dense side searches with <paramref name="searchValue"/> (a vector, a value the
    /// configured <see cref="IEmbeddingGenerator"/> embeds, or a <see cref="string"/> the collection's server-side
    /// encoder embeds), the text side is BM25 over the <paramref name="keywords"/> joined by spaces, and the two
    /// candidate lists are fused (distribution-based score fusion, the store's default). Scores are the fused
    /// scores: higher is better whatever the distance function, so <see cref="HybridSearchOptions{TRecord}.ScoreThreshold"/>
    /// is a minimum.
    /// </para>
    /// <para>
    /// The store keeps one full-text index per collection, over the document text, which is the text property
    /// (<see cref="VectorStoreDbCollectionOptions.TextProperty"/>, by default the first <see cref="string"/> data property
    /// marked <c>IsFullTextIndexed</c>). <see cref="HybridSearchOptions{TRecord}.AdditionalProperty"/> may only name that
    /// property, and the collection must have been created with a text index (which <see cref="EnsureCollectionExistsAsync"/>
    /// does when the text property is marked <c>IsFullTextIndexed</c>).
    /// </para>
    /// </remarks>
    public async IAsyncEnumerable<VectorSearchResult<TRecord>> HybridSearchAsync<TInput>(TInput searchValue, ICollection<string> keywords, int top,
        HybridSearchOptions<TRecord>? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        where TInput : notnull
    {
        ArgumentNullException.ThrowIfNull(searchValue);
        ArgumentNullException.ThrowIfNull(keywords);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        options ??= new HybridSearchOptions<TRecord>();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Skip, nameof(options.Skip));
        string keywordText = string.Join(' ', keywords.Where(k => !string.IsNullOrWhiteSpace(k)).Select(k => k.Trim()));
        if (keywordText.Length == 0)
        {
            throw new ArgumentException("At least one non-blank keyword is needed for a hybrid search.", nameof(keywords));
        }
        _ = FullTextPropertyFor(options.AdditionalProperty);
        bool includeVectors = CheckIncludeVectors(options.IncludeVectors);
        var vectorProperty = _vectorProperty is null ? null
            : _model.GetVectorPropertyOrSingle(new VectorSearchOptions<TRecord> { VectorProperty = options.VectorProperty });

        var (vector, text) = await ToSearchVectorAsync(searchValue, vectorProperty, "HybridSearch", cancellationToken).ConfigureAwait(false);
        if (vector is null)
        {
            // The query's text field carries the keywords, so the dense side's text is embedded here, by the same
            // server-side encoder that embedded the documents.
            var description = await DescribeAsync("HybridSearch", cancellationToken).ConfigureAwait(false);
            try
            {
                // The query form: a model with asymmetric prompts (arctic-xs) embeds searches unlike the stored documents.
                vector = (await _client.EmbedAsync([text!], description.Encoder, EmbeddingInputType.Query, cancellationToken).ConfigureAwait(false))[0];
            }
            catch (VectorStoreClientException e)
            {
                throw Wrap(e, "HybridSearch");
            }
        }

        var query = PageQuery(vector, keywordText, top, options.Skip, options.Filter, includeVectors) with { Mode = SearchMode.Hybrid };
        var hits = await QueryAsync(query, "HybridSearch", cancellationToken).ConfigureAwait(false);
        foreach (var hit in hits.Skip(options.Skip))
        {
            if (options.ScoreThreshold is { } threshold && hit.Score < threshold)
            {
                continue;
            }
            yield return new VectorSearchResult<TRecord>(ToRecord(hit.Id, hit.Text, hit.Metadata, hit.Vector, includeVectors), hit.Score);
        }
    }

    /// <summary>
    /// The property a hybrid search matches keywords against: <paramref name="selector"/>'s property, or the text property
    /// when none is named. It must be full-text indexed and must be the text property, the only one the store indexes.
    /// </summary>
    private DataPropertyModel FullTextPropertyFor(System.Linq.Expressions.Expression<Func<TRecord, object?>>? selector)
    {
        if (selector is null)
        {
            return _textProperty switch
            {
                { IsFullTextIndexed: true } => _textProperty,
                null => throw new InvalidOperationException(
                    $"{typeof(TRecord).Name} has no full-text searchable property for hybrid search; mark the string property that holds the document text [VectorStoreData(IsFullTextIndexed = true)]."),
                _ => throw new InvalidOperationException(
                    $"Text property '{_textProperty.ModelName}' of {typeof(TRecord).Name} is not full-text indexed; mark it [VectorStoreData(IsFullTextIndexed = true)] for hybrid search."),
            };
        }
        var property = _model.GetDataOrKeyProperty(selector);
        if (property is not DataPropertyModel data)
        {
            throw new InvalidOperationException($"AdditionalProperty '{property.ModelName}' is the key; hybrid search needs a full-text indexed data property.");
        }
        if (!data.IsFullTextIndexed)
        {
            throw new InvalidOperationException(
                $"AdditionalProperty '{data.ModelName}' is not full-text indexed; mark it [VectorStoreData(IsFullTextIndexed = true)] to search it with keywords.");
        }
        if (data != _textProperty)
        {
            throw new NotSupportedException(
                $"AdditionalProperty '{data.ModelName}' cannot be keyword-searched: VectorStore's full-text index covers only the document text, which is property '{_textProperty?.ModelName ?? "(none)"}'; set {nameof(VectorStoreDbCollectionOptions)}.{nameof(VectorStoreDbCollectionOptions.TextProperty)} to choose it.");
        }
        return data;
    }

    /// <summary>
    /// Turns a search value into the query vector, or, when only the store's encoder can embed it, into the text
    /// the store embeds (vector null).
    /// </summary>
    private async Task<(float[]? Vector, string? Text)> ToSearchVectorAsync<TInput>(TInput searchValue, VectorPropertyModel? vectorProperty,
        string operation, CancellationToken cancellationToken)
        where TInput : notnull
    {
        switch (searchValue)
        {
            case ReadOnlyMemory<float> memory:
                return (memory.ToArray(), null);
            case float[] array:
                return (array, null);
            case Embedding<float> embedding:
                return (embedding.Vector.ToArray(), null);
            case var _ when vectorProperty?.EmbeddingGenerator is not null:
                var generated = await vectorProperty.GenerateEmbeddingAsync(searchValue, cancellationToken).ConfigureAwait(false);
                return generated is Embedding<float> f ? (f.Vector.ToArray(), null)
                    : throw new NotSupportedException($"The embedding generator returned {generated.GetType().Name}; VectorStore searches with Embedding<float>.");
            case string s:
                var description = await DescribeAsync(operation, cancellationToken).ConfigureAwait(false);
                if (string.IsNullOrEmpty(description.Encoder) || description.Encoder == "none")
                {
                    throw new NotSupportedException(
                        $"Collection '{Name}' has no server-side encoder and no embedding generator is configured, so it cannot be searched with text; pass a vector, configure an IEmbeddingGenerator, or create the collection with an Encoder.");
                }
                return (null, s);
            default:
                throw new NotSupportedException(
                    $"Search values of type {typeof(TInput).Name} are not supported; use ReadOnlyMemory<float>, float[], Embedding<float>, a string (server-side encoder), or configure an IEmbeddingGenerator for {typeof(TInput).Name}.");
        }
    }

    /// <inheritdoc />
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(VectorStoreCollectionMetadata) ? _metadata
            : serviceType == typeof(IVectorStoreClient) ? _client
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    /// <summary>The text property's name when it is kept only as document text (not also as filterable metadata).</summary>
    private string? TextOnlyPropertyName => _textProperty is { IsIndexed: false } ? _textProperty.ModelName : null;

    private bool CheckIncludeVectors(bool includeVectors)
    {
        if (includeVectors && _generatesEmbeddings)
        {
            throw new NotSupportedException(
                $"IncludeVectors is not supported when the vector property '{_vectorProperty!.ModelName}' is generated from a {_vectorProperty.Type.Name}; the stored embedding cannot be put back into it.");
        }
        return includeVectors;
    }

    private async Task<CollectionDescription> DescribeAsync(string operation, CancellationToken cancellationToken)
    {
        try
        {
            return _description ??= await _client.GetCollectionAsync(Name, cancellationToken).ConfigureAwait(false);
        }
        catch (VectorStoreClientException e)
        {
            throw Wrap(e, operation);
        }
    }

    /// <summary>A query for the page [skip, skip + top): the server returns the first top + skip, the caller drops skip.</summary>
    private SearchQuery PageQuery(float[]? vector, string? text, int top, int skip, System.Linq.Expressions.Expression<Func<TRecord, bool>>? filter, bool includeVectors) => new()
    {
        Vector = vector,
        Text = text,
        K = top + skip,
        Filter = filter is null ? null : FilterTranslator.Translate(filter, _model, TextOnlyPropertyName),
        IncludeVectors = includeVectors,
    };

    private async Task<IReadOnlyList<SearchHit>> QueryAsync(SearchQuery query, string operation, CancellationToken cancellationToken)
    {
        try
        {
            return await _client.QueryAsync(Name, query, cancellationToken).ConfigureAwait(false);
        }
        catch (VectorStoreClientException e)
        {
            throw Wrap(e, operation);
        }
    }

    private static string KeyToId(TKey key) => key switch
    {
        string s => s,
        Guid g => g.ToString("D"),
        null => throw new ArgumentNullException(nameof(key)),
        _ => throw new NotSupportedException($"Key values of type {key.GetType().Name} are not supported by VectorStore; use string or Guid."),
    };

    private float[]? VectorOf(TRecord record)
    {
        if (_vectorProperty is null)
        {
            return null;
        }
        return _vectorProperty.GetValueAsObject(record) switch
        {
            // An empty vector means "none given": the store embeds the text instead.
            ReadOnlyMemory<float> memory => memory.IsEmpty ? null : memory.ToArray(),
            float[] array => array.Length == 0 ? null : array,
            Embedding<float> embedding => embedding.Vector.ToArray(),
            _ => null,
        };
    }

    private Dictionary<string, object?> MetadataOf(TRecord record)
    {
        var metadata = new Dictionary<string, object?>();
        foreach (var property in _model.DataProperties)
        {
            if (property == _textProperty && !property.IsIndexed)
            {
                continue;
            }
            if (StorageValues.ToStorage(property.GetValueAsObject(record)) is { } value)
            {
                metadata[property.StorageName] = value;
            }
        }
        return metadata;
    }

    private TRecord ToRecord(string id, string? text, IReadOnlyDictionary<string, object?> metadata, float[]? vector, bool includeVectors)
    {
        var record = _model.CreateRecord<TRecord>();
        var keyProperty = _model.KeyProperty;
        keyProperty.SetValueAsObject(record, keyProperty.Type == typeof(Guid) ? Guid.Parse(id) : id);
        foreach (var property in _model.DataProperties)
        {
            object? value = property == _textProperty
                ? text
                : metadata.TryGetValue(property.StorageName, out var stored) ? StorageValues.FromStorage(stored, property.Type) : null;
            if (value is not null || !property.Type.IsValueType || Nullable.GetUnderlyingType(property.Type) is not null)
            {
                property.SetValueAsObject(record, value);
            }
        }
        if (includeVectors && _vectorProperty is not null && vector is not null)
        {
            var type = _vectorProperty.Type;
            _vectorProperty.SetValueAsObject(record,
                type == typeof(float[]) ? vector
                : type == typeof(Embedding<float>) ? new Embedding<float>(vector)
                : new ReadOnlyMemory<float>(vector));
        }
        return record;
    }

    private VectorStoreException Wrap(VectorStoreClientException exception, string operation) =>
        new(exception.Message, exception)
        {
            VectorStoreSystemName = SystemName,
            CollectionName = Name,
            OperationName = operation,
        };

    /// <summary>One <c>OrderBy</c> key: the property and its direction.</summary>
    private sealed record SortKey(PropertyModel Property, bool Ascending);

    /// <summary>
    /// Orders records by sort keys the way the store does: values without a value last in either direction, strings
    /// ordinal, other values by their own ordering.
    /// </summary>
    private sealed class RecordComparer(IReadOnlyList<SortKey> keys) : IComparer<TRecord>
    {
        public int Compare(TRecord? x, TRecord? y)
        {
            foreach (var key in keys)
            {
                int order = CompareValues(x is null ? null : key.Property.GetValueAsObject(x), y is null ? null : key.Property.GetValueAsObject(y), key.Ascending);
                if (order != 0)
                {
                    return order;
                }
            }
            return 0;
        }

        public static int CompareValues(object? x, object? y, bool ascending) => (x, y) switch
        {
            (null, null) => 0,
            (null, _) => 1,
            (_, null) => -1,
            (string a, string b) => ascending ? string.CompareOrdinal(a, b) : string.CompareOrdinal(b, a),
            _ => ascending ? Comparer<object>.Default.Compare(x, y) : Comparer<object>.Default.Compare(y, x),
        };
    }
}

/// <summary>
/// A schema-less collection: records are <see cref="Dictionary{TKey, TValue}"/> of property name to value, keyed
/// by <see cref="string"/> or <see cref="Guid"/> as the definition's key property says.
/// </summary>
public sealed class VectorStoreDbDynamicCollection : VectorStoreDbCollection<object, Dictionary<string, object?>>
{
    /// <summary>Opens (not creates) collection <paramref name="name"/> with the schema in <paramref name="options"/>.</summary>
    /// <param name="client">The remote or embedded client; not disposed by the collection.</param>
    /// <param name="name">The collection name.</param>
    /// <param name="options">Options whose <see cref="VectorStoreCollectionOptions.Definition"/> is required.</param>
    public VectorStoreDbDynamicCollection(IVectorStoreClient client, string name, VectorStoreDbCollectionOptions options)
        : base(client, name, options, static (o, generator) =>
        {
            var definition = o.Definition ?? throw new ArgumentException("A dynamic collection needs a VectorStoreCollectionDefinition.", nameof(options));
            if (definition.Properties.OfType<VectorStoreKeyProperty>().FirstOrDefault() is { } key && key.Type != typeof(string) && key.Type != typeof(Guid))
            {
                throw new NotSupportedException($"Key type {key.Type?.Name} (property '{key.Name}') is not supported by VectorStore; use string or Guid.");
            }
            return new VectorStoreDbModelBuilder().BuildDynamic(definition, generator);
        })
    {
    }
}
