using System.Collections;
using System.Globalization;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Proto = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.Client;

/// <summary>
/// Conversions between SDK models and the wire contract, for both clients: the remote client sends these messages
/// over gRPC, the embedded one hands them to the same in-process API the server's gRPC services call
/// (<c>VectorStoreDb.Wire.WireApi</c>), so both build and read identical messages. Metadata is checked here, before
/// anything is sent, with the same rules and field names the engine uses.
/// </summary>
internal static class ProtoMapping
{
    public static string ToWire(DistanceMetric metric) => metric switch
    {
        DistanceMetric.Cosine => "cosine",
        DistanceMetric.Dot => "dot",
        DistanceMetric.L2 => "l2",
        _ => throw Invalid("metric", $"unknown metric {metric}."),
    };

    public static DistanceMetric MetricFromWire(string metric) => metric.Trim().ToLowerInvariant() switch
    {
        "dot" => DistanceMetric.Dot,
        "l2" => DistanceMetric.L2,
        _ => DistanceMetric.Cosine,
    };

    public static CollectionDescription FromProto(Proto.CollectionInfo info) => new(
        info.Name,
        MetricFromWire(info.Metric),
        string.IsNullOrEmpty(info.Encoder) ? null : info.Encoder,
        info.Dimension,
        info.Index,
        info.M,
        info.EfConstruction,
        info.Shards,
        info.DocumentCount,
        DateTimeOffset.TryParse(info.CreatedAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var created) ? created : default,
        string.IsNullOrEmpty(info.Projection) ? "none" : info.Projection,
        info.IndexDimension,
        info.Rescore,
        info.PcaSampleSize,
        info.ProjectionReady)
    {
        TextIndex = info.Text ? new TextIndexDescription(info.TextLanguage, info.Bm25K1, info.Bm25B) : null,
        DefaultMode = HybridWireNames.ModeFromWire(info.DefaultMode),
        Quantization = string.IsNullOrEmpty(info.Quantization) ? "none" : info.Quantization,
        Oversampling = info.Oversampling,
        OnDisk = info.OnDisk,
        Chunking = info.Chunking ? new ChunkingDescription(info.ChunkTokens == 0 ? null : info.ChunkTokens, info.ChunkOverlap) : null,
    };

    public static Proto.QueryRequest ToProto(string collection, SearchQuery query)
    {
        var request = new Proto.QueryRequest { Collection = collection, K = query.K, Exact = query.Exact, IncludeVectors = query.IncludeVectors };
        if (query.Text is not null)
        {
            request.Text = query.Text;
        }
        if (query.Vector is not null)
        {
            request.Vector.AddRange(query.Vector);
        }
        if (!string.IsNullOrWhiteSpace(query.Filter))
        {
            request.Filter = FilterToStruct(query.Filter);
        }
        if (query.Ef is { } ef)
        {
            request.Ef = ef;
        }
        AddHybrid(request, query);
        return request;
    }

    public static Proto.QueryBatchRequest ToProto(string collection, IReadOnlyList<SearchQuery> queries)
    {
        var request = new Proto.QueryBatchRequest { Collection = collection };
        foreach (var query in queries)
        {
            ArgumentNullException.ThrowIfNull(query, nameof(queries));
            // The batch names the collection once; each query leaves its own empty.
            var one = ToProto(collection, query);
            one.Collection = string.Empty;
            request.Queries.Add(one);
        }
        return request;
    }

    public static IReadOnlyList<IReadOnlyList<SearchHit>> FromProto(Proto.QueryBatchResponse response, IReadOnlyList<SearchQuery> queries) =>
        [.. response.Responses.Select((r, i) => FromProto(r, i < queries.Count && queries[i].IncludeVectors))];

    public static IReadOnlyList<SearchHit> FromProto(Proto.QueryResponse response, bool includeVectors) =>
        [.. response.Results.Select(r => new SearchHit(r.Id, r.Score, r.HasText ? r.Text : null, FromStruct(r.Metadata), includeVectors ? [.. r.Vector] : null)
        {
            Explanation = Explanation(r),
            Highlight = Highlight(r),
        })];

    /// <summary>Copies the hybrid-search members of a query onto the wire request.</summary>
    private static void AddHybrid(Proto.QueryRequest request, SearchQuery query)
    {
        if (query.Mode is { } mode)
        {
            request.Mode = HybridWireNames.ToWire(mode);
        }
        if (query.Prefetch is { } prefetch)
        {
            request.Prefetch = prefetch;
        }
        if (query.Fusion is { } fusion)
        {
            request.Fusion = HybridWireNames.ToWire(fusion);
        }
        if (query.RrfK is { } rrfK)
        {
            request.RrfK = rrfK;
        }
        if (query.DenseWeight is { } denseWeight)
        {
            request.DenseWeight = denseWeight;
        }
        if (query.TextWeight is { } textWeight)
        {
            request.TextWeight = textWeight;
        }
        request.Explain = query.Explain;
        request.Chunks = query.Chunks;
    }

