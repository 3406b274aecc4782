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
    /// The most records a filtered <c>GetAsync</c> reads (the server's default query limit, <c>MaxK</c>); with
    /// <c>OrderBy</c>, every matching record must fit in it.
    /// </summary>
    public const int MaxFilteredRecords = 1_000;

    /// <summary>How many single-document calls a batch get or delete keeps in flight.</summary>
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
        // The SDK gets one document per call; overlap a bounded number of them and yield in key order.
        foreach (var chunk in keys.Chunk(ConcurrentCalls))
        {
            var records = await Task.WhenAll(chunk.Select(key => GetAsync(key, options, cancellationToken))).ConfigureAwait(false);
            foreach (var record in records)
            {
                if (record is not null)
                {
                    yield return record;
                }
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// The store has no "list by filter" call, so this is an exact (brute-force) filtered query that ignores
    /// similarity; at most <see cref="MaxFilteredRecords"/> records are read, and with <c>OrderBy</c> every match
    /// must fit in that (it is sorted here, not on the server).
    /// </remarks>
    public override async IAsyncEnumerable<TRecord> GetAsync(System.Linq.Expressions.Expression<Func<TRecord, bool>> filter, int top,
        FilteredRecordRetrievalOptions<TRecord>? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        options ??= new FilteredRecordRetrievalOptions<TRecord>();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Skip, nameof(options.Skip));
        bool includeVectors = CheckIncludeVectors(options.IncludeVectors);
        var orderBy = options.OrderBy?.Invoke(new FilteredRecordRetrievalOptions<TRecord>.OrderByDefinition()).Values ?? [];
        int wanted = top + options.Skip;
        if (orderBy.Count == 0 && wanted > MaxFilteredRecords)
        {
            throw new NotSupportedException($"A filtered get reads at most {MaxFilteredRecords} records; top + skip was {wanted}.");
        }
        string? json = FilterTranslator.Translate(filter, _model, TextOnlyPropertyName);
        var description = await DescribeAsync("Get", cancellationToken).ConfigureAwait(false);
        var probe = new float[description.Dimension];
        probe[0] = 1f;
        var query = new SearchQuery
        {
            Vector = probe,
            K = orderBy.Count == 0 ? wanted : MaxFilteredRecords,
            Filter = json,
            Exact = true,
            IncludeVectors = includeVectors,
        };
        var hits = await QueryAsync(query, "Get", cancellationToken).ConfigureAwait(false);
        IEnumerable<TRecord> records = hits.Select(h => ToRecord(h.Id, h.Text, h.Metadata, h.Vector, includeVectors));
        if (orderBy.Count > 0)
        {
            if (hits.Count == MaxFilteredRecords)
            {
                throw new NotSupportedException($"OrderBy needs every matching record, and more than {MaxFilteredRecords} records match; narrow the filter.");
            }
            IOrderedEnumerable<TRecord>? ordered = null;
            foreach (var sort in orderBy)
            {
                var property = _model.GetDataOrKeyProperty(sort.PropertySelector);
                Func<TRecord, object?> keyOf = property.GetValueAsObject;
                ordered = (ordered, sort.Ascending) switch
                {
                    (null, true) => records.OrderBy(keyOf, NullsFirstComparer.Instance),
                    (null, false) => records.OrderByDescending(keyOf, NullsFirstComparer.Instance),
                    (_, true) => ordered.ThenBy(keyOf, NullsFirstComparer.Instance),
                    _ => ordered.ThenByDescending(keyOf, NullsFirstComparer.Instance),
                };
            }
            records = ordered!;
        }
        foreach (var record in records.Skip(options.Skip).Take(top))
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
                vector = (await _client.EmbedAsync([text!], description.Encoder, cancellationToken).ConfigureAwait(false))[0];
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

    /// <summary>Orders nulls first and compares the rest with their own ordering.</summary>
    private sealed class NullsFirstComparer : IComparer<object?>
    {
        public static readonly NullsFirstComparer Instance = new();

        public int Compare(object? x, object? y) => (x, y) switch
        {
            (null, null) => 0,
            (null, _) => -1,
            (_, null) => 1,
            _ => Comparer<object>.Default.Compare(x, y),
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
