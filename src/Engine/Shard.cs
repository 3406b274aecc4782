using System.Collections.Concurrent;
using VectorStore.Engine.Filtering;
using VectorStore.Engine.Storage;
using VectorStore.Index;

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
        foreach (var record in store.Replay())
        {
            Apply(record);
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

    /// <summary>The live ids, in no order; enumerating does not block writers.</summary>
    public IEnumerable<string> Ids => _labels.Keys;

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

    public int Search(ReadOnlySpan<float> query, Span<Neighbor> destination, SearchParameters parameters, MetadataFilter? filter) =>
        _index.Search(query, destination, parameters, filter is null ? null : new DocumentFilter(this, filter));

    private void Apply(StorageRecord record)
    {
        if (record.Kind == RecordKind.Delete)
        {
            if (_labels.TryRemove(record.Id, out int removed))
            {
                _index.Remove(removed);
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
        _index.Upsert(label, record.Vector ?? throw new InvalidDataException($"Upsert record for {record.Id} has no vector."));
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
