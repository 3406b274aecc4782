using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using VectorStoreDb.Engine;
using VectorStoreDb.Engine.Filtering;
using VectorStoreDb.Index;
using V1 = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.Server.Grpc;

/// <summary>Conversions between wire messages and engine types. Validation stays in the engine.</summary>
internal static class ProtoMapping
{
    public static V1.CollectionInfo ToProto(this CollectionInfo info) => new()
    {
        Name = info.Settings.Name,
        Metric = info.Settings.Metric.ToWireName(),
        Encoder = info.Settings.Encoder ?? "",
        Dimension = info.Settings.Dimension,
        Index = info.Settings.Index,
        M = info.Settings.M,
        EfConstruction = info.Settings.EfConstruction,
        Shards = info.Settings.Shards,
        DocumentCount = info.DocumentCount,
        CreatedAt = info.Settings.CreatedAt.ToString("O", CultureInfo.InvariantCulture),
        Text = info.Settings.TextIndex is not null,
        TextLanguage = info.Settings.TextIndex?.Language ?? "",
        Bm25K1 = info.Settings.TextIndex?.K1 ?? 0f,
        Bm25B = info.Settings.TextIndex?.B ?? 0f,
        DefaultMode = info.Settings.DefaultMode,
        Projection = info.Settings.Projection,
        IndexDimension = info.Settings.IndexDimension > 0 ? info.Settings.IndexDimension : info.Settings.Dimension,
        Rescore = info.Settings.Projection != ProjectionKinds.None && info.Settings.Rescore,
        PcaSampleSize = info.Settings.PcaSampleSize,
        ProjectionReady = info.ProjectionReady,
        Chunking = info.Settings.Chunking,
        ChunkTokens = info.Settings.ChunkTokens,
        ChunkOverlap = info.Settings.ChunkOverlap,
    };

    public static CreateCollectionRequest ToEngine(this V1.CreateCollectionRequest request) => new()
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
        PcaSampleSize = request.HasPcaSampleSize ? request.PcaSampleSize : null,
        ProjectionSeed = request.HasProjectionSeed ? request.ProjectionSeed : null,
        Chunking = request.HasChunking ? request.Chunking : null,
        ChunkTokens = request.HasChunkTokens ? request.ChunkTokens : null,
        ChunkOverlap = request.HasChunkOverlap ? request.ChunkOverlap : null,
    };

    public static DocumentInput ToEngine(this V1.DocumentInput document, int index) => new()
    {
        Id = document.HasId ? document.Id : null,
        Text = document.HasText ? document.Text : null,
        Vector = document.Vector.Count > 0 ? [.. document.Vector] : null,
        Metadata = document.Metadata is null ? null : MetadataFromStruct(document.Metadata, $"documents[{index}].metadata"),
    };

    public static QueryRequest ToEngine(this V1.QueryRequest request) => new()
    {
        Text = request.HasText ? request.Text : null,
        Vector = request.Vector.Count > 0 ? [.. request.Vector] : null,
        K = request.HasK ? request.K : 10,
        Filter = request.Filter is { Fields.Count: > 0 } filter ? MetadataFilter.Parse(ToJson(filter)) : null,
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

    public static V1.Document ToProto(this Document document)
    {
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

    public static V1.QueryResult ToProto(this QueryHit hit)
    {
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

    /// <summary>Struct → JSON → the engine's parser, so gRPC and REST accept and refuse exactly the same metadata.</summary>
    private static IReadOnlyDictionary<string, MetadataValue> MetadataFromStruct(Struct metadata, string field) =>
        Metadata.FromJson(ToJson(metadata), field);

    internal static JsonElement ToJson(IMessage message)
    {
        using var document = JsonDocument.Parse(JsonFormatter.Default.Format(message));
        return document.RootElement.Clone();
    }

    public static Struct ToStruct(IReadOnlyDictionary<string, MetadataValue> metadata)
    {
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
