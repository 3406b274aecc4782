namespace VectorStoreDb.Engine;

// Listing in id order. The id map is a hash map, so an ordered page would cost a pass over every id; instead a
// shard keeps its ids in a sorted set once something lists it (built on first use, so shards nobody pages through
// pay nothing) and keeps it current in Apply. A page is then O(log n + page size).
internal sealed partial class Shard
{
    private readonly ReaderWriterLockSlim _orderedIdsLock = new(LockRecursionPolicy.NoRecursion);
    private SortedSet<string>? _orderedIds;

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

    /// <summary>Builds the sorted ids under the write lock, so no write slips between the copy and the first Apply that maintains it.</summary>
    private SortedSet<string> BuildOrderedIds()
    {
        _writeLock.Wait();
        try
        {
            return _orderedIds ??= new SortedSet<string>(_labels.Keys, StringComparer.Ordinal);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Called by Apply (under the write lock) when an id appears or disappears.</summary>
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
}
