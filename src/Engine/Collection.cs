using System.Buffers;
using System.IO.Hashing;
using System.Text;
using System.Diagnostics;
using VectorStoreDb.Embedding;
using VectorStoreDb.Engine.Projection;
using VectorStoreDb.Engine.Diagnostics;
using VectorStoreDb.Engine.Storage;
using VectorStoreDb.Engine.Text;
using VectorStoreDb.Engine.Validation;
using VectorStoreDb.Index;

namespace VectorStoreDb.Engine;

/// <summary>
/// A named set of documents split over shards by a stable hash of the id. Validates a whole request
/// before touching anything, so a refused request changes nothing.
/// </summary>
internal sealed partial class Collection : IDisposable
{
    /// <summary>Where a fitted PCA is kept, beside the collection's settings.</summary>
    internal const string ProjectionFile = "projection.bin";

    private readonly Shard[] _shards;
    private readonly LimitsOptions _limits;
    private readonly RequestValidator _validator;
    private readonly ProjectionFitting _projection;
    private readonly HybridSearch _hybrid;

    public Collection(CollectionSettings settings, ITextEncoder? encoder, IStorageProvider storage, LimitsOptions limits)
    {
        Settings = settings;
        Encoder = encoder;
        _limits = limits;
        _validator = new RequestValidator(limits);
        _shards = new Shard[settings.Shards];
        _projection = new ProjectionFitting(this, storage);
        _hybrid = new HybridSearch(this);
        try
        {
            var projection = ProjectionFitting.Load(settings, storage);
            for (int i = 0; i < _shards.Length; i++)
            {
                _shards[i] = new Shard(settings, storage.OpenShard(settings.Name, i), projection);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public CollectionSettings Settings { get; }

    public ITextEncoder? Encoder { get; }

    public long Count => _shards.Sum(s => (long)s.Count);

    /// <summary>The request limits this collection enforces.</summary>
    public LimitsOptions Limits => _limits;

    /// <summary>The projection its index holds, or null while searches run over full vectors (none, or PCA not fitted yet).</summary>
    public IProjection? Projection => _shards[0].Projection;

    public CollectionInfo Info => new(Settings, Count, Projection is not null);

    /// <summary>Vectors held by the indexes (for the metrics gauges).</summary>
    public long VectorCount => _shards.Sum(s => (long)s.Index.Count);

    /// <summary>Bytes held by the indexes (for the metrics gauges).</summary>
    public long IndexMemoryBytes => _shards.Sum(s => s.Index.MemoryBytes + (s.ProjectedIndexOrNull?.MemoryBytes ?? 0));

    internal IReadOnlyList<Shard> Shards => _shards;

    /// <summary>Checkpoints every shard that has writes no checkpoint covers (all of them when <paramref name="force"/>).</summary>
    public async Task<int> CheckpointAsync(bool force, CancellationToken cancellationToken)
    {
        int written = 0;
        foreach (var shard in _shards)
        {
            if (await shard.CheckpointAsync(force, cancellationToken))
            {
                written++;
            }
        }
        return written;
    }

    /// <summary>Writes a batch the engine's <see cref="RequestValidator.Upsert"/> already accepted.</summary>
    public async Task<IReadOnlyList<string>> UpsertAsync(IReadOnlyList<DocumentInput> documents, CancellationToken cancellationToken)
    {
        var ids = _validator.UpsertInto(Settings, Encoder is not null, documents);
        var vectors = new float[documents.Count][];
        var toEmbed = new List<int>();
        for (int i = 0; i < documents.Count; i++)
        {
            if (documents[i].Vector is { } vector)
            {
                vectors[i] = PrepareVector(vector, $"documents[{i}].vector");
            }
            else
            {
                toEmbed.Add(i);
            }
        }
        var chunks = new IReadOnlyList<ChunkRecord>?[documents.Count];
        if (toEmbed.Count > 0)
        {
            await EmbedAsync(documents, toEmbed, vectors, chunks, cancellationToken);
        }

        var perShard = new List<StorageRecord>?[_shards.Length];
        for (int i = 0; i < documents.Count; i++)
        {
            int shard = ShardOf(ids[i]);
            (perShard[shard] ??= []).Add(new StorageRecord(RecordKind.Upsert, ids[i], documents[i].Text, vectors[i], documents[i].Metadata ?? Metadata.Empty) { Chunks = chunks[i] });
        }
        await Task.WhenAll(perShard.Select((records, shard) => records is null ? Task.CompletedTask : _shards[shard].WriteAsync(records, cancellationToken)));
        await _projection.AfterWriteAsync(cancellationToken);
        return ids;
    }

    public Document? Get(string id, bool includeVector) => _shards[ShardOf(id)].Get(id, includeVector);

    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        var shard = _shards[ShardOf(id)];
        if (!shard.ContainsId(id))
        {
            return false;
        }
        await shard.WriteAsync([new StorageRecord(RecordKind.Delete, id)], cancellationToken);
        return true;
    }

    public async Task<IReadOnlyList<QueryHit>> QueryAsync(QueryRequest request, CancellationToken cancellationToken)
    {
        string mode = _hybrid.ResolveMode(request);
        if (mode != QueryModes.Dense)
        {
            return await _hybrid.QueryAsync(mode, request, cancellationToken);
        }
        float[] query;
        if (request.Vector is { } vector)
        {
            query = PrepareVector(vector, "vector");
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
            query = PrepareVector((await VectorStoreTelemetry.EmbedAsync(Encoder, [request.Text], Settings.Name, EmbeddingInputType.Query, cancellationToken))[0], "text");
        }
        cancellationToken.ThrowIfCancellationRequested();
        using var activity = VectorStoreTelemetry.Source.StartActivity(VectorStoreTelemetry.Spans.Search);
        activity?.SetTag(VectorStoreTelemetry.Tags.Collection, Settings.Name);
        activity?.SetTag(VectorStoreTelemetry.Tags.K, request.K);
        long started = Stopwatch.GetTimestamp();
        var hits = Search(query, request, cancellationToken);
        VectorStoreTelemetry.SearchDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds,
            new KeyValuePair<string, object?>(VectorStoreTelemetry.Tags.Collection, Settings.Name));
        activity?.SetTag(VectorStoreTelemetry.Tags.Hits, hits.Length);
        return request.Explain ? ExplainDense(hits) : hits;
    }

    /// <inheritdoc cref="HybridSearch.GetTextStatistics"/>
    public TextStatistics GetTextStatistics(string text) => _hybrid.GetTextStatistics(text);

    /// <summary>Dense search: the k best documents (or chunks, when asked) for <paramref name="query"/>.</summary>
    internal QueryHit[] Search(float[] query, QueryRequest request, CancellationToken cancellationToken)
    {
        int k = request.K;
        long extraChunks = _shards.Sum(s => (long)s.ExtraChunkLabels);
        if (extraChunks == 0 || request.Chunks)
        {
            // One label per hit: documents as they are, or chunks when asked for.
            var candidates = SearchLabels(query, k, request, cancellationToken, out _);
            return [.. Hits(candidates, k, request, perDocument: false)];
        }
        // Several labels may belong to one document: fetch more than k labels, keep each document's best chunk, and
        // widen the search until k documents are found or the index has no more labels to give.
        long labels = _shards.Sum(s => (long)s.Index.Count);
        int fetch = (int)Math.Min(labels, Math.Max(2L * k, k + (extraChunks * k / Math.Max(1, labels - extraChunks))));
        while (true)
        {
            var candidates = SearchLabels(query, Math.Max(fetch, k), request, cancellationToken, out bool exhausted);
            var hits = Hits(candidates, k, request, perDocument: true);
            if (hits.Count == k || exhausted || fetch >= labels)
            {
                return [.. hits];
            }
            fetch = (int)Math.Min(labels, 4L * fetch);
        }
    }

    /// <summary>The <paramref name="fetch"/> best labels of every shard, best first; <paramref name="exhausted"/> when no shard had more.</summary>
    private List<(Shard Shard, Neighbor Hit)> SearchLabels(float[] query, int fetch, QueryRequest request, CancellationToken cancellationToken, out bool exhausted)
    {
        var parameters = new SearchParameters(request.Ef is { } ef ? Math.Max(ef, fetch) : 0, request.Exact);
        var scratch = ArrayPool<Neighbor>.Shared.Rent(fetch);
        try
        {
            // Each shard returns its own best; labels are per shard, so keep the shard beside each hit.
            var candidates = new List<(Shard Shard, Neighbor Hit)>(fetch * _shards.Length);
            exhausted = true;
            for (int s = 0; s < _shards.Length; s++)
            {
                // Between shards, so an abandoned request stops spending CPU on the remaining ones.
                cancellationToken.ThrowIfCancellationRequested();
                var shard = _shards[s];
                int found;
                using (var shardActivity = _shards.Length > 1 ? VectorStoreTelemetry.Source.StartActivity(VectorStoreTelemetry.Spans.ShardSearch) : null)
                {
                    shardActivity?.SetTag(VectorStoreTelemetry.Tags.Shard, s);
                    found = shard.Search(query, scratch.AsSpan(0, fetch), parameters, request.Filter);
                }
                exhausted &= found < fetch;
                foreach (var hit in scratch.AsSpan(0, found))
                {
                    candidates.Add((shard, hit));
                }
            }
            if (_shards.Length > 1)
            {
                candidates.Sort(static (a, b) => a.Hit.Distance.CompareTo(b.Hit.Distance));
            }
            return candidates;
        }
        finally
        {
            ArrayPool<Neighbor>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// Up to <paramref name="k"/> hits from labels sorted best first. Per document, the first (best) chunk wins and
    /// becomes the highlight; per label, each hit is a chunk and always carries its range.
    /// </summary>
    private List<QueryHit> Hits(List<(Shard Shard, Neighbor Hit)> candidates, int k, QueryRequest request, bool perDocument)
    {
        var hits = new List<QueryHit>(Math.Min(k, candidates.Count));
        var seen = perDocument ? new HashSet<StoredDocument>(ReferenceEqualityComparer.Instance) : null;
        foreach (var (shard, hit) in candidates)
        {
            if (hits.Count == k)
            {
                break;
            }
            if (shard.GetByLabel(hit.Label) is not { } document || (seen is not null && !seen.Add(document)))
            {
                continue;
            }
            ChunkHighlight? highlight = null;
            if (document.Text is { } text && (document.Chunks is not null || request.Chunks))
            {
                var chunk = document.ChunkAt(hit.Label, out int number);
                highlight = new ChunkHighlight(number, chunk.Start, chunk.End, text[chunk.Start..chunk.End]);
            }
            hits.Add(new QueryHit(document.Id, Settings.Metric.ToScore(hit.Distance), document.Text, document.Metadata,
                request.IncludeVectors ? shard.ReadVector(hit.Label) : null) { Highlight = highlight });
        }
        return hits;
    }

    /// <summary>
    /// Embeds the texts of <paramref name="toEmbed"/> in one encoder call: a text longer than the chunk window
    /// becomes several chunks (chunk 0's vector is the document's vector), the others one vector each.
    /// </summary>
    private async Task EmbedAsync(IReadOnlyList<DocumentInput> documents, List<int> toEmbed, float[][] vectors, IReadOnlyList<ChunkRecord>?[] chunks, CancellationToken cancellationToken)
    {
        var chunker = Settings.Chunking ? Encoder as ITextChunker : null;
        int window = Settings.ChunkTokens == 0 ? chunker?.WindowTokens ?? 0 : Settings.ChunkTokens;
        var texts = new List<string>(toEmbed.Count);
        var split = new IReadOnlyList<TextChunk>?[toEmbed.Count];
        for (int j = 0; j < toEmbed.Count; j++)
        {
            string text = documents[toEmbed[j]].Text!;
            // A token covers at least one character, so a text no longer than the window cannot need a second chunk.
            if (chunker is not null && text.Length > window
                && chunker.Chunk(text, Settings.ChunkOverlap, Settings.ChunkTokens == 0 ? null : Settings.ChunkTokens) is { Count: > 1 } parts)
            {
                if (parts.Count > _limits.MaxChunksPerDocument)
                {
                    string field = $"documents[{toEmbed[j]}].text";
                    throw new VectorStoreException(ErrorCode.LimitExceeded,
                        $"{field}: splits into {parts.Count} chunks; the limit is {_limits.MaxChunksPerDocument} per document.", field);
                }
                split[j] = parts;
                texts.AddRange(parts.Select(p => p.Text));
            }
            else
            {
                texts.Add(text);
            }
        }
        var embeddings = await VectorStoreTelemetry.EmbedAsync(Encoder!, texts, Settings.Name, EmbeddingInputType.Document, cancellationToken);
        int next = 0;
        for (int j = 0; j < toEmbed.Count; j++)
        {
            int i = toEmbed[j];
            string field = $"documents[{i}].text";
            if (split[j] is { } parts)
            {
                var records = new ChunkRecord[parts.Count];
                for (int c = 0; c < parts.Count; c++)
                {
                    records[c] = new ChunkRecord(parts[c].Start, parts[c].End, PrepareVector(embeddings[next++], field));
                }
                chunks[i] = records;
                vectors[i] = records[0].Vector;
            }
            else
            {
                vectors[i] = PrepareVector(embeddings[next++], field);
            }
        }
    }

    internal float[] PrepareVector(float[] vector, string field)
    {
        RequestValidator.Vector(Settings, vector, field);
        var prepared = (float[])vector.Clone();
        Settings.Metric.Prepare(prepared);
        return prepared;
    }

    internal int ShardOf(string id)
    {
        if (_shards.Length == 1)
        {
            return 0;
        }
        int max = Encoding.UTF8.GetMaxByteCount(id.Length);
        Span<byte> utf8 = max <= 1024 ? stackalloc byte[max] : new byte[max];
        int n = Encoding.UTF8.GetBytes(id, utf8);
        return (int)(XxHash32.HashToUInt32(utf8[..n]) % (uint)_shards.Length);
    }

    /// <summary>
    /// Fits the PCA on up to <see cref="CollectionSettings.PcaSampleSize"/> stored full vectors, persists it and
    /// rebuilds every shard's projected index. Returns the number of vectors fitted on.
    /// </summary>
    public Task<int> RefitProjectionAsync(CancellationToken cancellationToken) => _projection.RefitAsync(cancellationToken);

    private static QueryHit[] ExplainDense(QueryHit[] hits)
    {
        for (int i = 0; i < hits.Length; i++)
        {
            hits[i] = hits[i] with { Explanation = new HitExplanation(i + 1, hits[i].Score, null, null) };
        }
        return hits;
    }

    public void Dispose()
    {
        foreach (var shard in _shards)
        {
            shard?.Dispose();
        }
    }
}
