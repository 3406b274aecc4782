using VectorStoreDb.Engine.Filtering;

namespace VectorStoreDb.Engine.Operations;

/// <summary>
/// Reads documents of one collection in bulk: pages in id order, a batch of ids, and filtered scrolls (in id order
/// or ordered by a metadata field). Reads only: a document deleted while a page is assembled is left out rather
/// than returned half-gone. The caller holds a lease on the collection for the call.
/// </summary>
internal static class DocumentReader
{
    /// <summary>Ids asked of each shard per round of an id-ordered scroll (more when the page is larger).</summary>
    private const int ScrollRoundSize = 256;

    /// <summary>
    /// A page in ordinal id order, after the cursor <paramref name="after"/> and then <paramref name="offset"/> ids.
    /// Each shard keeps its ids sorted once listed, so a page costs O(shards × (offset + limit) + log n).
    /// </summary>
    public static DocumentPage List(Collection found, int offset, int limit, string? after, bool includeVectors)
    {
        var shards = found.Shards;
        long total = found.Count;

        // One more than the page needs from every shard tells whether anything lies beyond the page.
        int wanted = (int)Math.Min(int.MaxValue - 1L, (long)offset + limit);
        var candidates = new List<(string Id, Shard Shard)>();
        var ids = new List<string>(Math.Min(wanted + 1, 4096));
        foreach (var shard in shards)
        {
            ids.Clear();
            shard.CollectIdsAfter(after, wanted + 1, ids);
            candidates.AddRange(ids.Select(id => (id, shard)));
        }
        if (shards.Count > 1)
        {
            candidates.Sort(static (a, b) => string.CompareOrdinal(a.Id, b.Id));
        }
        if (candidates.Count <= offset)
        {
            return new DocumentPage([], total, offset, limit, after, NextAfter: null);
        }
        int end = Math.Min(candidates.Count, wanted);
        var page = new List<Document>(end - offset);
        for (int i = offset; i < end; i++)
        {
            if (candidates[i].Shard.Get(candidates[i].Id, includeVectors) is { } document)
            {
                page.Add(document);
            }
        }
        // The cursor is the last id the page covered (even if that document vanished meanwhile), so the next page
        // starts right after it; null when nothing is left beyond this page.
        string? next = candidates.Count > wanted ? candidates[end - 1].Id : null;
        return new DocumentPage(page, total, offset, limit, after, next);
    }

    /// <summary>
    /// The documents under <paramref name="ids"/>, in request order; an id with no document is left out, and an id
    /// asked for twice is returned twice.
    /// </summary>
    public static IReadOnlyList<Document> GetMany(Collection found, IReadOnlyList<string> ids, bool includeVectors)
    {
        var documents = new List<Document>(ids.Count);
        foreach (string id in ids)
        {
            if (found.Get(id, includeVectors) is { } document)
            {
                documents.Add(document);
            }
        }
        return documents;
    }

    public static ScrollPage Scroll(Collection found, ScrollRequest request, CancellationToken cancellationToken) =>
        request.OrderBy is { } order
            ? ScrollByField(found, request, order, cancellationToken)
            : ScrollById(found, request, cancellationToken);

