using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using VectorStore.Engine;
using VectorStore.Engine.Filtering;
using VectorStore.Index;
using V1 = VectorStore.Contracts.V1;

namespace VectorStore.Server.Grpc;

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
