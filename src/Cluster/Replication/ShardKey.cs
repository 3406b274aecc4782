namespace VectorStoreDb.Cluster.Replication;

/// <summary>Names one shard of one collection incarnation: the key of its sequencer grain.</summary>
public readonly record struct ShardKey(string Collection, string Incarnation, int Shard)
{
    /// <summary>
    /// <c>&lt;collection (≤40)&gt;--&lt;incarnation&gt;-s&lt;shard&gt;</c>: within the engine's 64-character name rule and
    /// still readable by an operator looking at the data folder.
    /// </summary>
    public string LocalCollection => $"{(Collection.Length > 40 ? Collection[..40] : Collection)}--{Incarnation}-s{Shard}";

    public ReplicaKey OnNode(string node) => new(node, Collection, Incarnation, Shard);

    public override string ToString() => $"{Collection}|{Incarnation}|{Shard}";

    public static ShardKey Parse(string key)
    {
        var parts = key.Split('|');
        if (parts.Length != 3 || !int.TryParse(parts[2], out int shard))
        {
            throw new FormatException($"'{key}' is not a shard key (collection|incarnation|shard).");
        }
        return new ShardKey(parts[0], parts[1], shard);
    }
}