    /// <summary>
    /// Id order: walks the shards' sorted ids from the cursor in rounds, merging them, and keeps the documents the
    /// filter matches until the page and one more are found (the one more says whether a next page exists). Without
    /// a filter a page costs O(shards × log n + limit); a filter adds the documents it rejects on the way. Writes
    /// between pages are tolerated: the cursor only moves forward, so no document is returned twice, and every
    /// document present for the whole scroll is returned once.
    /// </summary>
    private static ScrollPage ScrollById(Collection found, ScrollRequest request, CancellationToken cancellationToken)
    {
        var shards = found.Shards;
        string? position = request.After is null ? null : ScrollCursor.ReadId(request.After);
        int round = Math.Max(ScrollRoundSize, request.Limit + 1);
        var page = new List<Document>(request.Limit);
        var perShard = new List<string>[shards.Count];
        var merged = new List<(string Id, Shard Shard)>();
        string? lastReturned = null;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            merged.Clear();
            // Ids up to the smallest "last id" of any shard that filled its round are complete: a shard that filled
            // its round may hold more ids beyond it, which the next round reads.
            string? bound = null;
            for (int s = 0; s < shards.Count; s++)
            {
                var ids = perShard[s] ??= new List<string>(round);
                ids.Clear();
                shards[s].CollectIdsAfter(position, round, ids);
                if (ids.Count == round && (bound is null || string.CompareOrdinal(ids[^1], bound) < 0))
                {
                    bound = ids[^1];
                }
                foreach (string id in ids)
                {
                    merged.Add((id, shards[s]));
                }
            }
            if (shards.Count > 1)
            {
                merged.Sort(static (a, b) => string.CompareOrdinal(a.Id, b.Id));
            }
            foreach (var (id, shard) in merged)
            {
                if (bound is not null && string.CompareOrdinal(id, bound) > 0)
                {
                    break;
                }
                if (!Matches(shard, id, request.Filter))
                {
                    continue;
                }
                if (page.Count == request.Limit)
                {
                    // A match beyond the full page: there is a next page, starting after the last returned id.
                    return new ScrollPage(page, ScrollCursor.ForId(lastReturned!));
                }
                if (shard.Get(id, request.IncludeVectors) is { } document)
                {
                    page.Add(document);
                    lastReturned = id;
                }
            }
            if (bound is null)
            {
                return new ScrollPage(page, null);
            }
            position = bound;
        }
    }

    /// <summary>
    /// Field order: every shard keeps its best <c>limit + 1</c> matching documents positioned after the cursor (a
    /// bounded heap over its documents, O(n log limit)), then the shards' candidates are merged. The cursor is the
    /// (value, id) position of the page's last document, so pages neither repeat nor skip a document whose value does
    /// not change during the scroll; a document whose value changes between pages may be seen again or missed.
    /// </summary>
    private static ScrollPage ScrollByField(Collection found, ScrollRequest request, ScrollOrder order, CancellationToken cancellationToken)
    {
        ScrollKey? after = request.After is null ? null : ScrollCursor.ReadKey(request.After, order);
        int wanted = request.Limit + 1;
        bool descending = order.Descending;
        var comparer = Comparer<ScrollKey>.Create((a, b) => ScrollKey.Compare(a, b, descending));
        // The heap's root is its worst candidate, so a better one replaces it in O(log limit).
        var worstFirst = Comparer<ScrollKey>.Create((a, b) => ScrollKey.Compare(b, a, descending));
        var candidates = new List<(ScrollKey Key, Shard Shard)>();
        var ids = new List<string>();
        foreach (var shard in found.Shards)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var heap = new PriorityQueue<ScrollKey, ScrollKey>(wanted + 1, worstFirst);
            ids.Clear();
            shard.CollectIdsAfter(null, int.MaxValue, ids);
            foreach (string id in ids)
            {
                if (shard.GetStored(id) is not { } stored || (request.Filter is { } filter && !filter.Matches(stored.Metadata)))
                {
                    continue;
                }
                var key = ScrollKey.Of(id, stored.Metadata, order.Field);
                if (after is { } cursor && ScrollKey.Compare(key, cursor, descending) <= 0)
                {
                    continue;
                }
                if (heap.Count < wanted)
                {
                    heap.Enqueue(key, key);
                }
                else if (ScrollKey.Compare(key, heap.Peek(), descending) < 0)
                {
                    heap.DequeueEnqueue(key, key);
                }
            }
            while (heap.TryDequeue(out var key, out _))
            {
                candidates.Add((key, shard));
            }
        }
        candidates.Sort((a, b) => comparer.Compare(a.Key, b.Key));
        var page = new List<Document>(Math.Min(request.Limit, candidates.Count));
        ScrollKey last = default;
        int taken = 0;
        foreach (var (key, shard) in candidates)
        {
            if (taken == request.Limit)
            {
                return new ScrollPage(page, ScrollCursor.ForKey(order, last));
            }
            taken++;
            last = key;
            if (shard.Get(key.Id, request.IncludeVectors) is { } document)
            {
                page.Add(document);
            }
        }
        return new ScrollPage(page, null);
    }

    private static bool Matches(Shard shard, string id, MetadataFilter? filter) =>
        filter is null ? shard.ContainsId(id) : shard.GetStored(id) is { } stored && filter.Matches(stored.Metadata);
}
