using VectorStoreDb.Index;

namespace VectorStoreDb.Engine.Text;

/// <summary>
/// One shard's in-memory inverted index for BM25. It holds no files of its own: the shard feeds it from the
/// same records it applies to the vector index, both on the write path and while replaying its log at open,
/// so the text index is exactly as durable as the documents and needs no second commit protocol.
/// Postings are compact parallel arrays (label, term frequency) per term; writers take a write lock, queries
/// a read lock, so a query sees each document either wholly indexed or not at all.
/// </summary>
internal sealed class TextIndex : IDisposable
{
    private readonly TextAnalyzer _analyzer;
    private readonly Dictionary<string, Postings> _terms = new(StringComparer.Ordinal);
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    [ThreadStatic]
    private static float[]? t_scores;
    [ThreadStatic]
    private static int[]? t_touched;

    private int[] _lengths = new int[1024];
    private string[]?[] _documentTerms = new string[]?[1024];
    private int _documentCount;
    private long _totalLength;

    public TextIndex(TextAnalyzer analyzer) => _analyzer = analyzer;

    public TextAnalyzer Analyzer => _analyzer;

    /// <summary>Indexes (or re-indexes) the text under <paramref name="label"/>; a null or empty text just removes it.</summary>
    public void Upsert(int label, string? text) => Upsert(label, Analyze(text));

    /// <summary>Analyses a text ahead of <see cref="Upsert(int, AnalyzedText)"/>, so writers can do it outside their locks.</summary>
    public AnalyzedText Analyze(string? text) => new(_analyzer.Analyze(text, out int length), length);

