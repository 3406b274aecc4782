namespace VectorStoreDb.Cluster.Replication;

/// <summary>
/// Names one replica: the node that holds it, the collection, the collection's incarnation (so a collection deleted
/// and created again never meets its predecessor's replicas) and the shard.
/// </summary>
public readonly record struct ReplicaKey(string Node, string Collection, string Incarnation, int Shard)
{
    public ShardKey ShardKey => new(Collection, Incarnation, Shard);

    /// <summary>The engine collection that holds this replica on its node; hidden from users.</summary>
    public string LocalCollection => ShardKey.LocalCollection;

    public override string ToString() => $"{Node}|{Collection}|{Incarnation}|{Shard}";

    public static ReplicaKey Parse(string key)
    {
        var parts = key.Split('|');
        if (parts.Length != 4 || !int.TryParse(parts[3], out int shard))
        {
            throw new FormatException($"'{key}' is not a replica key (node|collection|incarnation|shard).");
        }
        return new ReplicaKey(parts[0], parts[1], parts[2], shard);
    }
}
