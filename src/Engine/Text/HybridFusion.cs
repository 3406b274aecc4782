namespace VectorStoreDb.Engine.Text;

/// <summary>
/// Hybrid mode's ranking: fuses a dense and a text candidate list into the final hits. The one place it is made,
/// for a collection over its own shards and for a cluster coordinator over every shard's candidates alike, so both
/// rank and score identically.
/// </summary>
public static class HybridFusion
{
    private const int DefaultPrefetch = 100;
    private const int DefaultRrfK = 60;

    /// <summary>Candidates each retriever contributes: the request's prefetch, else max(100, k).</summary>
    public static int Prefetch(QueryRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Prefetch ?? Math.Max(DefaultPrefetch, request.K);
    }

    /// <summary>
    /// The k best of the fused lists. Each hit is the dense candidate's document when there is one, else the text
    /// candidate's, with the fused score and, when asked, the explanation (the dense score as the metric defines it).
    /// </summary>
    /// <param name="request">The query (k, fusion, rrfK, weights, explain, includeVectors).</param>
    /// <param name="higherIsBetter">Whether the collection's metric is a similarity (false for l2 distance).</param>
    /// <param name="dense">Dense candidates, best first, scores as the metric defines them.</param>
    /// <param name="text">BM25 candidates, best first.</param>
    public static List<QueryHit> Fuse(QueryRequest request, bool higherIsBetter, IReadOnlyList<QueryHit> dense, IReadOnlyList<QueryHit> text)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(dense);
        ArgumentNullException.ThrowIfNull(text);
        var denseRanked = dense.Select(h => new RankedId(h.Id, higherIsBetter ? h.Score : -h.Score)).ToList();
        var textRanked = text.Select(h => new RankedId(h.Id, h.Score)).ToList();
        float denseWeight = request.DenseWeight ?? 1f;
        float textWeight = request.TextWeight ?? 1f;
        // DBSF is the default because it measured better than RRF at every weight on SciFact (notes/hybrid.md).
        var fused = (request.Fusion?.Trim().ToLowerInvariant() ?? FusionKinds.Default) == FusionKinds.Rrf
            ? Fusion.Rrf(denseRanked, textRanked, request.RrfK ?? DefaultRrfK, denseWeight, textWeight)
            : Fusion.Dbsf(denseRanked, textRanked, denseWeight, textWeight);

        var documents = new Dictionary<string, QueryHit>(StringComparer.Ordinal);
        foreach (var hit in dense)
        {
            documents[hit.Id] = hit;
        }
        foreach (var hit in text)
        {
            documents.TryAdd(hit.Id, hit);
        }
        var results = new List<QueryHit>(Math.Min(request.K, fused.Count));
        foreach (var item in fused.Take(request.K))
        {
            var document = documents[item.Id];
            results.Add(document with
            {
                Score = item.Score,
                Vector = request.IncludeVectors ? document.Vector : null,
                // The dense score is reported as the metric defines it (a distance for l2), not the negated fusion input.
                Explanation = request.Explain
                    ? new HitExplanation(item.DenseRank, item.DenseScore is { } s ? (higherIsBetter ? s : -s) : null, item.TextRank, item.TextScore)
                    : null,
            });
        }
        return results;
    }
}
