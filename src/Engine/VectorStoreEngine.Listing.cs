namespace VectorStore.Engine;

public sealed partial class VectorStoreEngine
{
    /// <summary>Largest page <see cref="ListDocuments"/> returns.</summary>
    public const int MaxListLimit = 1_000;

    /// <summary>
    /// Pages through a collection's documents in ordinal id order, so pages are stable while the collection
    /// does not change. Two ways to page:
    /// <list type="bullet">
    /// <item><paramref name="after"/> (a cursor: the previous page's <see cref="DocumentPage.NextAfter"/>) returns the ids
    /// strictly greater than it; each page costs one pass over the ids with a heap of <paramref name="limit"/> entries,
    /// whatever the position, and pages stay correct while documents are written (each id shows up at most once).</item>
    /// <item><paramref name="offset"/> skips that many ids (after the cursor, when both are given); the heap grows to
    /// <paramref name="offset"/> + <paramref name="limit"/>, so deep offsets cost more: scans should follow the cursor.</item>
    /// </list>
    /// </summary>
    public DocumentPage ListDocuments(string collection, int offset = 0, int limit = 50, string? after = null, bool includeVectors = false)
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

        // Keep the `wanted` smallest ids above the cursor: a max-heap whose top is the largest kept id.
        long wanted = (long)offset + limit;
        var heap = new PriorityQueue<(string Id, Shard Shard), string>((int)Math.Min(wanted, 1024), Comparer<string>.Create((a, b) => string.CompareOrdinal(b, a)));
        long total = 0;
        long matching = 0;
        foreach (var shard in shards)
        {
            foreach (string id in shard.EnumerateIds())
            {
                total++;
                if (after is not null && string.CompareOrdinal(id, after) <= 0)
                {
                    continue;
                }
                matching++;
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
        if (matching <= offset)
        {
            return new DocumentPage([], total, offset, limit, after, NextAfter: null);
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
            if (kept[i].Shard.Get(kept[i].Id, includeVectors) is { } document)
            {
                page.Add(document);
            }
        }
        // The cursor is the last id the page covered (even if that document vanished meanwhile), so the next page
        // starts right after it; null when nothing is left beyond this page.
        string? next = matching > wanted ? kept[^1].Id : null;
        return new DocumentPage(page, total, offset, limit, after, next);
    }
}
