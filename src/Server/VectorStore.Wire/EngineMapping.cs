using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using VectorStoreDb.Engine;
using VectorStoreDb.Engine.Filtering;
using VectorStoreDb.Engine.Storage;
using VectorStoreDb.Index;
using V1 = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.Wire;

/// <summary>
/// Conversions between the proto messages and engine types, for the gRPC services and the embedded client alike.
/// Absent optional fields become null so the engine applies its own defaults; validation stays in the engine.
/// </summary>
public static class EngineMapping
{
    public static V1.CollectionInfo ToProto(this CollectionInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        var s = info.Settings;
        return new V1.CollectionInfo
        {
            Name = s.Name,
            Metric = s.Metric.ToWireName(),
            Encoder = s.Encoder ?? "",
            Dimension = s.Dimension,
            Index = s.Index,
            M = s.M,
            EfConstruction = s.EfConstruction,
            Shards = s.Shards,
            DocumentCount = info.DocumentCount,
            CreatedAt = s.CreatedAt.ToString("O", CultureInfo.InvariantCulture),
            Text = s.TextIndex is not null,
            TextLanguage = s.TextIndex?.Language ?? "",
            Bm25K1 = s.TextIndex?.K1 ?? 0f,
            Bm25B = s.TextIndex?.B ?? 0f,
            DefaultMode = s.DefaultMode,
            Projection = s.Projection,
            IndexDimension = s.ReportedIndexDimension(),
            Rescore = s.ReportedRescore(),
            Quantization = s.ReportedQuantization(),
            Oversampling = s.ReportedOversampling(),
            OnDisk = s.OnDisk,
            PcaSampleSize = s.PcaSampleSize,
            ProjectionReady = info.ProjectionReady,
            Chunking = s.Chunking,
            // Proto3 has no null for a plain int: 0 is "the encoder's window" on the wire as in the engine.
            ChunkTokens = s.ReportedChunkTokens() ?? 0,
            ChunkOverlap = s.ChunkOverlap,
        };
    }

    public static CreateCollectionRequest ToEngine(this V1.CreateCollectionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new CreateCollectionRequest
        {
            Name = request.Name,
            Metric = request.HasMetric ? request.Metric : null,
            Encoder = request.HasEncoder ? request.Encoder : null,
            Dimension = request.HasDimension ? request.Dimension : null,
            Index = request.HasIndex ? request.Index : null,
            M = request.HasM ? request.M : null,
            EfConstruction = request.HasEfConstruction ? request.EfConstruction : null,
            Shards = request.HasShards ? request.Shards : null,
            Text = request.HasText ? request.Text : null,
            TextLanguage = request.HasTextLanguage ? request.TextLanguage : null,
            Bm25K1 = request.HasBm25K1 ? request.Bm25K1 : null,
            Bm25B = request.HasBm25B ? request.Bm25B : null,
            DefaultMode = request.HasDefaultMode ? request.DefaultMode : null,
            Projection = request.HasProjection ? request.Projection : null,
            IndexDimension = request.HasIndexDimension ? request.IndexDimension : null,
            Rescore = request.HasRescore ? request.Rescore : null,
            Quantization = request.HasQuantization ? request.Quantization : null,
            Oversampling = request.HasOversampling ? request.Oversampling : null,
            OnDisk = request.HasOnDisk ? request.OnDisk : null,
            PcaSampleSize = request.HasPcaSampleSize ? request.PcaSampleSize : null,
            ProjectionSeed = request.HasProjectionSeed ? request.ProjectionSeed : null,
            Chunking = request.HasChunking ? request.Chunking : null,
            ChunkTokens = request.HasChunkTokens ? request.ChunkTokens : null,
            ChunkOverlap = request.HasChunkOverlap ? request.ChunkOverlap : null,
        };
    }

    /// <param name="document">The wire document.</param>
    /// <param name="index">Its position in the request, so refusals name <c>documents[i]</c>.</param>
    public static DocumentInput ToEngine(this V1.DocumentInput document, int index)
    {
        ArgumentNullException.ThrowIfNull(document);
        return new DocumentInput
        {
            Id = document.HasId ? document.Id : null,
            Text = document.HasText ? document.Text : null,
            Vector = document.Vector.Count > 0 ? [.. document.Vector] : null,
            Metadata = document.Metadata is null ? null : MetadataFromStruct(document.Metadata, $"documents[{index}].metadata"),
        };
    }

    public static QueryRequest ToEngine(this V1.QueryRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var query = new QueryRequest
        {
            Text = request.HasText ? request.Text : null,
            Vector = request.Vector.Count > 0 ? [.. request.Vector] : null,
            Filter = FilterFromStruct(request.Filter),
            Exact = request.Exact,
            Ef = request.HasEf ? request.Ef : null,
            IncludeVectors = request.IncludeVectors,
            Mode = request.HasMode ? request.Mode : null,
            Prefetch = request.HasPrefetch ? request.Prefetch : null,
            Fusion = request.HasFusion ? request.Fusion : null,
            RrfK = request.HasRrfK ? request.RrfK : null,
            DenseWeight = request.HasDenseWeight ? request.DenseWeight : null,
            TextWeight = request.HasTextWeight ? request.TextWeight : null,
            Explain = request.Explain,
            Chunks = request.Chunks,
        };
        // An absent k keeps the engine's default rather than restating it here.
        return request.HasK ? query with { K = request.K } : query;
    }

