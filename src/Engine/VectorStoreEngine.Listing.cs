namespace VectorStore.Engine;

public sealed partial class VectorStoreEngine
{
    /// <summary>Largest page <see cref="ListDocuments"/> returns.</summary>
    public const int MaxListLimit = 1_000;

    /// <summary>
    /// Pages through a collection's documents in ordinal id order, so pages are stable while the collection
    /// does not change. Vectors are not included. Costs one pass over the ids with a heap of
    /// <paramref name="offset"/> + <paramref name="limit"/> entries, not a full sort.
    /// </summary>
    public DocumentPage ListDocuments(string collection, int offset = 0, int limit = 50)
    {
        if (offset < 0)
        {
            throw VectorStoreException.Invalid("offset", "must be 0 or more.");
        }
        if (limit < 1 || limit > MaxListLimit)
        {
            throw VectorStoreException.Invalid("limit", $"must be between 1 and {MaxListLimit}.");
        }
        var shards = Find(collection).Shards;

        // Keep the `wanted` smallest ids: a max-heap whose top is the largest kept id.
        long wanted = (long)offset + limit;
        var heap = new PriorityQueue<(string Id, Shard Shard), string>(Comparer<string>.Create((a, b) => string.CompareOrdinal(b, a)));
        long total = 0;
        foreach (var shard in shards)
        {
            foreach (string id in shard.Ids)
            {
                total++;
                if (heap.Count < wanted)
                {
                    heap.Enqueue((id, shard), id);
                }
                else if (string.CompareOrdinal(id, heap.Peek().Id) < 0)
                {
                    heap.EnqueueDequeue((id, shard), id);
                }
            }
        }
        if (total <= offset)
        {
            return new DocumentPage([], total, offset, limit);
        }

        // The heap yields largest first; the page is the first `limit` of the sorted tail after `offset`.
        var kept = new (string Id, Shard Shard)[heap.Count];
        for (int i = kept.Length - 1; i >= 0; i--)
        {
            kept[i] = heap.Dequeue();
        }
        var page = new List<Document>(Math.Min(limit, kept.Length - offset));
        for (int i = offset; i < kept.Length; i++)
        {
            // A document deleted since the ids were read is skipped rather than returned half-gone.
            if (kept[i].Shard.Get(kept[i].Id, includeVector: false) is { } document)
            {
                page.Add(document);
            }
        }
        return new DocumentPage(page, total, offset, limit);
    }
}
