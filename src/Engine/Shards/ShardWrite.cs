using VectorStoreDb.Engine.Storage;
using VectorStoreDb.Engine.Text;

namespace VectorStoreDb.Engine.Shards;

/// <summary>
/// One applied upsert as every component sees it: the document's own label, the stored document (its chunks carry
/// their labels), the log record with the vectors, and the analysed text when the shard has a text index.
/// </summary>
internal readonly record struct ShardWrite(int Label, StoredDocument Document, StorageRecord Record, AnalyzedText? Text)
{
    /// <summary>The vector of chunk <paramref name="chunk"/> (chunk 0 is the document's own vector).</summary>
    public float[] VectorOf(int chunk) => chunk == 0 ? Record.Vector! : Record.Chunks![chunk].Vector;
}
