using VectorStoreDb.Engine.Storage;
using VectorStoreDb.Engine.Storage.Format;
using VectorStoreDb.Engine.Text;
using VectorStoreDb.Index;

namespace VectorStoreDb.Engine.Shards;

/// <summary>
/// The shard's full-text side: an inverted index over each document's own label, fed by every write (live and
/// replayed) and rebuilt from the documents of a loaded checkpoint, so it is derived from durable state and has
/// no section of its own.
/// </summary>
internal sealed class TextIndexComponent(TextIndexSettings settings) : IShardComponent
{
    private const int ParallelAnalysisBatch = 64;

    private TextIndex _text = Create(settings);

    public TextIndex Index => _text;

    private static TextIndex Create(TextIndexSettings settings) => new(new TextAnalyzer(settings.Language));

    /// <summary>Each upsert's analysed text (null entries for deletes); runs before the write lock, as analysis is the costly part.</summary>
    public AnalyzedText?[] Analyze(IReadOnlyList<StorageRecord> records)
    {
        var text = _text;
        var analyzed = new AnalyzedText?[records.Count];
        // The analyser is thread-safe (a token stream per thread): a large batch is analysed on every core.
        if (records.Count >= ParallelAnalysisBatch)
        {
            Parallel.For(0, records.Count, i => analyzed[i] = records[i].Kind == RecordKind.Upsert ? text.Analyze(records[i].Text) : null);
            return analyzed;
        }
        for (int i = 0; i < records.Count; i++)
        {
            if (records[i].Kind == RecordKind.Upsert)
            {
                analyzed[i] = text.Analyze(records[i].Text);
            }
        }
        return analyzed;
    }

    public void ApplyUpsert(in ShardWrite write) => _text.Upsert(write.Label, write.Text ?? _text.Analyze(write.Record.Text));

    public void ApplyRemove(int label) => _text.Remove(label);

    public void Reset()
    {
        _text.Dispose();
        _text = Create(settings);
    }

    public void Capture(ShardImageBuilder image)
    {
    }

    /// <summary>Indexes every document of the loaded checkpoint under its own label.</summary>
    public void Load(ShardCheckpoint checkpoint)
    {
        Reset();
        var documents = checkpoint.Documents;
        for (int label = 0; label < documents.Length; label++)
        {
            if (documents[label] is { } document && CheckpointFormat.IsPrimaryLabel(document, label))
            {
                _text.Upsert(label, document.Text);
            }
        }
    }

    /// <summary>BM25 search under collection-wide statistics; results are (label, −score), best first.</summary>
    public int Search(Bm25Statistics statistics, TextIndexSettings query, Span<Neighbor> destination, ILabelFilter? filter) =>
        _text.Search(statistics, query.K1, query.B, destination, filter);

    public void Dispose() => _text.Dispose();
}
