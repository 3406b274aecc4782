using System.Text.Json;
using VectorStoreDb.Engine;
using VectorStoreDb.Engine.Filtering;
using VectorStoreDb.Index;
using VectorStoreDb.Wire;

namespace VectorStoreDb.Server.Rest;

// The REST shapes (camelCase JSON), a public contract of their own. They copy fields and nothing else: how a stored
// setting is reported lives in VectorStoreDb.Wire.CollectionRules, request defaults in the engine, error statuses in
// VectorStoreDb.Wire.ErrorTable, so REST, gRPC and both SDK clients agree.

/// <summary>Body of <c>PUT /collections/{name}</c>.</summary>
public sealed record CreateCollectionBody(
    string? Metric = null,
    string? Encoder = null,
    int? Dimension = null,
    string? Index = null,
    int? M = null,
    int? EfConstruction = null,
    int? Shards = null,
    bool? Text = null,
    string? TextLanguage = null,
    float? Bm25K1 = null,
    float? Bm25B = null,
    string? DefaultMode = null,
    string? Projection = null,
    int? IndexDimension = null,
    bool? Rescore = null,
    int? PcaSampleSize = null,
    ulong? ProjectionSeed = null,
    bool? Chunking = null,
    int? ChunkTokens = null,
    int? ChunkOverlap = null,
    string? Quantization = null,
    float? Oversampling = null,
    int? Replicas = null,
    string? WriteConsistency = null,
    bool? OnDisk = null)
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
        Text = Text,
        TextLanguage = TextLanguage,
        Bm25K1 = Bm25K1,
        Bm25B = Bm25B,
        DefaultMode = DefaultMode,
        Projection = Projection,
        IndexDimension = IndexDimension,
        Rescore = Rescore,
        Quantization = Quantization,
        Oversampling = Oversampling,
        OnDisk = OnDisk,
        PcaSampleSize = PcaSampleSize,
        ProjectionSeed = ProjectionSeed,
        Chunking = Chunking,
        ChunkTokens = ChunkTokens,
        ChunkOverlap = ChunkOverlap,
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
    DateTimeOffset CreatedAt,
    TextIndexDto? Text = null,
    string DefaultMode = QueryModes.Dense,
    string Projection = ProjectionKinds.None,
    int IndexDimension = 0,
    bool Rescore = false,
    int PcaSampleSize = 0,
    bool ProjectionReady = false,
    ChunkingDto? Chunking = null,
    string Quantization = "none",
    float Oversampling = 0,
    bool OnDisk = false)
{
    internal static CollectionDto From(CollectionInfo info)
    {
        var s = info.Settings;
        return new(s.Name, s.Metric.ToWireName(), s.Encoder, s.Dimension, s.Index, s.M, s.EfConstruction, s.Shards, info.DocumentCount, s.CreatedAt,
            s.TextIndex is { } text ? new TextIndexDto(text.Language, text.K1, text.B) : null,
            s.DefaultMode, s.Projection, s.ReportedIndexDimension(), s.ReportedRescore(), s.PcaSampleSize, info.ProjectionReady,
            s.Chunking ? new ChunkingDto(s.ReportedChunkTokens(), s.ChunkOverlap) : null, s.ReportedQuantization(), s.ReportedOversampling(), s.OnDisk);
    }
}

/// <summary>How a collection splits long texts (absent when it truncates them): tokens per chunk (absent = the encoder's window) and overlap.</summary>
public sealed record ChunkingDto(int? Tokens, int Overlap);

/// <summary>A collection's full-text index settings (absent when it has none).</summary>
public sealed record TextIndexDto(string Language, float Bm25K1, float Bm25B);

/// <summary>Answer of <c>POST /collections/{name}/projection/refit</c>: vectors the PCA was fitted on, and the collection.</summary>
public sealed record RefitDto(int SampleSize, CollectionDto Collection);

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

/// <summary>A document; <c>chunks</c> says how a text longer than the encoder's window was split (absent when indexed whole).</summary>
public sealed record DocumentDto(string Id, string? Text, IReadOnlyDictionary<string, object?> Metadata, float[]? Vector, IReadOnlyList<ChunkSpan>? Chunks = null)
{
    internal static DocumentDto From(Document d) => new(d.Id, d.Text, Engine.Metadata.ToObjects(d.Metadata), d.Vector, d.Chunks);
}

public sealed record CountDto(long Count);

/// <summary>Body of <c>POST /collections/{name}/documents/batch-get</c>.</summary>
public sealed record BatchGetBody(IReadOnlyList<string>? Ids, bool IncludeVectors = false)
{
    internal IReadOnlyList<string> ToIds() =>
        Ids ?? throw new VectorStoreException(ErrorCode.InvalidArgument, "ids: required, e.g. {\"ids\":[\"a\",\"b\"]}.", "ids");
}

/// <summary>Body of <c>POST /collections/{name}/documents/scroll</c>.</summary>
public sealed record ScrollBody(JsonElement? Filter = null, ScrollOrderBody? OrderBy = null, int? Limit = null, string? After = null, bool IncludeVectors = false)
{
    internal ScrollRequest ToRequest()
    {
        var request = new ScrollRequest
        {
            Filter = Filter is { ValueKind: not JsonValueKind.Null } f ? MetadataFilter.Parse(f) : null,
            // A missing field name is refused by the engine, naming orderBy.field.
            OrderBy = OrderBy is { } order ? new ScrollOrder(order.Field ?? "", order.Descending) : null,
            After = string.IsNullOrEmpty(After) ? null : After,
            IncludeVectors = IncludeVectors,
        };
        // An absent limit keeps the engine's default rather than restating it here.
        return Limit is { } limit ? request with { Limit = limit } : request;
    }
}

