using System.Buffers;
using VectorStoreDb.Embedding;
using VectorStoreDb.Engine.Diagnostics;
using VectorStoreDb.Index;

namespace VectorStoreDb.Engine.Text;

/// <summary>
/// The text and hybrid query modes of a collection, as operations over it (no state of its own). Dense mode stays
/// in <see cref="Collection.QueryAsync"/>; this class only adds the modes that involve the BM25 index, so the dense
/// path (and whatever index planner runs under it) is untouched.
/// </summary>
internal sealed class HybridSearch(Collection collection)
{
    /// <summary>Validates the mode and fusion parameters (in every mode, so a typo never passes silently) and returns the mode.</summary>
    public string ResolveMode(QueryRequest request)
    {
        string mode = request.Mode is null ? collection.Settings.DefaultMode : request.Mode.Trim().ToLowerInvariant();
        if (!QueryModes.All.Contains(mode))
        {
            throw VectorStoreException.Invalid("mode", $"unknown mode '{request.Mode}'; use {string.Join(", ", QueryModes.All)}.");
        }
        if (request.Fusion is { } fusion && !FusionKinds.All.Contains(fusion.Trim().ToLowerInvariant()))
        {
            throw VectorStoreException.Invalid("fusion", $"unknown fusion '{fusion}'; use {string.Join(" or ", FusionKinds.All)}.");
        }
        if (request.Prefetch is { } prefetch && (prefetch < request.K || prefetch > 10 * collection.Limits.MaxK))
        {
            throw VectorStoreException.Invalid("prefetch", $"must be at least k ({request.K}) and at most {10 * collection.Limits.MaxK}, was {prefetch}.");
        }
        if (request.RrfK is { } rrfK && (rrfK < 0 || rrfK > 1_000_000))
        {
            throw VectorStoreException.Invalid("rrfK", $"must be between 0 and 1000000, was {rrfK}.");
        }
        ValidateWeight(request.DenseWeight, "weights.dense");
        ValidateWeight(request.TextWeight, "weights.text");
        if ((request.DenseWeight ?? 1f) == 0f && (request.TextWeight ?? 1f) == 0f)
        {
            throw VectorStoreException.Invalid("weights", "at least one weight must be positive.");
        }
        // A collection whose default is hybrid still answers a vector-only query: there is no text to match.
        if (request.Mode is null && mode != QueryModes.Dense && string.IsNullOrWhiteSpace(request.Text) && request.Vector is not null)
        {
            return QueryModes.Dense;
        }
        if (mode != QueryModes.Dense)
        {
            if (request.Chunks)
            {
                throw VectorStoreException.Invalid("chunks", $"chunk hits are a dense-mode result; {mode} mode ranks whole documents.");
            }
            if (collection.Settings.TextIndex is null)
            {
                throw VectorStoreException.Invalid("mode", $"collection '{collection.Settings.Name}' has no text index; create it with \"text\": true to query in {mode} mode.");
            }
            if (string.IsNullOrWhiteSpace(request.Text))
            {
                throw VectorStoreException.Invalid("text", $"{mode} mode needs a non-empty query text.");
            }
            if (request.Text.Length > collection.Limits.MaxTextLength)
            {
                throw new VectorStoreException(ErrorCode.LimitExceeded, $"text: {request.Text.Length} characters; the limit is {collection.Limits.MaxTextLength}.", "text");
            }
        }
        return mode;
    }

    private static void ValidateWeight(float? weight, string field)
    {
        if (weight is { } w && (!float.IsFinite(w) || w < 0f))
        {
            throw VectorStoreException.Invalid(field, $"must be a finite number ≥ 0, was {w}.");
        }
    }

    public async Task<IReadOnlyList<QueryHit>> QueryAsync(string mode, QueryRequest request, CancellationToken cancellationToken)
    {
        string text = request.Text!;
        if (mode == QueryModes.Text)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var textHits = SearchText(text, request.K, request, out var queryTerms);
            return [.. textHits.Select((h, i) => WithTextHighlight(request.Explain ? h.Hit with { Explanation = new HitExplanation(null, null, i + 1, h.Hit.Score) } : h.Hit, queryTerms))];
        }

        float[] query;
        if (request.Vector is { } vector)
        {
            query = collection.PrepareVector(vector, "vector");
        }
        else if (collection.Encoder is null)
        {
            throw VectorStoreException.Invalid("vector", $"collection '{collection.Settings.Name}' has no encoder; a hybrid query needs a vector of dimension {collection.Settings.Dimension} beside its text.");
        }
        else
        {
            query = collection.PrepareVector((await VectorStoreTelemetry.EmbedAsync(collection.Encoder, [text], collection.Settings.Name, EmbeddingInputType.Query, cancellationToken))[0], "text");
        }
        cancellationToken.ThrowIfCancellationRequested();

