using VectorStoreDb.Engine;
using VectorStoreDb.Engine.Shards;
using VectorStoreDb.Engine.Storage;

namespace VectorStoreDb.Tests.Shards;

/// <summary>The documents component on its own: ids, chunk labels and the sorted listing follow upserts and removals.</summary>
public sealed class DocumentTableTests
{
    private static ShardWrite Write(int label, string id, params StoredChunk[] chunks)
    {
        var document = new StoredDocument(id, "some text here", Metadata.Empty) { Chunks = chunks.Length > 1 ? chunks : null };
        return new ShardWrite(label, document, new StorageRecord(RecordKind.Upsert, id, document.Text, [1f], Metadata.Empty), null);
    }

    [Fact]
    public void Chunk_labels_point_at_their_document_and_only_the_own_label_carries_the_id()
    {
        using var table = new DocumentTable(new SemaphoreSlim(1, 1));
        table.EnsureCapacity(5);
        table.ApplyUpsert(Write(0, "b"));
        table.ApplyUpsert(Write(1, "a", new StoredChunk(1, 0, 4), new StoredChunk(2, 5, 9), new StoredChunk(3, 10, 14)));

        Assert.Equal(2, table.Count);
        Assert.Equal(2, table.ExtraChunkLabels);
        Assert.Same(table.Get(1), table.Get(3));
        Assert.True(table.TryGetLabel("a", out int label));
        Assert.Equal(1, label);
        var ids = new List<string>();
        table.CollectIdsAfter(null, 10, ids);
        Assert.Equal(["a", "b"], ids);

        // A chunk label freed: the document keeps its id; its own label freed: the id goes, from the listing too.
        table.ApplyRemove(3);
        Assert.Null(table.Get(3));
        Assert.Equal(1, table.ExtraChunkLabels);
        Assert.True(table.TryGetLabel("a", out _));
        table.ApplyRemove(1);
        Assert.False(table.TryGetLabel("a", out _));
        ids.Clear();
        table.CollectIdsAfter(null, 10, ids);
        Assert.Equal(["b"], ids);

        table.Reset();
        Assert.Equal(0, table.Count);
        Assert.Equal(0, table.ExtraChunkLabels);
        Assert.Null(table.Get(0));
    }
}
