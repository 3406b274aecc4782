using System.Buffers;
using System.Diagnostics;
using VectorStoreDb.Embedding;
using VectorStoreDb.Engine.Diagnostics;
using VectorStoreDb.Index;

namespace VectorStoreDb.Engine;

/// <summary>Batch queries: the collection's state is in Collection.cs; this file holds the batch operation only.</summary>
internal sealed partial class Collection
{
    /// <summary>
    /// Many queries; result i answers query i. Dense queries without a filter (whose labels are their hits: no
    /// chunked documents, or chunks asked for) are grouped by (k, ef, exact) and each group is searched as one
    /// batch per shard; their texts are embedded in one encoder call. Every other query runs as <see cref="QueryAsync"/>.
    /// </summary>
    public async Task<IReadOnlyList<QueryHit>[]> QueryBatchAsync(IReadOnlyList<QueryRequest> requests, CancellationToken cancellationToken)
    {
        var results = new IReadOnlyList<QueryHit>[requests.Count];
        var vectors = new float[]?[requests.Count];
        var batched = new List<int>(requests.Count);
        var texts = new List<int>();
        bool labelsAreDocuments = _shards.All(s => s.ExtraChunkLabels == 0);
        for (int i = 0; i < requests.Count; i++)
        {
            var request = requests[i];
            try
            {
                if (_hybrid.ResolveMode(request) != QueryModes.Dense || request.Filter is not null || !(labelsAreDocuments || request.Chunks))
                {
                    continue;
                }
                if (request.Vector is { } vector)
                {
                    vectors[i] = PrepareVector(vector, "vector");
                }
                else if (string.IsNullOrWhiteSpace(request.Text))
                {
                    throw VectorStoreException.Invalid("text", "a query needs a non-empty text or a vector.");
                }
                else if (Encoder is null)
                {
                    throw VectorStoreException.Invalid("vector", $"collection '{Settings.Name}' has no encoder; query it with a vector of dimension {Settings.Dimension}.");
                }
                else
                {
                    texts.Add(i);
                }
                batched.Add(i);
            }
            catch (VectorStoreException e)
            {
                throw VectorStoreException.InBatch(i, e);
            }
        }
        if (texts.Count > 0)
        {
            var embedded = await VectorStoreTelemetry.EmbedAsync(Encoder!, [.. texts.Select(i => requests[i].Text!)], Settings.Name, EmbeddingInputType.Query, cancellationToken);
            for (int j = 0; j < texts.Count; j++)
            {
                vectors[texts[j]] = PrepareVector(embedded[j], "text");
            }
        }
        foreach (var group in batched.GroupBy(i => (requests[i].K, requests[i].Ef, requests[i].Exact)))
        {
            cancellationToken.ThrowIfCancellationRequested();
            SearchBatch([.. group], requests, vectors, results, cancellationToken);
        }
        for (int i = 0; i < requests.Count; i++)
        {
            if (results[i] is not null)
            {
                continue;
            }
            try
            {
                results[i] = await QueryAsync(requests[i], cancellationToken);
            }
            catch (VectorStoreException e)
            {
                throw VectorStoreException.InBatch(i, e);
            }
        }
        return results;
    }

    /// <summary>Searches the queries <paramref name="members"/> (same k, ef and exact) together in every shard and merges each query's hits.</summary>
    private void SearchBatch(int[] members, IReadOnlyList<QueryRequest> requests, float[]?[] vectors, IReadOnlyList<QueryHit>[] results, CancellationToken cancellationToken)
    {
        var shape = requests[members[0]];
        int k = shape.K;
        int n = members.Length;
        int dimension = Settings.Dimension;
        using var activity = VectorStoreTelemetry.Source.StartActivity(VectorStoreTelemetry.Spans.Search);
        activity?.SetTag(VectorStoreTelemetry.Tags.Collection, Settings.Name);
        activity?.SetTag(VectorStoreTelemetry.Tags.K, k);
        activity?.SetTag(VectorStoreTelemetry.Tags.BatchSize, n);
        long started = Stopwatch.GetTimestamp();
        var queries = ArrayPool<float>.Shared.Rent(n * dimension);
        var found = ArrayPool<Neighbor>.Shared.Rent(_shards.Length * n * k);
        var counts = ArrayPool<int>.Shared.Rent(_shards.Length * n);
        try
        {
            for (int q = 0; q < n; q++)
            {
                vectors[members[q]].AsSpan().CopyTo(queries.AsSpan(q * dimension, dimension));
            }
            var parameters = new SearchParameters(shape.Ef is { } ef ? Math.Max(ef, k) : 0, shape.Exact);
            for (int s = 0; s < _shards.Length; s++)
            {
                _shards[s].SearchBatch(queries.AsSpan(0, n * dimension), k, found.AsSpan(s * n * k, n * k), counts.AsSpan(s * n, n), parameters, cancellationToken);
            }
            var candidates = new List<(Shard Shard, Neighbor Hit)>(k * _shards.Length);
            for (int q = 0; q < n; q++)
            {
                candidates.Clear();
                for (int s = 0; s < _shards.Length; s++)
                {
                    foreach (var hit in found.AsSpan((s * n + q) * k, counts[s * n + q]))
                    {
                        candidates.Add((_shards[s], hit));
                    }
                }
                if (_shards.Length > 1)
                {
                    candidates.Sort(static (a, b) => a.Hit.Distance.CompareTo(b.Hit.Distance));
                }
                var request = requests[members[q]];
                QueryHit[] hits = [.. Hits(candidates, k, request, perDocument: false)];
                results[members[q]] = request.Explain ? ExplainDense(hits) : hits;
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(queries);
            ArrayPool<Neighbor>.Shared.Return(found);
            ArrayPool<int>.Shared.Return(counts);
        }
        VectorStoreTelemetry.SearchDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds,
            new KeyValuePair<string, object?>(VectorStoreTelemetry.Tags.Collection, Settings.Name));
    }
}
