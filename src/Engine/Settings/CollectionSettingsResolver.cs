using VectorStoreDb.Embedding;
using VectorStoreDb.Engine.Text;
using VectorStoreDb.Engine.Validation;
using VectorStoreDb.Index;
using VectorStoreDb.Index.Quantization;

namespace VectorStoreDb.Engine.Settings;

/// <summary>
/// Turns a <see cref="CreateCollectionRequest"/> into the <see cref="CollectionSettings"/> it stands for: every
/// omitted member takes its <see cref="CollectionDefaults"/> value and every given one is checked against its
/// documented range. The only place a new collection's settings are decided.
/// </summary>
internal sealed class CollectionSettingsResolver(VectorStoreOptions options, EncoderRegistry encoders)
{
    private LimitsOptions Limits => options.Limits;

    public CollectionSettings Resolve(CreateCollectionRequest request)
    {
        string name = NameRules.CollectionName(request.Name);
        var metric = CollectionDefaults.Metric;
        if (request.Metric is not null && !MetricExtensions.TryParse(request.Metric, out metric))
        {
            throw VectorStoreException.Invalid("metric", $"unknown metric '{request.Metric}'; use cosine, dot or l2.");
        }
        var (encoder, dimension) = ResolveEncoder(request);
        if (dimension < 1 || dimension > Limits.MaxDimension)
        {
            throw VectorStoreException.Invalid("dimension", $"must be between 1 and {Limits.MaxDimension}, was {dimension}.");
        }
        string index = request.Index?.Trim().ToLowerInvariant() ?? CollectionDefaults.Index;
        if (!IndexFactory.SupportedKinds.Contains(index))
        {
            throw VectorStoreException.Invalid("index", $"unknown index kind '{request.Index}'; use one of {string.Join(", ", IndexFactory.SupportedKinds)}.");
        }
        int m = request.M ?? CollectionDefaults.M;
        if (m < CollectionDefaults.MinM || m > CollectionDefaults.MaxM)
        {
            throw VectorStoreException.Invalid("m", $"must be between {CollectionDefaults.MinM} and {CollectionDefaults.MaxM}, was {m}.");
        }
        int efConstruction = request.EfConstruction ?? CollectionDefaults.EfConstruction;
        if (efConstruction < m || efConstruction > CollectionDefaults.MaxEfConstruction)
        {
            throw VectorStoreException.Invalid("efConstruction", $"must be between m ({m}) and {CollectionDefaults.MaxEfConstruction}, was {efConstruction}.");
        }
        int shards = request.Shards ?? options.DefaultShards;
        if (shards < 1 || shards > CollectionDefaults.MaxShards)
        {
            throw VectorStoreException.Invalid("shards", $"must be between 1 and {CollectionDefaults.MaxShards}, was {shards}.");
        }
        var (projection, indexDimension, rescore, seed) = ResolveProjection(request, dimension);
        var (quantization, oversampling) = ResolveQuantization(request, index, projection);
        if (quantization != CollectionDefaults.Quantization)
        {
            rescore = request.Rescore ?? CollectionDefaults.RescoreWithQuantization;
        }
        int pcaSampleSize = request.PcaSampleSize ?? CollectionDefaults.PcaSampleSize;
        if (pcaSampleSize < CollectionDefaults.MinPcaSampleSize || pcaSampleSize > CollectionDefaults.MaxPcaSampleSize)
        {
            throw VectorStoreException.Invalid("pcaSampleSize", $"must be between {CollectionDefaults.MinPcaSampleSize} and {CollectionDefaults.MaxPcaSampleSize}, was {pcaSampleSize}.");
        }
        var (chunking, chunkTokens, chunkOverlap) = ResolveChunking(request, encoder);
        var (text, mode) = ResolveText(request, encoder is not null);
        return new CollectionSettings
        {
            Name = name,
            Metric = metric,
            Encoder = encoder?.Name,
            Dimension = dimension,
            Index = index,
            M = m,
            EfConstruction = efConstruction,
            Shards = shards,
            Projection = projection,
            IndexDimension = indexDimension,
            Rescore = rescore,
            Quantization = quantization,
            Oversampling = oversampling,
            OnDisk = request.OnDisk ?? false,
            ProjectionSeed = seed,
            PcaSampleSize = pcaSampleSize,
            Chunking = chunking,
            ChunkTokens = chunkTokens,
            ChunkOverlap = chunkOverlap,
            TextIndex = text,
            DefaultMode = mode,
        };
    }

