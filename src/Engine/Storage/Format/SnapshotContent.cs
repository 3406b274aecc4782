namespace VectorStoreDb.Engine.Storage.Format;

/// <summary>A snapshot read and checked whole: the collection's settings, its fitted projection (empty when none) and one state per shard.</summary>
internal sealed class SnapshotContent(CollectionSettings settings, byte[] projection) : IDisposable
{
    public CollectionSettings Settings { get; } = settings;

    public byte[] Projection { get; } = projection;

    public List<ShardCheckpoint> Shards { get; } = [];

    public void Dispose()
    {
        foreach (var shard in Shards)
        {
            shard.Dispose();
        }
    }
}
