using VectorStoreDb.Engine.Storage;
using VectorStoreDb.Engine.Storage.Format;
using VectorStoreDb.Index;

namespace VectorStoreDb.Engine.Shards;

/// <summary>The full vectors of every label (documents and chunks) in the collection's index: the durable copy that searches, rescoring and projections read.</summary>
internal sealed class VectorIndexComponent(CollectionSettings settings) : IShardComponent
{
    private IVectorIndex _index = IndexFactory.Create(settings);

    public IVectorIndex Index => _index;

    public void ApplyUpsert(in ShardWrite write)
    {
        _index.Upsert(write.Label, write.VectorOf(0));
        var chunks = write.Document.Chunks;
        for (int i = 1; i < (chunks?.Length ?? 0); i++)
        {
            _index.Upsert(chunks![i].Label, write.VectorOf(i));
        }
    }

    public void ApplyRemove(int label) => _index.Remove(label);

    public void Reset()
    {
        _index.Dispose();
        _index = IndexFactory.Create(settings);
    }

    public void Capture(ShardImageBuilder image)
    {
        var saved = new ChunkedBuffer();
        _index.Save(saved);
        image.IndexKind = _index.Kind;
        image.Index = saved;
    }

    public void Load(ShardCheckpoint checkpoint)
    {
        var old = _index;
        _index = checkpoint.TakeIndex();
        old.Dispose();
    }

    /// <summary>A copy of the full vector under <paramref name="label"/>, or null when the label holds none.</summary>
    public float[]? ReadVector(int label)
    {
        var vector = new float[_index.Dimension];
        return _index.TryGetVector(label, vector) ? vector : null;
    }

    public void Dispose() => _index.Dispose();
}