    /// <summary>Indexes (or re-indexes) an analysed text under <paramref name="label"/>.</summary>
    public void Upsert(int label, AnalyzedText analyzed)
    {
        var (terms, length) = analyzed;
        _lock.EnterWriteLock();
        try
        {
            RemoveLocked(label);
            if (length == 0)
            {
                return;
            }
            EnsureCapacity(label);
            var keys = new string[terms.Count];
            int i = 0;
            foreach (var (term, frequency) in terms)
            {
                if (!_terms.TryGetValue(term, out var postings))
                {
                    _terms[term] = postings = new Postings();
                }
                postings.Add(label, frequency);
                keys[i++] = term;
            }
            _documentTerms[label] = keys;
            _lengths[label] = length;
            _documentCount++;
            _totalLength += length;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    public void Remove(int label)
    {
        _lock.EnterWriteLock();
        try
        {
            RemoveLocked(label);
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Adds this shard's document count, total length and each term's document frequency to collection-wide statistics.</summary>
    public void AddStatistics(Bm25Statistics statistics)
    {
        _lock.EnterReadLock();
        try
        {
            statistics.DocumentCount += _documentCount;
            statistics.TotalLength += _totalLength;
            foreach (var term in statistics.Terms)
            {
                if (_terms.TryGetValue(term.Term, out var postings))
                {
                    term.DocumentFrequency += postings.Count;
                }
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>
    /// Scores every document holding a query term with BM25 under collection-wide <paramref name="statistics"/> and
    /// keeps the best in <paramref name="destination"/> as (label, −score), best first. Returns how many were kept.
    /// </summary>
    public int Search(Bm25Statistics statistics, float k1, float b, Span<Neighbor> destination, ILabelFilter? filter)
    {
        if (destination.IsEmpty || statistics.DocumentCount == 0)
        {
            return 0;
        }
        float averageLength = (float)((double)statistics.TotalLength / statistics.DocumentCount);
        _lock.EnterReadLock();
        try
        {
            int capacity = _lengths.Length;
            // Per-thread accumulators, kept all-zero between queries: no allocation and no clearing per query.
            if (t_scores is null || t_scores.Length < capacity)
            {
                t_scores = new float[capacity];
                t_touched = new int[capacity];
            }
            var scores = t_scores;
            var touched = t_touched!;
            int touchedCount = 0;
            var lengths = _lengths;
            foreach (var term in statistics.Terms)
            {
                if (term.DocumentFrequency == 0 || !_terms.TryGetValue(term.Term, out var postings))
                {
                    continue;
                }
                float weight = term.QueryFrequency * Bm25.Idf(statistics.DocumentCount, term.DocumentFrequency);
                var labels = postings.Labels.AsSpan(0, postings.Count);
                var frequencies = postings.Frequencies.AsSpan(0, postings.Count);
                for (int i = 0; i < labels.Length; i++)
                {
                    int label = labels[i];
                    float tf = frequencies[i];
                    float norm = k1 * (1f - b + b * lengths[label] / averageLength);
                    float contribution = weight * tf * (k1 + 1f) / (tf + norm);
                    if (scores[label] == 0f)
                    {
                        touched[touchedCount++] = label;
                    }
                    scores[label] += contribution;
                }
            }
            var heap = new TopKHeap(destination);
            for (int i = 0; i < touchedCount; i++)
            {
                int label = touched[i];
                float score = scores[label];
                scores[label] = 0f;
                if (-score < heap.Threshold && (filter is null || filter.Allows(label)))
                {
                    heap.Push(label, -score);
                }
            }
            return heap.SortAscending();
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    private void RemoveLocked(int label)
    {
        if ((uint)label >= (uint)_documentTerms.Length || _documentTerms[label] is not { } keys)
        {
            return;
        }
        foreach (string term in keys)
        {
            var postings = _terms[term];
            postings.Remove(label);
            if (postings.Count == 0)
            {
                _terms.Remove(term);
            }
        }
        _documentTerms[label] = null;
        _documentCount--;
        _totalLength -= _lengths[label];
        _lengths[label] = 0;
    }

    private void EnsureCapacity(int label)
    {
        if (label < _lengths.Length)
        {
            return;
        }
        int size = Math.Max(label + 1, _lengths.Length * 2);
        Array.Resize(ref _lengths, size);
        Array.Resize(ref _documentTerms, size);
    }

    public void Dispose()
    {
        _lock.Dispose();
        _analyzer.Dispose();
    }

    /// <summary>One term's documents. Removal swaps the last entry in, so order is arbitrary (scoring does not need it).</summary>
    private sealed class Postings
    {
        public int[] Labels = new int[2];
        public int[] Frequencies = new int[2];
        public int Count;

        public void Add(int label, int frequency)
        {
            if (Count == Labels.Length)
            {
                Array.Resize(ref Labels, Count * 2);
                Array.Resize(ref Frequencies, Count * 2);
            }
            Labels[Count] = label;
            Frequencies[Count] = frequency;
            Count++;
        }

        public void Remove(int label)
        {
            int at = Array.IndexOf(Labels, label, 0, Count);
            if (at < 0)
            {
                return;
            }
            Count--;
            Labels[at] = Labels[Count];
            Frequencies[at] = Frequencies[Count];
        }
    }
}

/// <summary>The BM25 formula as Lucene's BM25Similarity defines it (without Lucene's lossy length encoding).</summary>
internal static class Bm25
{
    /// <summary>idf = ln(1 + (N − df + 0.5) / (df + 0.5)); always positive.</summary>
    public static float Idf(long documentCount, long documentFrequency) =>
        (float)Math.Log(1.0 + (documentCount - documentFrequency + 0.5) / (documentFrequency + 0.5));
}

/// <summary>Collection-wide statistics for one query, so every shard scores against the same idf and average length.</summary>
internal sealed class Bm25Statistics
{
    public Bm25Statistics(Dictionary<string, int> queryTerms) =>
        Terms = [.. queryTerms.Select(t => new QueryTerm(t.Key, t.Value))];

    public QueryTerm[] Terms { get; }

    public long DocumentCount { get; set; }

    public long TotalLength { get; set; }

    /// <summary>Statistics supplied from outside (a cluster's sum over its shards) instead of summed here.</summary>
    public static Bm25Statistics From(Dictionary<string, int> queryTerms, TextStatistics supplied)
    {
        var statistics = new Bm25Statistics(queryTerms) { DocumentCount = supplied.DocumentCount, TotalLength = supplied.TotalLength };
        foreach (var term in statistics.Terms)
        {
            term.DocumentFrequency = supplied.DocumentFrequencies.GetValueOrDefault(term.Term);
        }
        return statistics;
    }

    public TextStatistics ToPublic() =>
        new(DocumentCount, TotalLength, Terms.ToDictionary(t => t.Term, t => t.DocumentFrequency, StringComparer.Ordinal));

    internal sealed class QueryTerm(string term, int queryFrequency)
    {
        public string Term { get; } = term;

        public int QueryFrequency { get; } = queryFrequency;

        public long DocumentFrequency { get; set; }
    }
}

/// <summary>A text's terms with their frequencies, and its length in terms.</summary>
internal readonly record struct AnalyzedText(Dictionary<string, int> Terms, int Length);