    public static ScrollRequest ToEngine(this V1.ScrollRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var scroll = new ScrollRequest
        {
            Filter = FilterFromStruct(request.Filter),
            OrderBy = request.OrderBy is { } order ? new ScrollOrder(order.Field, order.Descending) : null,
            After = request.HasAfter ? request.After : null,
            IncludeVectors = request.IncludeVectors,
        };
        // An absent limit keeps the engine's default rather than restating it here.
        return request.HasLimit ? scroll with { Limit = request.Limit } : scroll;
    }

    /// <summary>
    /// The engine queries of a batch; a query may leave its collection empty or repeat the batch's. A refusal
    /// names the query (<c>queries[2].filter</c>).
    /// </summary>
    public static List<QueryRequest> ToEngine(this V1.QueryBatchRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var queries = new List<QueryRequest>(request.Queries.Count);
        for (int i = 0; i < request.Queries.Count; i++)
        {
            var query = request.Queries[i];
            if (query.Collection.Length > 0 && query.Collection != request.Collection)
            {
                throw new VectorStoreException(ErrorCode.InvalidArgument,
                    $"queries[{i}].collection: must be empty or '{request.Collection}', was '{query.Collection}'.", $"queries[{i}].collection");
            }
            try
            {
                queries.Add(query.ToEngine());
            }
            catch (VectorStoreException e)
            {
                throw VectorStoreException.InBatch(i, e);
            }
        }
        return queries;
    }

    /// <summary>A filter Struct as the engine's filter; an absent or empty Struct is no filter.</summary>
    public static MetadataFilter? FilterFromStruct(Struct? filter) =>
        filter is { Fields.Count: > 0 } ? MetadataFilter.Parse(ToJson(filter)) : null;

    public static V1.Document ToProto(this Document document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var message = new V1.Document { Id = document.Id, Metadata = ToStruct(document.Metadata) };
        if (document.Text is not null)
        {
            message.Text = document.Text;
        }
        if (document.Vector is not null)
        {
            message.Vector.Add(document.Vector);
        }
        if (document.Chunks is { } chunks)
        {
            message.Chunks.Add(chunks.Select(c => new V1.ChunkSpan { Chunk = c.Chunk, Start = c.Start, End = c.End }));
        }
        return message;
    }

    public static V1.ListDocumentsResponse ToProto(this DocumentPage page)
    {
        ArgumentNullException.ThrowIfNull(page);
        var response = new V1.ListDocumentsResponse { Total = page.Total };
        response.Documents.Add(page.Documents.Select(d => d.ToProto()));
        if (page.NextAfter is { } next)
        {
            response.NextAfter = next;
        }
        return response;
    }

    public static V1.ScrollResponse ToProto(this ScrollPage page)
    {
        ArgumentNullException.ThrowIfNull(page);
        var response = new V1.ScrollResponse();
        response.Documents.Add(page.Documents.Select(d => d.ToProto()));
        if (page.Next is { } next)
        {
            response.Next = next;
        }
        return response;
    }

    public static V1.QueryResult ToProto(this QueryHit hit)
    {
        ArgumentNullException.ThrowIfNull(hit);
        var message = new V1.QueryResult { Id = hit.Id, Score = hit.Score, Metadata = ToStruct(hit.Metadata) };
        if (hit.Text is not null)
        {
            message.Text = hit.Text;
        }
        if (hit.Vector is not null)
        {
            message.Vector.Add(hit.Vector);
        }
        if (hit.Explanation is { } explanation)
        {
            if (explanation.DenseRank is { } denseRank)
            {
                message.DenseRank = denseRank;
                message.DenseScore = explanation.DenseScore ?? 0f;
            }
            if (explanation.TextRank is { } textRank)
            {
                message.TextRank = textRank;
                message.TextScore = explanation.TextScore ?? 0f;
            }
        }
        if (hit.Highlight is { } highlight)
        {
            message.Highlight = new V1.Highlight { Chunk = highlight.Chunk, Start = highlight.Start, End = highlight.End, Text = highlight.Text };
        }
        return message;
    }

    public static V1.SnapshotInfo ToProto(this SnapshotInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        return new V1.SnapshotInfo
        {
            Collection = info.Collection,
            Name = info.Name,
            SizeBytes = info.SizeBytes,
            CreatedAtUnixMs = info.CreatedAt.ToUnixTimeMilliseconds(),
        };
    }

    /// <summary>Struct → JSON → the engine's parser, so gRPC and REST accept and refuse exactly the same metadata.</summary>
    private static IReadOnlyDictionary<string, MetadataValue> MetadataFromStruct(Struct metadata, string field) =>
        Metadata.FromJson(ToJson(metadata), field);

    /// <summary>A message as the JSON the engine parses (filters and metadata share the REST parser this way).</summary>
    public static JsonElement ToJson(IMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        using var document = JsonDocument.Parse(JsonFormatter.Default.Format(message));
        return document.RootElement.Clone();
    }

    public static Struct ToStruct(IReadOnlyDictionary<string, MetadataValue> metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var result = new Struct();
        foreach (var (key, value) in metadata)
        {
            result.Fields[key] = ToValue(value);
        }
        return result;
    }

    private static Value ToValue(MetadataValue value) => value.Kind switch
    {
        MetadataKind.String => Value.ForString(value.String!),
        MetadataKind.Number => Value.ForNumber(value.Number),
        MetadataKind.Bool => Value.ForBool(value.Bool),
        _ => Value.ForList([.. value.Items.Select(ToValue)]),
    };
}
