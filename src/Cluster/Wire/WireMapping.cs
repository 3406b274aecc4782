using System.Text.Json;
using VectorStoreDb.Engine;
using VectorStoreDb.Engine.Filtering;

namespace VectorStoreDb.Cluster.Wire;

/// <summary>Every conversion between the engine's records and the cluster's wire records, in one place.</summary>
internal static class WireMapping
{
    /// <summary>For the engine records the catalog keeps as JSON (create requests, resolved settings).</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static ReplicaDocument ToWire(DocumentInput input, string id) =>
        new(id, input.Text, input.Vector, input.Metadata is { } metadata ? Metadata.ToUtf8Json(metadata) : null);

    public static DocumentInput ToEngine(ReplicaDocument document) => new()
    {
        Id = document.Id,
        Text = document.Text,
        Vector = document.Vector,
        Metadata = document.MetadataJson is { } json ? Metadata.FromUtf8Json(json) : null,
    };

    public static ShardQuery ToWire(QueryRequest request) => new()
    {
        Text = request.Text,
        Vector = request.Vector,
        K = request.K,
        FilterJson = request.Filter?.Json,
        TextStatistics = request.TextStatistics is { } statistics ? ToWire(statistics) : null,
        Exact = request.Exact,
        Ef = request.Ef,
        IncludeVectors = request.IncludeVectors,
        Mode = request.Mode,
        Prefetch = request.Prefetch,
        Fusion = request.Fusion,
        RrfK = request.RrfK,
        DenseWeight = request.DenseWeight,
        TextWeight = request.TextWeight,
        Explain = request.Explain,
        Chunks = request.Chunks,
    };

    public static QueryRequest ToEngine(ShardQuery query)
    {
        var filter = ParseFilter(query.FilterJson);
        return new QueryRequest
        {
            Text = query.Text,
            Vector = query.Vector,
            K = query.K,
            Filter = filter,
            Exact = query.Exact,
            Ef = query.Ef,
            IncludeVectors = query.IncludeVectors,
            Mode = query.Mode,
            Prefetch = query.Prefetch,
            Fusion = query.Fusion,
            RrfK = query.RrfK,
            DenseWeight = query.DenseWeight,
            TextWeight = query.TextWeight,
            Explain = query.Explain,
            Chunks = query.Chunks,
            TextStatistics = query.TextStatistics is { } statistics ? ToEngine(statistics) : null,
        };
    }

    public static ShardScroll ToWire(ScrollRequest request) =>
        new(request.Filter?.Json, request.OrderBy?.Field, request.OrderBy?.Descending ?? false, request.Limit, request.After, request.IncludeVectors);

    public static ScrollRequest ToEngine(ShardScroll scroll) => new()
    {
        Filter = ParseFilter(scroll.FilterJson),
        OrderBy = scroll.OrderField is { } field ? new ScrollOrder(field, scroll.OrderDescending) : null,
        Limit = scroll.Limit,
        After = scroll.After,
        IncludeVectors = scroll.IncludeVectors,
    };

    /// <summary>
    /// A shard's page as the engine's merge reads it: only whether <see cref="ScrollPage.Next"/> is null matters there,
    /// because the merged page's cursor is made from the merged documents.
    /// </summary>
    public static ScrollPage ToEngine(ShardScrollPage page) =>
        new([.. page.Documents.Select(ToEngine)], page.More ? "more" : null);

    private static MetadataFilter? ParseFilter(string? json)
    {
        if (json is null)
        {
            return null;
        }
        using var document = JsonDocument.Parse(json);
        return MetadataFilter.Parse(document.RootElement);
    }

    public static ShardTextStatistics ToWire(TextStatistics statistics) =>
        new(statistics.DocumentCount, statistics.TotalLength, new Dictionary<string, long>(statistics.DocumentFrequencies, StringComparer.Ordinal));

    public static TextStatistics ToEngine(ShardTextStatistics statistics) =>
        new(statistics.DocumentCount, statistics.TotalLength, statistics.DocumentFrequencies);

    public static ShardHit ToWire(QueryHit hit) => new()
    {
        Id = hit.Id,
        Score = hit.Score,
        Text = hit.Text,
        MetadataJson = Metadata.ToUtf8Json(hit.Metadata),
        Vector = hit.Vector,
        HighlightChunk = hit.Highlight?.Chunk,
        HighlightStart = hit.Highlight?.Start ?? 0,
        HighlightEnd = hit.Highlight?.End ?? 0,
        HighlightText = hit.Highlight?.Text,
        Explained = hit.Explanation is not null,
        DenseRank = hit.Explanation?.DenseRank,
        DenseScore = hit.Explanation?.DenseScore,
        TextRank = hit.Explanation?.TextRank,
        TextScore = hit.Explanation?.TextScore,
    };

    public static QueryHit ToEngine(ShardHit hit) => new(hit.Id, hit.Score, hit.Text, Metadata.FromUtf8Json(hit.MetadataJson), hit.Vector)
    {
        Highlight = hit.HighlightChunk is { } chunk ? new ChunkHighlight(chunk, hit.HighlightStart, hit.HighlightEnd, hit.HighlightText ?? "") : null,
        Explanation = hit.Explained ? new HitExplanation(hit.DenseRank, hit.DenseScore, hit.TextRank, hit.TextScore) : null,
    };

    public static ShardDocument ToWire(Document document) => new(
        document.Id,
        document.Text,
        Metadata.ToUtf8Json(document.Metadata),
        document.Vector,
        document.Chunks is { } chunks ? [.. chunks.SelectMany(c => new[] { c.Chunk, c.Start, c.End })] : null);

    public static Document ToEngine(ShardDocument document) => new(document.Id, document.Text, Metadata.FromUtf8Json(document.MetadataJson), document.Vector)
    {
        Chunks = document.ChunkSpans is { } spans
            ? [.. Enumerable.Range(0, spans.Length / 3).Select(i => new ChunkSpan(spans[3 * i], spans[3 * i + 1], spans[3 * i + 2]))]
            : null,
    };
}
