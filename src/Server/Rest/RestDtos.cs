using System.Text.Json;
using VectorStore.Engine;
using VectorStore.Engine.Filtering;
using VectorStore.Index;

namespace VectorStore.Server.Rest;

// The REST shapes (camelCase JSON). They mirror the gRPC messages one to one.

/// <summary>Body of <c>PUT /collections/{name}</c>.</summary>
public sealed record CreateCollectionBody(
    string? Metric = null,
    string? Encoder = null,
    int? Dimension = null,
    string? Index = null,
    int? M = null,
    int? EfConstruction = null,
    int? Shards = null)
{
    internal CreateCollectionRequest ToRequest(string name) => new()
    {
        Name = name,
        Metric = Metric,
        Encoder = Encoder,
        Dimension = Dimension,
        Index = Index,
        M = M,
        EfConstruction = EfConstruction,
        Shards = Shards,
    };
}

public sealed record CollectionDto(
    string Name,
    string Metric,
    string? Encoder,
    int Dimension,
    string Index,
    int M,
    int EfConstruction,
    int Shards,
    long DocumentCount,
    DateTimeOffset CreatedAt)
{
    internal static CollectionDto From(CollectionInfo info) => new(
        info.Settings.Name,
        info.Settings.Metric.ToWireName(),
        info.Settings.Encoder,
        info.Settings.Dimension,
        info.Settings.Index,
        info.Settings.M,
        info.Settings.EfConstruction,
        info.Settings.Shards,
        info.DocumentCount,
        info.Settings.CreatedAt);
}

public sealed record CollectionListDto(IReadOnlyList<CollectionDto> Collections);

public sealed record DocumentBody(string? Id = null, string? Text = null, float[]? Vector = null, JsonElement? Metadata = null);

/// <summary>Body of <c>POST /collections/{name}/documents</c>.</summary>
public sealed record UpsertBody(IReadOnlyList<DocumentBody>? Documents)
{
    internal IReadOnlyList<DocumentInput> ToInputs()
    {
        if (Documents is null)
        {
            throw new VectorStoreException(ErrorCode.InvalidArgument, "documents: required, e.g. {\"documents\":[{\"text\":\"…\"}]}.", "documents");
        }
        return [.. Documents.Select((d, i) => d is null
            ? throw new VectorStoreException(ErrorCode.InvalidArgument, $"documents[{i}]: must not be null.", $"documents[{i}]")
            : new DocumentInput
            {
                Id = d.Id,
                Text = d.Text,
                Vector = d.Vector,
                Metadata = d.Metadata is { } m ? Metadata.FromJson(m, $"documents[{i}].metadata") : null,
            })];
    }
}

public sealed record UpsertResultDto(IReadOnlyList<string> Ids);

public sealed record DocumentDto(string Id, string? Text, IReadOnlyDictionary<string, object?> Metadata, float[]? Vector)
{
    internal static DocumentDto From(Document d) => new(d.Id, d.Text, Engine.Metadata.ToObjects(d.Metadata), d.Vector);
}

public sealed record CountDto(long Count);

/// <summary>Body of <c>POST /collections/{name}/query</c>.</summary>
public sealed record QueryBody(
    string? Text = null,
    float[]? Vector = null,
    int? K = null,
    JsonElement? Filter = null,
    bool Exact = false,
    int? Ef = null,
    bool IncludeVectors = false)
{
    internal QueryRequest ToRequest() => new()
    {
        Text = Text,
        Vector = Vector,
        K = K ?? 10,
        Filter = Filter is { ValueKind: not JsonValueKind.Null } f ? MetadataFilter.Parse(f) : null,
        Exact = Exact,
        Ef = Ef,
        IncludeVectors = IncludeVectors,
    };
}

public sealed record QueryResultDto(string Id, float Score, string? Text, IReadOnlyDictionary<string, object?> Metadata, float[]? Vector);

public sealed record QueryResponseDto(IReadOnlyList<QueryResultDto> Results)
{
    internal static QueryResponseDto From(IReadOnlyList<QueryHit> hits) =>
        new([.. hits.Select(h => new QueryResultDto(h.Id, h.Score, h.Text, Engine.Metadata.ToObjects(h.Metadata), h.Vector))]);
}

/// <summary>Body of <c>POST /embed</c>.</summary>
public sealed record EmbedBody(IReadOnlyList<string>? Texts, string? Encoder = null);

public sealed record EmbedResponseDto(IReadOnlyList<float[]> Embeddings, string Encoder);

public sealed record ModelDto(string Name, int Dimension, int MaxTokens, string Kind);

public sealed record ModelListDto(IReadOnlyList<ModelDto> Models);