    /// <summary>The encoder (null for raw vectors) and the dimension it fixes, or the request's dimension without one.</summary>
    private (ITextEncoder? Encoder, int Dimension) ResolveEncoder(CreateCollectionRequest request)
    {
        string? name = request.Encoder;
        if (name is null && request.Dimension is null)
        {
            name = encoders.DefaultName;
        }
        if (string.Equals(name, "none", StringComparison.OrdinalIgnoreCase) || name == "")
        {
            name = null;
        }
        if (name is null)
        {
            return (null, request.Dimension ?? throw VectorStoreException.Invalid("dimension", "a collection without an encoder needs a dimension."));
        }
        if (!encoders.TryGet(name, out var encoder))
        {
            throw VectorStoreException.Invalid("encoder", $"unknown encoder '{name}'; known: {string.Join(", ", encoders.List().Select(e => e.Name))} (or 'none' with a dimension for raw vectors).");
        }
        if (request.Dimension is { } given && given != encoder.Dimension)
        {
            throw VectorStoreException.Invalid("dimension", $"encoder '{encoder.Name}' produces {encoder.Dimension}-dimensional vectors, not {given}; leave dimension out to use the encoder's.");
        }
        return (encoder, encoder.Dimension);
    }

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
        if (request.ChunkTokens is { } given && (given < CollectionDefaults.MinChunkTokens || given > window))
        {
            throw VectorStoreException.Invalid("chunkTokens", $"must be between {CollectionDefaults.MinChunkTokens} and {window} (the window of encoder '{encoder.Name}'), was {given}.");
        }
        int effective = CollectionDefaults.EffectiveChunkTokens(tokens, window);
        int overlap = request.ChunkOverlap ?? CollectionDefaults.Overlap(effective);
        if (overlap < 0 || overlap >= effective)
        {
            throw VectorStoreException.Invalid("chunkOverlap", $"must be between 0 and {effective - 1} (less than the chunk's {effective} tokens), was {overlap}.");
        }
        return (true, tokens, overlap);
    }

    private static (string Kind, int IndexDimension, bool Rescore, ulong Seed) ResolveProjection(CreateCollectionRequest request, int dimension)
    {
        string kind = request.Projection?.Trim().ToLowerInvariant() ?? CollectionDefaults.Projection;
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
        int indexDimension = request.IndexDimension ?? CollectionDefaults.ProjectedDimension(dimension);
        if (indexDimension < 1 || indexDimension > dimension)
        {
            throw VectorStoreException.Invalid("indexDimension", $"must be between 1 and the vector dimension ({dimension}), was {indexDimension}.");
        }
        return (kind, indexDimension, request.Rescore ?? CollectionDefaults.RescoreWithProjection, request.ProjectionSeed ?? CollectionDefaults.ProjectionSeed);
    }

    /// <summary>
    /// The quantization kind's wire name and the oversampling (0 = the kind's default). The exact scan runs over int8
    /// or binary codes; an HNSW graph walks int8 codes only (Hamming distances tie too often to steer a greedy walk),
    /// and a projected collection already searches a reduced copy, so those combinations are refused rather than
    /// silently searching floats.
    /// </summary>
    private static (string Kind, float Oversampling) ResolveQuantization(CreateCollectionRequest request, string index, string projection)
    {
        if (!QuantizationSettings.TryParseKind(request.Quantization, out var kind))
        {
            throw VectorStoreException.Invalid("quantization", $"unknown quantization '{request.Quantization}'; use none, int8 or binary.");
        }
        if (kind == QuantizationKind.None)
        {
            if (request.Oversampling is not null)
            {
                throw VectorStoreException.Invalid("oversampling", "needs a quantization (int8 or binary).");
            }
            return (CollectionDefaults.Quantization, 0);
        }
        if (index != IndexKinds.Exact && kind != QuantizationKind.Int8)
        {
            throw VectorStoreException.Invalid("quantization", $"{QuantizationSettings.ToWireName(kind)} applies to the exact index (\"index\": \"exact\"); the {index} graph walks int8 codes only.");
        }
        if (projection != ProjectionKinds.None)
        {
            throw VectorStoreException.Invalid("quantization", "cannot be combined with a projection.");
        }
        float oversampling = request.Oversampling ?? 0;
        if (request.Oversampling is not null && (!float.IsFinite(oversampling) || oversampling < 1 || oversampling > CollectionDefaults.MaxOversampling))
        {
            throw VectorStoreException.Invalid("oversampling", $"must be between 1 and {CollectionDefaults.MaxOversampling}, was {request.Oversampling}.");
        }
        return (QuantizationSettings.ToWireName(kind), oversampling);
    }

    /// <summary>
    /// The full-text index (null for none) and the default query mode. The index is on unless the request turns it off
    /// (<c>"text": false</c>) when the collection embeds its documents with an encoder or names a text option: next to
    /// embedding, indexing a document's words costs ~0.02 ms of hundreds, and hybrid queries gain +0.06–0.08 nDCG@10 on
    /// SciFact (docs/benchmarks/2026-12-06-encoders-scifact.md). Raw-vector collections stay without one unless asked:
    /// their text is optional payload. Existing collections keep what their persisted settings say (no index when
    /// <c>textIndex</c> is null or absent), because the default is decided here, at creation, and nowhere else.
    /// The default mode stays dense: a query's score stays the metric's, chunk hits stay available, and hybrid is one
    /// <c>"mode"</c> away.
    /// </summary>
    private static (TextIndexSettings? Text, string DefaultMode) ResolveText(CreateCollectionRequest request, bool hasEncoder)
    {
        bool options = request.TextLanguage is not null || request.Bm25K1 is not null || request.Bm25B is not null;
        bool text = request.Text ?? (options || hasEncoder);
        if (!text && options)
        {
            throw VectorStoreException.Invalid("text", "textLanguage, bm25K1 and bm25B need \"text\": true.");
        }
        TextIndexSettings? textSettings = null;
        if (text)
        {
            string language = request.TextLanguage?.Trim().ToLowerInvariant() ?? CollectionDefaults.TextLanguage;
            if (!TextAnalyzer.Languages.Contains(language))
            {
                throw VectorStoreException.Invalid("textLanguage", $"unknown language '{request.TextLanguage}'; use {string.Join(" or ", TextAnalyzer.Languages)}.");
            }
            float k1 = request.Bm25K1 ?? CollectionDefaults.Bm25K1;
            if (!float.IsFinite(k1) || k1 < 0f || k1 > 100f)
            {
                throw VectorStoreException.Invalid("bm25K1", $"must be between 0 and 100, was {k1}.");
            }
            float b = request.Bm25B ?? CollectionDefaults.Bm25B;
            if (!float.IsFinite(b) || b < 0f || b > 1f)
            {
                throw VectorStoreException.Invalid("bm25B", $"must be between 0 and 1, was {b}.");
            }
            textSettings = new TextIndexSettings { Language = language, K1 = k1, B = b };
        }
        string mode = request.DefaultMode?.Trim().ToLowerInvariant() ?? CollectionDefaults.DefaultMode;
        if (!QueryModes.All.Contains(mode))
        {
            throw VectorStoreException.Invalid("defaultMode", $"unknown mode '{request.DefaultMode}'; use {string.Join(", ", QueryModes.All)}.");
        }
        if (mode != QueryModes.Dense && textSettings is null)
        {
            throw VectorStoreException.Invalid("defaultMode", $"{mode} needs a text index (\"text\": true).");
        }
        if (mode == QueryModes.Hybrid && !hasEncoder)
        {
            throw VectorStoreException.Invalid("defaultMode", "hybrid needs an encoder to embed the query text.");
        }
        return (textSettings, mode);
    }
}
