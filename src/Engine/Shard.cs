using System.Collections.Concurrent;
using VectorStore.Engine.Filtering;
using VectorStore.Engine.Storage;
using VectorStore.Index;
using VectorStore.Index.Hnsw;

namespace VectorStore.Engine;

/// <summary>
/// One shard of a collection: its own index, its own log and the documents that hash to it. Writes are
/// serialised per shard (log order = apply order); reads run concurrently and never take the write lock.
/// </summary>
internal sealed class Shard : IDisposable
{
    private readonly IVectorIndex _index;
    private readonly IShardStore _store;
    private readonly ConcurrentDictionary<string, int> _labels = new(StringComparer.Ordinal);
    private readonly Stack<int> _freeLabels = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private volatile StoredDocument?[] _documents = new StoredDocument?[1024];
    private int _nextLabel;

    public Shard(IVectorIndex index, IShardStore store)
    {
        _index = index;
        _store = store;
        // Replay the log into the maps first and build the index once at the end, in parallel when it can.
        var pending = new Dictionary<int, float[]>();
        foreach (var record in store.Replay())
        {
            Apply(record, pending);
        }
        LoadIndex(pending);
    }

    private void LoadIndex(Dictionary<int, float[]> pending)
    {
        if (pending.Count == 0)
        {
            return;
        }
        if (_index is HnswIndex hnsw)
        {
            var labels = new int[pending.Count];
            var vectors = new float[pending.Count * _index.Dimension];
            int i = 0;
            foreach (var (label, vector) in pending)
            {
                labels[i] = label;
                vector.CopyTo(vectors, i++ * _index.Dimension);
            }
            hnsw.UpsertBatch(labels, vectors);
            return;
        }
        foreach (var (label, vector) in pending)
        {
            _index.Upsert(label, vector);
        }
    }

    public int Count => _labels.Count;

    public IVectorIndex Index => _index;

    /// <summary>Makes the records durable, then visible. Cancellation is honoured only before the log write starts.</summary>
    public async Task WriteAsync(IReadOnlyList<StorageRecord> records, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            await _store.AppendAsync(records, cancellationToken);
            foreach (var record in records)
            {
                Apply(record);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public bool ContainsId(string id) => _labels.ContainsKey(id);

    public Document? Get(string id, bool includeVector)
    {
        if (!_labels.TryGetValue(id, out int label) || _documents[label] is not { } stored)
        {
            return null;
        }
        return new Document(stored.Id, stored.Text, stored.Metadata, includeVector ? ReadVector(label) : null);
    }

    public StoredDocument? GetByLabel(int label)
    {
        var documents = _documents;
        return (uint)label < (uint)documents.Length ? documents[label] : null;
    }

    public float[]? ReadVector(int label)
    {
        var vector = new float[_index.Dimension];
        return _index.TryGetVector(label, vector) ? vector : null;
    }

    public int Search(ReadOnlySpan<float> query, Span<Neighbor> destination, SearchParameters parameters, MetadataFilter? filter)
    {
        if (filter is null)
        {
            return _index.Search(query, destination, parameters);
        }
        // Planner: a very selective filter is answered by the exact filtered scan (distances for matches only).
        if (!parameters.Exact && _index.Kind != IndexKinds.Exact
            && QueryPlanner.PreferExactScan(this, filter, QueryPlanner.EffectiveEf(parameters.Ef, destination.Length), out _))
        {
            parameters = parameters with { Exact = true };
        }
        return _index.Search(query, destination, parameters, new DocumentFilter(this, filter));
    }

    /// <summary>Fraction of documents passing <paramref name="filter"/>, measured on up to <paramref name="sampleSize"/> evenly spaced labels.</summary>
    public double EstimateSelectivity(MetadataFilter filter, int sampleSize)
    {
        var documents = _documents;
        int end = Math.Min(Volatile.Read(ref _nextLabel), documents.Length);
        int step = Math.Max(1, end / sampleSize);
        int sampled = 0;
        int matched = 0;
        for (int label = 0; label < end; label += step)
        {
            if (documents[label] is { } document)
            {
                sampled++;
                matched += filter.Matches(document.Metadata) ? 1 : 0;
            }
        }
        return sampled == 0 ? 0 : (double)matched / sampled;
    }

    /// <summary>Applies one record; during replay (<paramref name="pending"/> set) vectors are collected instead of indexed.</summary>
    private void Apply(StorageRecord record, Dictionary<int, float[]>? pending = null)
    {
        if (record.Kind == RecordKind.Delete)
        {
            if (_labels.TryRemove(record.Id, out int removed))
            {
                if (pending is null)
                {
                    _index.Remove(removed);
                }
                else
                {
                    pending.Remove(removed);
                }
                _documents[removed] = null;
                _freeLabels.Push(removed);
            }
            return;
        }
        if (!_labels.TryGetValue(record.Id, out int label))
        {
            label = _freeLabels.Count > 0 ? _freeLabels.Pop() : _nextLabel++;
        }
        EnsureCapacity(label);
        // Vector first, then document, then id: a reader that finds the id always finds both.
        var vector = record.Vector ?? throw new InvalidDataException($"Upsert record for {record.Id} has no vector.");
        if (pending is null)
        {
            _index.Upsert(label, vector);
        }
        else
        {
            pending[label] = vector;
        }
        _documents[label] = new StoredDocument(record.Id, record.Text, record.Metadata ?? Metadata.Empty);
        _labels[record.Id] = label;
    }

    private void EnsureCapacity(int label)
    {
        var documents = _documents;
        if (label < documents.Length)
        {
            return;
        }
        var grown = new StoredDocument?[Math.Max(label + 1, documents.Length * 2)];
        documents.CopyTo(grown, 0);
        _documents = grown;
    }

    public void Dispose()
    {
        _store.Dispose();
        _index.Dispose();
        _writeLock.Dispose();
    }

    /// <summary>Evaluates the metadata filter on candidates as the index meets them.</summary>
    private sealed class DocumentFilter(Shard shard, MetadataFilter filter) : ILabelFilter
    {
        public bool Allows(int label) => shard.GetByLabel(label) is { } document && filter.Matches(document.Metadata);
    }
}

/// <summary>A document's non-vector parts as held in memory.</summary>
internal sealed record StoredDocument(string Id, string? Text, IReadOnlyDictionary<string, MetadataValue> Metadata);
