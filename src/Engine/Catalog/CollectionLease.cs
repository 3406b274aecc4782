namespace VectorStoreDb.Engine.Catalog;

/// <summary>
/// A reference to an open collection held for one operation: while it is held, a concurrent delete cannot dispose
/// the collection under the operation. Dispose exactly once (<c>using var lease = ...</c>).
/// </summary>
internal readonly struct CollectionLease(CollectionEntry entry) : IDisposable
{
    public Collection Collection => entry.Collection;

    public void Dispose() => entry?.Release();
}
