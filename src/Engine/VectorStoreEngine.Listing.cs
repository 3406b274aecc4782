namespace VectorStoreDb.Engine;

public sealed partial class VectorStoreEngine
{
    /// <summary>Largest page <see cref="ListDocuments"/> returns.</summary>
    public const int MaxListLimit = 1_000;

    /// <summary>
    /// Pages through a collection's documents in ordinal id order, so pages are stable while the collection
    /// does not change. Two ways to page:
    /// <list type="bullet">
    /// <item><paramref name="after"/> (a cursor: the previous page's <see cref="DocumentPage.NextAfter"/>) returns the ids
    /// strictly greater than it; pages stay correct while documents are written (each id shows up at most once).</item>
    /// <item><paramref name="offset"/> skips that many ids (after the cursor, when both are given), so deep offsets
    /// cost more: scans should follow the cursor.</item>
    /// </list>
    /// Each shard keeps its ids sorted once listed, so a page costs O(shards × (offset + limit) + log n), not a pass
    /// over the collection.
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
        var found = Find(collection);
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
            // A document deleted since the ids were read is skipped rather than returned half-gone.
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
}
