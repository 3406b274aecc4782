namespace VectorStoreDb.Engine.Operations;

/// <summary>
/// Merges the pages several stores answered for one scroll request into the page one store holding all their
/// documents would answer: what a cluster coordinator does with its shards' pages. Each part must have answered
/// the same request (filter, order, limit and cursor) over its own documents; the cursor this returns is the
/// engine's own, so every part reads it back on the next page.
/// </summary>
public static class ScrollMerge
{
    /// <summary>
    /// The first <see cref="ScrollRequest.Limit"/> documents of the parts' pages in scroll order, with a next cursor
    /// when the parts hold more: a part's page is its own best <c>limit</c> after the cursor, so the union holds the
    /// whole collection's best <c>limit</c>, and anything beyond it exists exactly when the union is larger or a part
    /// said it has more (<see cref="ScrollPage.Next"/> not null; only its null-ness is read).
    /// </summary>
    public static ScrollPage Merge(ScrollRequest request, IReadOnlyList<ScrollPage> parts)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(parts);
        bool more = false;
        var all = new List<Document>();
        foreach (var part in parts)
        {
            all.AddRange(part.Documents);
            more |= part.Next is not null;
        }
        if (request.OrderBy is not { } order)
        {
            all.Sort(static (a, b) => string.CompareOrdinal(a.Id, b.Id));
            more |= all.Count > request.Limit;
            var page = all.Count > request.Limit ? all.GetRange(0, request.Limit) : all;
            return new ScrollPage(page, more && page.Count > 0 ? ScrollCursor.ForId(page[^1].Id) : null);
        }
        var keyed = all.Select(d => (Key: ScrollKey.Of(d.Id, d.Metadata, order.Field), Document: d)).ToList();
        keyed.Sort((a, b) => ScrollKey.Compare(a.Key, b.Key, order.Descending));
        more |= keyed.Count > request.Limit;
        var taken = keyed.Count > request.Limit ? keyed.GetRange(0, request.Limit) : keyed;
        return new ScrollPage([.. taken.Select(t => t.Document)], more && taken.Count > 0 ? ScrollCursor.ForKey(order, taken[^1].Key) : null);
    }
}