/// <summary>Scroll order: the metadata field and the direction (ascending by default).</summary>
public sealed record ScrollOrderBody(string? Field, bool Descending = false);

/// <summary>Body of <c>POST /collections/{name}/query</c>.</summary>
public sealed record QueryBody(
    string? Text = null,
    float[]? Vector = null,
    int? K = null,
    JsonElement? Filter = null,
    bool Exact = false,
    int? Ef = null,
    bool IncludeVectors = false,
    string? Mode = null,
    int? Prefetch = null,
    string? Fusion = null,
    int? RrfK = null,
    FusionWeightsBody? Weights = null,
    bool Explain = false,
    bool Chunks = false)
{
    internal QueryRequest ToRequest()
    {
        var request = new QueryRequest
        {
            Text = Text,
            Vector = Vector,
            Filter = Filter is { ValueKind: not JsonValueKind.Null } f ? MetadataFilter.Parse(f) : null,
            Exact = Exact,
            Ef = Ef,
            IncludeVectors = IncludeVectors,
            Mode = Mode,
            Prefetch = Prefetch,
            Fusion = Fusion,
            RrfK = RrfK,
            DenseWeight = Weights?.Dense,
            TextWeight = Weights?.Text,
            Explain = Explain,
            Chunks = Chunks,
        };
        // An absent k keeps the engine's default rather than restating it here.
        return K is { } k ? request with { K = k } : request;
    }
}

/// <summary>Body of <c>POST /collections/{name}/query/batch</c>: queries shaped like <see cref="QueryBody"/>.</summary>
public sealed record QueryBatchBody(IReadOnlyList<QueryBody?>? Queries = null)
{
    internal List<QueryRequest> ToRequests()
    {
        var queries = Queries ?? throw new VectorStoreException(ErrorCode.InvalidArgument, "queries: required, e.g. {\"queries\":[{\"text\":\"hello\"}]}.", "queries");
        var requests = new List<QueryRequest>(queries.Count);
        for (int i = 0; i < queries.Count; i++)
        {
            var query = queries[i] ?? throw new VectorStoreException(ErrorCode.InvalidArgument, $"queries[{i}]: must be a query object.", $"queries[{i}]");
            try
            {
                requests.Add(query.ToRequest());
            }
            catch (VectorStoreException e)
            {
                throw VectorStoreException.InBatch(i, e);
            }
        }
        return requests;
    }
}

/// <summary>Answer of a batch query: <c>results[i]</c> holds the hits of query i.</summary>
public sealed record QueryBatchResponseDto(IReadOnlyList<QueryResponseDto> Results);

/// <summary>Per-retriever weights in hybrid fusion, e.g. <c>{"dense":1,"text":0.5}</c>; each defaults to 1.</summary>
public sealed record FusionWeightsBody(float? Dense = null, float? Text = null);

/// <summary>One result. With <c>explain</c>, the 1-based rank and score in each retriever's list (absent = not found there).</summary>
public sealed record QueryResultDto(string Id, float Score, string? Text, IReadOnlyDictionary<string, object?> Metadata, float[]? Vector,
    int? DenseRank = null, float? DenseScore = null, int? TextRank = null, float? TextScore = null, HighlightDto? Highlight = null);

/// <summary>The chunk of the text that matched: its number and character range <c>[start, end)</c> in the document's text.</summary>
public sealed record HighlightDto(int Chunk, int Start, int End, string Text);

public sealed record QueryResponseDto(IReadOnlyList<QueryResultDto> Results)
{
    internal static QueryResponseDto From(IReadOnlyList<QueryHit> hits) =>
        new([.. hits.Select(h => new QueryResultDto(h.Id, h.Score, h.Text, Engine.Metadata.ToObjects(h.Metadata), h.Vector,
            h.Explanation?.DenseRank, h.Explanation?.DenseScore, h.Explanation?.TextRank, h.Explanation?.TextScore,
            h.Highlight is { } c ? new HighlightDto(c.Chunk, c.Start, c.End, c.Text) : null))]);
}

/// <summary>Body of <c>POST /embed</c>.</summary>
/// <param name="Texts">The texts to embed.</param>
/// <param name="Encoder">Encoder name; default: the server's default encoder.</param>
/// <param name="InputType"><c>document</c> (default: a passage to store) or <c>query</c> (a search query); models with asymmetric prompts embed the two differently.</param>
public sealed record EmbedBody(IReadOnlyList<string>? Texts, string? Encoder = null, string? InputType = null);

public sealed record EmbedResponseDto(IReadOnlyList<float[]> Embeddings, string Encoder);

public sealed record ModelDto(string Name, int Dimension, int MaxTokens, string Kind);

/// <param name="Models">Every encoder this server can embed with.</param>
/// <param name="DefaultEncoder">The encoder a new text collection or <c>/embed</c> gets when the request names none.</param>
public sealed record ModelListDto(IReadOnlyList<ModelDto> Models, string DefaultEncoder);
