namespace VectorStore.Engine;

internal sealed partial class Shard
{
    /// <summary>
    /// The live ids, in no order, read straight from the id map: unlike <see cref="Ids"/> (the map's <c>Keys</c>,
    /// which locks every bucket and copies all ids) this allocates nothing per id and never blocks writers, so a
    /// cursor page costs one pass and a heap of the page size.
    /// </summary>
    public IEnumerable<string> EnumerateIds()
    {
        foreach (var pair in _labels)
        {
            yield return pair.Key;
        }
    }
}
