namespace VectorStoreDb.IntegrationTests.VectorData;

/// <summary>
/// Collects an async sequence. Not <c>ToListAsync</c>: the engine's FASTER dependency brings System.Linq.Async,
/// whose <c>ToListAsync</c> is ambiguous with the one now in the .NET base library.
/// </summary>
internal static class AsyncEnumerableExtensions
{
    public static async Task<List<T>> CollectAsync<T>(this IAsyncEnumerable<T> source)
    {
        var list = new List<T>();
        await foreach (var item in source)
        {
            list.Add(item);
        }
        return list;
    }
}
