namespace VectorStoreDb.Engine.Catalog;

/// <summary>
/// An open collection with a reference count, so a delete never disposes a collection an operation is still using.
/// The catalog holds one reference while the collection is listed; every operation takes one more (a
/// <see cref="CollectionLease"/>) when it finds the collection and drops it when it ends. Delete drops the catalog's
/// reference; whoever drops the last one disposes the collection, after which no lease can be taken.
/// </summary>
internal sealed class CollectionEntry(Collection collection)
{
    /// <summary>Live references; 0 is final (disposed or being disposed), so an acquire never revives it.</summary>
    private int _references = 1;
    private int _closed;
    private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Collection Collection { get; } = collection;

    /// <summary>Takes a reference unless the collection is already closed and drained; lock-free (one CAS).</summary>
    public bool TryAcquire()
    {
        int current = Volatile.Read(ref _references);
        while (current > 0)
        {
            int seen = Interlocked.CompareExchange(ref _references, current + 1, current);
            if (seen == current)
            {
                return true;
            }
            current = seen;
        }
        return false;
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) != 0)
        {
            return;
        }
        try
        {
            Collection.Dispose();
            _disposed.TrySetResult();
        }
        catch (Exception ex)
        {
            // Reported to whoever waits for the close (delete, shutdown), not to the operation that happened to be last.
            _disposed.TrySetException(ex);
        }
    }

    /// <summary>
    /// Drops the catalog's reference (once): operations already holding a lease finish, new ones cannot start. The
    /// task completes when the last lease is released and the collection's files are closed.
    /// </summary>
    public Task CloseAsync()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            Release();
        }
        return _disposed.Task;
    }
}
