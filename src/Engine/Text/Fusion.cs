namespace VectorStoreDb.Engine.Text;

/// <summary>A ranked list's entry: the document id and its retriever's score (higher is better).</summary>
internal readonly record struct RankedId(string Id, float Score);

/// <summary>A fused result with where it came from.</summary>
internal sealed record FusedHit(string Id, float Score, int? DenseRank, float? DenseScore, int? TextRank, float? TextScore);

/// <summary>Merges a dense and a text result list into one ranking.</summary>
internal static class Fusion
{
    /// <summary>
    /// Reciprocal Rank Fusion (Cormack et al. 2009): score = Σ weight / (k + rank), rank 1-based. Uses ranks only,
    /// so it needs no score calibration; a document found by both retrievers beats one found by a single retriever
    /// at a similar rank.
    /// </summary>
    public static List<FusedHit> Rrf(IReadOnlyList<RankedId> dense, IReadOnlyList<RankedId> text, int k, float denseWeight, float textWeight) =>
        Fuse(dense, text, (rank, _) => denseWeight / (k + rank), (rank, _) => textWeight / (k + rank));

    /// <summary>
    /// Distribution-based score fusion (as Qdrant's DBSF): each list's scores are mapped linearly so that
    /// mean − 3σ → 0 and mean + 3σ → 1 (clamped), then summed with weights. Keeps score gaps that RRF throws away.
    /// </summary>
    public static List<FusedHit> Dbsf(IReadOnlyList<RankedId> dense, IReadOnlyList<RankedId> text, float denseWeight, float textWeight)
    {
        var (denseLow, denseHigh) = Limits(dense);
        var (textLow, textHigh) = Limits(text);
        return Fuse(dense, text,
            (_, score) => denseWeight * Normalise(score, denseLow, denseHigh),
            (_, score) => textWeight * Normalise(score, textLow, textHigh));
    }

    private static (double Low, double High) Limits(IReadOnlyList<RankedId> list)
    {
        if (list.Count == 0)
        {
            return (0, 0);
        }
        double mean = 0;
        foreach (var item in list)
        {
            mean += item.Score;
        }
        mean /= list.Count;
        double variance = 0;
        foreach (var item in list)
        {
            variance += (item.Score - mean) * (item.Score - mean);
        }
        double sigma = Math.Sqrt(variance / list.Count);
        return (mean - 3 * sigma, mean + 3 * sigma);
    }

    // A list whose scores are all equal carries no score information: every entry counts as the middle (0.5).
    private static float Normalise(float score, double low, double high) =>
        high > low ? (float)Math.Clamp((score - low) / (high - low), 0, 1) : 0.5f;

    private static List<FusedHit> Fuse(IReadOnlyList<RankedId> dense, IReadOnlyList<RankedId> text, Func<int, float, float> denseContribution, Func<int, float, float> textContribution)
    {
        var byId = new Dictionary<string, FusedHit>(dense.Count + text.Count, StringComparer.Ordinal);
        for (int i = 0; i < dense.Count; i++)
        {
            var item = dense[i];
            byId[item.Id] = new FusedHit(item.Id, denseContribution(i + 1, item.Score), i + 1, item.Score, null, null);
        }
        for (int i = 0; i < text.Count; i++)
        {
            var item = text[i];
            float contribution = textContribution(i + 1, item.Score);
            byId[item.Id] = byId.TryGetValue(item.Id, out var found)
                ? found with { Score = found.Score + contribution, TextRank = i + 1, TextScore = item.Score }
                : new FusedHit(item.Id, contribution, null, null, i + 1, item.Score);
        }
        var fused = byId.Values.ToList();
        // Ties (common with RRF) go to the better best rank, then the id, so results are deterministic.
        fused.Sort(static (a, b) =>
        {
            int c = b.Score.CompareTo(a.Score);
            if (c != 0)
            {
                return c;
            }
            c = BestRank(a).CompareTo(BestRank(b));
            return c != 0 ? c : string.CompareOrdinal(a.Id, b.Id);
        });
        return fused;
    }

    private static int BestRank(FusedHit hit) => Math.Min(hit.DenseRank ?? int.MaxValue, hit.TextRank ?? int.MaxValue);
}