    /// <summary>A create request carrying every option that is set; unset options take the server's defaults.</summary>
    public static Proto.CreateCollectionRequest ToProto(string name, CollectionOptions? options)
    {
        var request = new Proto.CreateCollectionRequest { Name = name };
        if (options is null)
        {
            return request;
        }
        if (options.Metric is { } metric)
        {
            request.Metric = ToWire(metric);
        }
        if (options.Encoder is not null)
        {
            request.Encoder = options.Encoder;
        }
        if (options.Dimension is { } dimension)
        {
            request.Dimension = dimension;
        }
        if (options.Index is not null)
        {
            request.Index = options.Index;
        }
        if (options.M is { } m)
        {
            request.M = m;
        }
        if (options.EfConstruction is { } ef)
        {
            request.EfConstruction = ef;
        }
        if (options.Shards is { } shards)
        {
            request.Shards = shards;
        }
        AddText(request, options);
        if (options.Projection is not null)
        {
            request.Projection = options.Projection;
        }
        if (options.IndexDimension is { } indexDimension)
        {
            request.IndexDimension = indexDimension;
        }
        if (options.Rescore is { } rescore)
        {
            request.Rescore = rescore;
        }
        if (options.Quantization is not null)
        {
            request.Quantization = options.Quantization;
        }
        if (options.Oversampling is { } oversampling)
        {
            request.Oversampling = oversampling;
        }
        if (options.OnDisk is { } onDisk)
        {
            request.OnDisk = onDisk;
        }
        if (options.PcaSampleSize is { } pcaSampleSize)
        {
            request.PcaSampleSize = pcaSampleSize;
        }
        if (options.ProjectionSeed is { } seed)
        {
            request.ProjectionSeed = seed;
        }
        if (options.Chunking is { } chunking)
        {
            request.Chunking = chunking;
        }
        if (options.ChunkTokens is { } chunkTokens)
        {
            request.ChunkTokens = chunkTokens;
        }
        if (options.ChunkOverlap is { } chunkOverlap)
        {
            request.ChunkOverlap = chunkOverlap;
        }
        return request;
    }

    /// <summary>Copies the full-text members of collection options onto the wire request.</summary>
    private static void AddText(Proto.CreateCollectionRequest request, CollectionOptions options)
    {
        if (options.Text is { } text)
        {
            request.Text = text;
        }
        if (options.TextLanguage is not null)
        {
            request.TextLanguage = options.TextLanguage;
        }
        if (options.Bm25K1 is { } k1)
        {
            request.Bm25K1 = k1;
        }
        if (options.Bm25B is { } b)
        {
            request.Bm25B = b;
        }
        if (options.DefaultMode is { } mode)
        {
            request.DefaultMode = HybridWireNames.ToWire(mode);
        }
    }

    private static TextHighlight? Highlight(Proto.QueryResult result) =>
        result.Highlight is { } h ? new TextHighlight(h.Chunk, h.Start, h.End, h.Text) : null;

    private static SearchHitExplanation? Explanation(Proto.QueryResult result) =>
        result.HasDenseRank || result.HasTextRank
            ? new SearchHitExplanation(
                result.HasDenseRank ? result.DenseRank : null, result.HasDenseRank ? result.DenseScore : null,
                result.HasTextRank ? result.TextRank : null, result.HasTextRank ? result.TextScore : null)
            : null;

    public static Proto.UpsertRequest ToProto(string collection, IEnumerable<DocumentWrite> documents)
    {
        var request = new Proto.UpsertRequest { Collection = collection };
        int i = 0;
        foreach (var document in documents)
        {
            request.Documents.Add(ToProto(document, i++));
        }
        return request;
    }

    public static Proto.ListDocumentsRequest ToListRequest(string collection, string? after, int limit, bool includeVectors, int offset)
    {
        var request = new Proto.ListDocumentsRequest { Collection = collection, Limit = limit, Offset = offset, IncludeVectors = includeVectors };
        if (after is not null)
        {
            request.After = after;
        }
        return request;
    }

    public static Proto.GetDocumentsRequest ToBatchGetRequest(string collection, IEnumerable<string> ids, bool includeVectors)
    {
        var request = new Proto.GetDocumentsRequest { Collection = collection, IncludeVectors = includeVectors };
        int i = 0;
        foreach (string id in ids)
        {
            // A null would make protobuf throw ArgumentNullException; refuse it the way the engine does.
            request.Ids.Add(id ?? throw Invalid($"ids[{i}]", "must not be null."));
            i++;
        }
        return request;
    }

