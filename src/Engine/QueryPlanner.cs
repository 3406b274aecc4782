using VectorStoreDb.Engine.Filtering;
using VectorStoreDb.Index.Hnsw;

namespace VectorStoreDb.Engine;

/// <summary>
/// Chooses between the graph and an exact scan for a filtered query. A graph search with a filter that
/// few documents pass wanders through many rejected nodes before it finds k matches (and may find fewer),
/// while an exact scan evaluates the filter once per document and computes distances only for the matches.
/// The choice rests on the filter's selectivity measured on a fixed-size, evenly spaced sample of documents.
/// </summary>
internal static class QueryPlanner
{
    /// <summary>Documents the filter is evaluated on to estimate its selectivity.</summary>
    public const int SampleSize = 256;

    /// <summary>Below this fraction of matching documents the exact scan wins.</summary>
    public const double ExactSelectivity = 0.03;

    /// <summary>Below this many estimated matches per unit of beam width the exact scan wins too (small shards).</summary>
    public const int ExactMatchesPerEf = 10;

    /// <summary>The effective beam width of a query (the index default when unset, never below k).</summary>
    public static int EffectiveEf(int? ef, int k) => Math.Max(ef is > 0 ? ef.Value : HnswIndex.DefaultEf, k);

    /// <summary>
    /// True when the exact filtered scan should answer: the filter matches under <see cref="ExactSelectivity"/>
    /// of the sample, or fewer than <see cref="ExactMatchesPerEf"/>·ef documents are expected to match.
    /// </summary>
    public static bool PreferExactScan(Shard shard, MetadataFilter filter, int ef, out double selectivity)
    {
        selectivity = shard.EstimateSelectivity(filter, SampleSize);
        return selectivity < ExactSelectivity || selectivity * shard.Count < (double)ExactMatchesPerEf * ef;
    }
}
