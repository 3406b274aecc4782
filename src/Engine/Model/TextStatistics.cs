namespace VectorStoreDb.Engine;

/// <summary>
/// The BM25 statistics a text query is scored with: the number of documents with text, their total length in terms,
/// and each query term's document frequency. A collection sums its own shards'; a cluster sums every shard's over the
/// nodes and hands the total to each (<see cref="QueryRequest.TextStatistics"/>), so a document's score does not
/// depend on which shard holds it.
/// </summary>
public sealed record TextStatistics(long DocumentCount, long TotalLength, IReadOnlyDictionary<string, long> DocumentFrequencies)
{
    /// <summary>The sum of several shards' statistics for the same query text.</summary>
    public static TextStatistics Sum(IEnumerable<TextStatistics> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        long documents = 0;
        long length = 0;
        var frequencies = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var part in parts)
        {
            documents += part.DocumentCount;
            length += part.TotalLength;
            foreach (var (term, frequency) in part.DocumentFrequencies)
            {
                frequencies[term] = frequencies.GetValueOrDefault(term) + frequency;
            }
        }
        return new TextStatistics(documents, length, frequencies);
    }
}