    public static IReadOnlyList<VectorDocument> FromProto(Proto.GetDocumentsResponse response, bool includeVectors) =>
        [.. response.Documents.Select(d => FromProto(d, includeVectors))];

    public static Proto.ScrollRequest ToProto(string collection, ScrollQuery query)
    {
        var request = new Proto.ScrollRequest { Collection = collection, Limit = query.Limit, IncludeVectors = query.IncludeVectors };
        if (!string.IsNullOrWhiteSpace(query.Filter))
        {
            request.Filter = FilterToStruct(query.Filter);
        }
        if (query.OrderBy is { } order)
        {
            request.OrderBy = new Proto.ScrollOrder { Field = order.Field ?? "", Descending = order.Descending };
        }
        if (query.After is not null)
        {
            request.After = query.After;
        }
        return request;
    }

    public static ScrollResult FromProto(Proto.ScrollResponse response, bool includeVectors) =>
        new([.. response.Documents.Select(d => FromProto(d, includeVectors))], response.HasNext ? response.Next : null);

    public static VectorDocumentPage FromProto(Proto.ListDocumentsResponse response, bool includeVectors) =>
        new([.. response.Documents.Select(d => FromProto(d, includeVectors))], response.Total, response.HasNextAfter ? response.NextAfter : null);

    /// <summary>A document as SDK users read it; the vector only when asked for (an empty repeated field is not "no vector").</summary>
    public static VectorDocument FromProto(Proto.Document document, bool includeVector) =>
        new(document.Id, document.HasText ? document.Text : null, FromStruct(document.Metadata), includeVector ? [.. document.Vector] : null)
        {
            Chunks = document.Chunks.Count == 0 ? null : [.. document.Chunks.Select(c => new TextChunkSpan(c.Chunk, c.Start, c.End))],
        };

    public static Proto.EmbedRequest ToEmbedRequest(IReadOnlyList<string> texts, string? encoder, EmbeddingInputType inputType = EmbeddingInputType.Document)
    {
        var request = new Proto.EmbedRequest
        {
            InputType = inputType == EmbeddingInputType.Query ? Proto.EmbeddingInputType.Query : Proto.EmbeddingInputType.Document,
        };
        for (int i = 0; i < texts.Count; i++)
        {
            // A null would make protobuf throw ArgumentNullException; refuse it the way the engine does.
            request.Texts.Add(texts[i] ?? throw Invalid($"texts[{i}]", "must be a non-empty string."));
        }
        if (encoder is not null)
        {
            request.Encoder = encoder;
        }
        return request;
    }

    public static IReadOnlyList<float[]> FromProto(Proto.EmbedResponse response) => [.. response.Embeddings.Select(e => e.Values.ToArray())];

    public static IReadOnlyList<ModelDescription> FromProto(Proto.ListModelsResponse response) =>
        [.. response.Models.Select(m => new ModelDescription(m.Name, m.Dimension, m.MaxTokens, m.Kind))];

    public static Proto.CreateSnapshotRequest ToSnapshotRequest(string collection, string? name)
    {
        var request = new Proto.CreateSnapshotRequest { Collection = collection };
        if (name is not null)
        {
            request.Name = name;
        }
        return request;
    }

    public static ClusterStatusDescription FromProto(Proto.ClusterStatusResponse status) => new(
        status.Node,
        [.. status.Nodes.Select(n => new ClusterNodeDescription(n.Name, n.Address, n.Status))],
        [.. status.Collections.Select(c => new ClusterCollectionDescription(c.Name, c.Shards, c.Replicas, c.WriteConsistency,
            [.. c.ShardStates.Select(s => new ClusterShardDescription(s.Shard,
                [.. s.Replicas.Select(r => new ClusterReplicaDescription(r.Node, r.Reachable, r.AppliedSequence, r.LogFirstSequence, r.Serving, r.Documents,
                    r.HasError ? r.Error : null))]))]))]);

    public static IReadOnlyList<ReplicaMoveDescription> FromProto(Proto.ReplicaMovesResponse moves) =>
        [.. moves.Moves.Select(m => new ReplicaMoveDescription(m.Collection, m.Shard, m.From, m.To))];

    public static SnapshotDescription FromProto(Proto.SnapshotInfo info) =>
        new(info.Collection, info.Name, info.SizeBytes, DateTimeOffset.FromUnixTimeMilliseconds(info.CreatedAtUnixMs));

    public static Proto.DocumentInput ToProto(DocumentWrite document, int index)
    {
        string field = $"documents[{index}]";
        if (document is null)
        {
            throw Invalid(field, "must not be null.");
        }
        var input = new Proto.DocumentInput();
        if (document.Id is not null)
        {
            input.Id = document.Id;
        }
        if (document.Text is not null)
        {
            input.Text = document.Text;
        }
        if (document.Vector is not null)
        {
            input.Vector.AddRange(document.Vector);
        }
        if (document.Metadata is not null)
        {
            input.Metadata = MetadataToStruct(document.Metadata, $"{field}.metadata");
        }
        return input;
    }

