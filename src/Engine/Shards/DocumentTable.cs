using System.Collections.Concurrent;
using VectorStoreDb.Engine.Filtering;
using VectorStoreDb.Engine.Storage.Format;

namespace VectorStoreDb.Engine.Shards;

/// <summary>
/// The shard's documents by label and by id. Long texts split into chunks: every chunk is its own label (so the
/// indexes, filters and projection need no change), all of a document's labels point at the one
/// <see cref="StoredDocument"/>, and the id maps to chunk 0's label only, so counts, listings and gets stay per
/// document. Listing in id order uses a sorted set built on first use (shards nobody pages through pay nothing)
/// and kept current by every write, so a page costs O(log n + page size).
/// </summary>
internal sealed class DocumentTable(SemaphoreSlim writeLock) : IShardComponent
{
    private volatile StoredDocument?[] _documents = new StoredDocument?[1024];
    private ConcurrentDictionary<string, int> _labels = new(StringComparer.Ordinal);
    private int _extraChunkLabels;
    private readonly ReaderWriterLockSlim _orderedIdsLock = new(LockRecursionPolicy.NoRecursion);
    private SortedSet<string>? _orderedIds;

    public int Count => _labels.Count;

    /// <summary>Index labels held by chunks beyond each document's first; 0 when no document is chunked.</summary>
    public int ExtraChunkLabels => Volatile.Read(ref _extraChunkLabels);

    /// <summary>The table by label as it is now (a later write may replace the array; entries are immutable).</summary>
    public StoredDocument?[] ByLabel => _documents;

    /// <summary>Every live document's own label.</summary>
    public ICollection<int> Labels => _labels.Values;

    public bool TryGetLabel(string id, out int label) => _labels.TryGetValue(id, out label);

    public StoredDocument? Get(int label)
    {
        var documents = _documents;
        return (uint)label < (uint)documents.Length ? documents[label] : null;
    }

    /// <summary>Called by the shard's label allocator, under the write lock.</summary>
    public void EnsureCapacity(int label)
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

    public void ApplyUpsert(in ShardWrite write)
    {
        var document = write.Document;
        var chunks = document.Chunks;
        for (int i = 1; i < (chunks?.Length ?? 0); i++)
        {
            _documents[chunks![i].Label] = document;
        }
        _extraChunkLabels += Math.Max(0, (chunks?.Length ?? 1) - 1);
        // The document before the id: a reader that finds the id always finds the document.
        _documents[write.Label] = document;
        if (_labels.TryAdd(document.Id, write.Label))
        {
            TrackOrderedId(document.Id, added: true);
        }
    }

    public void ApplyRemove(int label)
    {
        if (_documents[label] is not { } document)
        {
            return;
        }
        if (!CheckpointFormat.IsPrimaryLabel(document, label))
        {
            _extraChunkLabels--;
        }
        else if (_labels.TryRemove(document.Id, out _))
        {
            TrackOrderedId(document.Id, added: false);
        }
        _documents[label] = null;
    }

    public void Reset()
    {
        _labels = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        _documents = new StoredDocument?[1024];
        _extraChunkLabels = 0;
        ResetOrderedIds();
    }

    public void Capture(ShardImageBuilder image)
    {
        image.Documents = (StoredDocument?[])_documents.Clone();
        image.Count = _labels.Count;
    }

    public void Load(ShardCheckpoint checkpoint)
    {
        _labels = checkpoint.Labels;
        _extraChunkLabels = checkpoint.ExtraChunkLabels;
        _documents = checkpoint.Documents;
        ResetOrderedIds();
    }

    /// <summary>Fraction of documents passing <paramref name="filter"/>, measured on up to <paramref name="sampleSize"/> evenly spaced labels below <paramref name="end"/>.</summary>
    public double EstimateSelectivity(MetadataFilter filter, int sampleSize, int end)
    {
        var documents = _documents;
        end = Math.Min(end, documents.Length);
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

    /// <summary>
    /// Adds to <paramref name="destination"/> up to <paramref name="count"/> live ids strictly greater than
    /// <paramref name="after"/> (all ids when null), in ordinal order.
    /// </summary>
    public void CollectIdsAfter(string? after, int count, List<string> destination)
    {
        var ordered = _orderedIds ?? BuildOrderedIds();
        _orderedIdsLock.EnterReadLock();
        try
        {
            if (ordered.Count == 0 || (after is not null && string.CompareOrdinal(after, ordered.Max) >= 0))
            {
                return;
            }
            var view = after is null ? ordered : ordered.GetViewBetween(after, ordered.Max!);
            foreach (string id in view)
            {
                if (count == 0)
                {
                    break;
                }
                if (after is not null && string.CompareOrdinal(id, after) == 0)
                {
                    continue;
                }
                destination.Add(id);
                count--;
            }
        }
        finally
        {
            _orderedIdsLock.ExitReadLock();
        }
    }

    /// <summary>Builds the sorted ids under the shard's write lock, so no write slips between the copy and the first write that maintains it.</summary>
    private SortedSet<string> BuildOrderedIds()
    {
        writeLock.Wait();
        try
        {
            return _orderedIds ??= new SortedSet<string>(_labels.Keys, StringComparer.Ordinal);
        }
        finally
        {
            writeLock.Release();
        }
    }

    private void TrackOrderedId(string id, bool added)
    {
        if (_orderedIds is not { } ordered)
        {
            return;
        }
        _orderedIdsLock.EnterWriteLock();
        try
        {
            if (added)
            {
                ordered.Add(id);
            }
            else
            {
                ordered.Remove(id);
            }
        }
        finally
        {
            _orderedIdsLock.ExitWriteLock();
        }
    }

    /// <summary>Drops the sorted ids when the whole state is replaced (recovery, restore); the next listing rebuilds them.</summary>
    private void ResetOrderedIds()
    {
        _orderedIdsLock.EnterWriteLock();
        try
        {
            _orderedIds = null;
        }
        finally
        {
            _orderedIdsLock.ExitWriteLock();
        }
    }

    public void Dispose() => _orderedIdsLock.Dispose();
}
