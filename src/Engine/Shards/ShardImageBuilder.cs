using VectorStoreDb.Engine.Storage;
using VectorStoreDb.Engine.Storage.Format;

namespace VectorStoreDb.Engine.Shards;

/// <summary>Collects the components' parts of a checkpoint under the write lock, then becomes one <see cref="ShardImage"/>.</summary>
internal sealed class ShardImageBuilder(int nextLabel)
{
    public StoredDocument?[]? Documents { get; set; }

    public int Count { get; set; }

    public string? IndexKind { get; set; }

    public ChunkedBuffer? Index { get; set; }

    public SavedProjectedIndex? Projected { get; set; }

    public ShardImage Build() => new(
        Documents ?? throw new InvalidOperationException("No component captured the documents."),
        nextLabel,
        Count,
        IndexKind ?? throw new InvalidOperationException("No component captured the vector index."),
        Index!,
        Projected);
}
