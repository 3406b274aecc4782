using System.Runtime.CompilerServices;

namespace VectorStoreDb.Client;

/// <summary>Helpers over <see cref="IVectorStoreClient"/> that work the same for remote and embedded stores.</summary>
public static class VectorStoreClientExtensions
{
    /// <summary>
    /// Every document of a collection in ordinal id order, fetched <paramref name="pageSize"/> at a time by following
    /// the <see cref="VectorDocumentPage.NextAfter"/> cursor, so memory holds one page whatever the collection's size.
    /// Documents written during the scan show up when their id lies ahead of the cursor; none is returned twice.
    /// </summary>
    public static async IAsyncEnumerable<VectorDocument> ScanDocumentsAsync(this IVectorStoreClient client, string collection, bool includeVectors = false,
        int pageSize = 256, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(collection);
        string? after = null;
        do
        {
            var page = await client.ListDocumentsAsync(collection, after, pageSize, includeVectors, 0, cancellationToken).ConfigureAwait(false);
            foreach (var document in page.Documents)
            {
                yield return document;
            }
            after = page.NextAfter;
        }
        while (after is not null);
    }

    /// <summary>
    /// Every document <paramref name="query"/> matches, in its order, fetched <see cref="ScrollQuery.Limit"/> at a time by
    /// following <see cref="ScrollResult.Next"/> (starting at <see cref="ScrollQuery.After"/>), so memory holds one page.
    /// </summary>
    public static async IAsyncEnumerable<VectorDocument> ScrollDocumentsAsync(this IVectorStoreClient client, string collection, ScrollQuery query,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(query);
        var page = query;
        while (true)
        {
            var result = await client.ScrollAsync(collection, page, cancellationToken).ConfigureAwait(false);
            foreach (var document in result.Documents)
            {
                yield return document;
            }
            if (result.Next is null)
            {
                yield break;
            }
            page = page with { After = result.Next };
        }
    }
}