        int prefetch = HybridFusion.Prefetch(request);
        var denseRequest = request with { K = prefetch, Ef = request.Ef is { } ef ? Math.Max(ef, prefetch) : null, IncludeVectors = false, Explain = false };
        var dense = collection.Search(query, denseRequest, cancellationToken);
        var sparse = SearchText(text, prefetch, request with { IncludeVectors = false }, out var terms);
        var fused = HybridFusion.Fuse(request with { IncludeVectors = false }, collection.Settings.Metric.HigherIsBetter(), dense, [.. sparse.Select(h => h.Hit)]);
        for (int i = 0; i < fused.Count; i++)
        {
            // A long document only the text retriever found has no dense chunk: pick its best chunk by the query's terms.
            var hit = WithTextHighlight(fused[i], terms);
            fused[i] = request.IncludeVectors ? hit with { Vector = collection.Get(hit.Id, includeVector: true)?.Vector } : hit;
        }
        return fused;
    }

    /// <summary>This collection's BM25 statistics for the terms of <paramref name="text"/>.</summary>
    public TextStatistics GetTextStatistics(string text)
    {
        if (collection.Settings.TextIndex is null)
        {
            throw VectorStoreException.Invalid("mode", $"collection '{collection.Settings.Name}' has no text index; create it with \"text\": true to query in text or hybrid mode.");
        }
        var statistics = new Bm25Statistics(collection.Shards[0].TextIndex!.Analyzer.Analyze(text, out _));
        foreach (var shard in collection.Shards)
        {
            shard.TextIndex!.AddStatistics(statistics);
        }
        return statistics.ToPublic();
    }

    /// <summary>
    /// BM25 top-<paramref name="limit"/> over all shards, scored with collection-wide statistics; <paramref name="terms"/>
    /// are the query's analysed terms, returned so highlights need not analyse the query again.
    /// </summary>
    private List<(QueryHit Hit, int Rank)> SearchText(string text, int limit, QueryRequest request, out Dictionary<string, int> terms)
    {
        var textSettings = collection.Settings.TextIndex!;
        terms = collection.Shards[0].TextIndex!.Analyzer.Analyze(text, out _);
        var results = new List<(QueryHit, int)>();
        if (terms.Count == 0)
        {
            return results; // only stop words or punctuation: nothing to match
        }
        Bm25Statistics statistics;
        if (request.TextStatistics is { } supplied)
        {
            statistics = Bm25Statistics.From(terms, supplied);
        }
        else
        {
            statistics = new Bm25Statistics(terms);
            foreach (var shard in collection.Shards)
            {
                shard.TextIndex!.AddStatistics(statistics);
            }
        }
        var scratch = ArrayPool<Neighbor>.Shared.Rent(limit);
        try
        {
            var candidates = new List<(Shard Shard, Neighbor Hit)>(collection.Shards.Count == 1 ? limit : limit * collection.Shards.Count);
            foreach (var shard in collection.Shards)
            {
                int found = shard.SearchText(statistics, textSettings, scratch.AsSpan(0, limit), request.Filter);
                foreach (var hit in scratch.AsSpan(0, found))
                {
                    candidates.Add((shard, hit));
                }
            }
            if (collection.Shards.Count > 1)
            {
                candidates.Sort(static (a, b) => a.Hit.Distance.CompareTo(b.Hit.Distance));
            }
            foreach (var (shard, hit) in candidates)
            {
                if (results.Count == limit)
                {
                    break;
                }
                if (shard.GetByLabel(hit.Label) is { } document)
                {
                    results.Add((new QueryHit(document.Id, -hit.Distance, document.Text, document.Metadata,
                        request.IncludeVectors ? shard.ReadVector(hit.Label) : null), results.Count + 1));
                }
            }
            return results;
        }
        finally
        {
            ArrayPool<Neighbor>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// For a chunked document without a highlight, the chunk holding the most of the query's terms (each distinct
    /// term counts log(1 + frequency), so covering more terms beats repeating one); earliest chunk on a tie. Only
    /// final results get one, so the chunk texts are analysed for at most k documents.
    /// </summary>
    private QueryHit WithTextHighlight(QueryHit hit, Dictionary<string, int> terms)
    {
        if (hit.Highlight is not null || collection.Shards[collection.ShardOf(hit.Id)].GetStored(hit.Id) is not { Chunks: { } chunks, Text: { } text })
        {
            return hit;
        }
        var analyzer = collection.Shards[0].TextIndex!.Analyzer;
        int best = 0;
        double bestScore = 0;
        for (int c = 0; c < chunks.Length; c++)
        {
            var found = analyzer.Analyze(text[chunks[c].Start..chunks[c].End], out _);
            double score = 0;
            foreach (string term in terms.Keys)
            {
                score += found.TryGetValue(term, out int frequency) ? Math.Log(1 + frequency) : 0;
            }
            if (score > bestScore)
            {
                (best, bestScore) = (c, score);
            }
        }
        var chunk = chunks[best];
        return hit with { Highlight = new ChunkHighlight(best, chunk.Start, chunk.End, text[chunk.Start..chunk.End]) };
    }
}