    public static Struct MetadataToStruct(IEnumerable<KeyValuePair<string, object?>> metadata, string field)
    {
        var result = new Struct();
        foreach (var (key, value) in metadata)
        {
            result.Fields[key] = MetadataValue(value, $"{field}.{key}", nested: false);
        }
        return result;
    }

    private static Value MetadataValue(object? value, string field, bool nested) => value switch
    {
        null => throw Invalid(field, "null is not a metadata value; leave the key out instead."),
        string s => Value.ForString(s),
        bool b => Value.ForBool(b),
        byte or sbyte or short or ushort or int or uint or long or ulong or float or double or decimal => Number(value, field),
        JsonElement e => JsonMetadataValue(e, field, nested),
        IDictionary or IEnumerable<KeyValuePair<string, object?>> => throw Invalid(field, "nested objects are not supported; use strings, numbers, booleans or arrays of those."),
        IEnumerable items when !nested => Value.ForList([.. items.Cast<object?>().Select((item, i) => MetadataValue(item, $"{field}[{i}]", nested: true))]),
        IEnumerable => throw Invalid(field, "arrays cannot nest."),
        _ => throw Invalid(field, $"values of type {value.GetType().Name} are not supported; use strings, numbers, booleans or arrays of those."),
    };

    private static Value Number(object value, string field)
    {
        double number = Convert.ToDouble(value, CultureInfo.InvariantCulture);
        return double.IsFinite(number) ? Value.ForNumber(number) : throw Invalid(field, "numbers must be finite.");
    }

    private static Value JsonMetadataValue(JsonElement element, string field, bool nested) => element.ValueKind switch
    {
        JsonValueKind.String => Value.ForString(element.GetString()!),
        JsonValueKind.Number => Value.ForNumber(element.GetDouble()),
        JsonValueKind.True => Value.ForBool(true),
        JsonValueKind.False => Value.ForBool(false),
        JsonValueKind.Array when !nested => Value.ForList([.. element.EnumerateArray().Select((item, i) => JsonMetadataValue(item, $"{field}[{i}]", nested: true))]),
        JsonValueKind.Array => throw Invalid(field, "arrays may hold only strings, numbers and booleans."),
        JsonValueKind.Object => throw Invalid(field, "nested objects are not supported; use strings, numbers, booleans or arrays of those."),
        _ => throw Invalid(field, "null is not a metadata value; leave the key out instead."),
    };

    /// <summary>Parses a JSON filter into a Struct; malformed JSON is refused naming <c>filter</c>.</summary>
    public static Struct FilterToStruct(string filter)
    {
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
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Invalid("filter", "a filter must be a JSON object such as {\"kind\":\"pet\"}.");
            }
            return JsonToValue(document.RootElement).StructValue;
        }
    }

    private static Value JsonToValue(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => Value.ForStruct(ToStruct(element)),
        JsonValueKind.Array => Value.ForList([.. element.EnumerateArray().Select(JsonToValue)]),
        JsonValueKind.String => Value.ForString(element.GetString()!),
        JsonValueKind.Number => Value.ForNumber(element.GetDouble()),
        JsonValueKind.True => Value.ForBool(true),
        JsonValueKind.False => Value.ForBool(false),
        _ => Value.ForNull(),
    };

    private static Struct ToStruct(JsonElement element)
    {
        var result = new Struct();
        foreach (var property in element.EnumerateObject())
        {
            result.Fields[property.Name] = JsonToValue(property.Value);
        }
        return result;
    }

    /// <summary>Metadata as SDK users read it: strings, doubles, bools and <c>object?[]</c>.</summary>
    public static IReadOnlyDictionary<string, object?> FromStruct(Struct? metadata)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (metadata is not null)
        {
            foreach (var (key, value) in metadata.Fields)
            {
                result[key] = FromValue(value);
            }
        }
        return result;
    }

    private static object? FromValue(Value value) => value.KindCase switch
    {
        Value.KindOneofCase.StringValue => value.StringValue,
        Value.KindOneofCase.NumberValue => value.NumberValue,
        Value.KindOneofCase.BoolValue => value.BoolValue,
        Value.KindOneofCase.ListValue => value.ListValue.Values.Select(FromValue).ToArray(),
        Value.KindOneofCase.StructValue => FromStruct(value.StructValue),
        _ => null,
    };

    private static VectorStoreClientException Invalid(string field, string message) =>
        new(VectorStoreErrorCode.InvalidArgument, $"{field}: {message}", field);
}
