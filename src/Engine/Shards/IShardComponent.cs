using VectorStoreDb.Engine.Storage.Format;

namespace VectorStoreDb.Engine.Shards;

/// <summary>
/// One part of a shard's state (documents, vectors, projected vectors, text). The shard allocates labels and calls
/// every component in a fixed order under its write lock, for live writes and log replay alike; a component keeps
/// its own state and touches no other's.
/// </summary>
internal interface IShardComponent : IDisposable
{
    /// <summary>A document was written under <see cref="ShardWrite.Label"/> (and its chunks under their labels).</summary>
    void ApplyUpsert(in ShardWrite write);

    /// <summary>A label was freed: a deleted document's own label, or a chunk label its new version no longer uses.</summary>
    void ApplyRemove(int label);

    /// <summary>Back to empty (recovery falls back to an older checkpoint or the whole log).</summary>
    void Reset();

    /// <summary>Copies this component's part of a checkpoint into <paramref name="image"/> (under the write lock: memory only).</summary>
    void Capture(ShardImageBuilder image);

    /// <summary>Takes this component's part of a checkpoint that was read and checked whole.</summary>
    void Load(ShardCheckpoint checkpoint);
}
