using VectorStoreDb.Engine.Filtering;
using VectorStoreDb.Engine.Text;
using VectorStoreDb.Index;

namespace VectorStoreDb.Engine;

// The shard's full-text side: an inverted index fed by Apply (writes and log replay alike) and rebuilt from the
// documents of a loaded checkpoint, so it is derived from durable state and needs no files of its own.
internal sealed partial class Shard
{
    private const int ParallelAnalysisBatch = 64;

    private TextIndex? _text;

    /// <summary>The shard's BM25 index, or null when the collection has none.</summary>
    public TextIndex? TextIndex => _text;

    private static TextIndex? CreateTextIndex(CollectionSettings settings) =>
        settings.TextIndex is { } text ? new TextIndex(new TextAnalyzer(text.Language)) : null;

    /// <summary>Each upsert's analysed text (null entries for deletes), or null when the shard has no text index.</summary>
    private AnalyzedText?[]? AnalyzeForText(IReadOnlyList<Storage.StorageRecord> records)
    {
        if (_text is null)
        {
            return null;
        }
        var text = _text;
        var analyzed = new AnalyzedText?[records.Count];
        // The analyser is thread-safe (a token stream per thread): a large batch is analysed on every core.
        if (records.Count >= ParallelAnalysisBatch)
        {
            Parallel.For(0, records.Count, i => analyzed[i] = records[i].Kind == Storage.RecordKind.Upsert ? text.Analyze(records[i].Text) : null);
            return analyzed;
        }
        for (int i = 0; i < records.Count; i++)
        {
            if (records[i].Kind == Storage.RecordKind.Upsert)
            {
                analyzed[i] = text.Analyze(records[i].Text);
            }
        }
        return analyzed;
    }

    /// <summary>Drops the text index's content (recovery starts over from an empty shard).</summary>
    private void ResetText()
    {
        if (_text is not null)
        {
            _text.Dispose();
            _text = CreateTextIndex(_settings);
        }
    }

    /// <summary>Indexes every document of a freshly loaded checkpoint (label = position in the table).</summary>
    private void RebuildText(StoredDocument?[] documents)
    {
        if (_text is null)
        {
            return;
        }
        ResetText();
        for (int label = 0; label < documents.Length; label++)
        {
            if (documents[label] is { } document && IsPrimaryLabel(document, label))
            {
                _text!.Upsert(label, document.Text);
            }
        }
    }

    /// <summary>BM25 search in this shard under collection-wide statistics; results are (label, −score), best first.</summary>
    public int SearchText(Bm25Statistics statistics, TextIndexSettings settings, Span<Neighbor> destination, MetadataFilter? filter) =>
        _text is null ? 0 : _text.Search(statistics, settings.K1, settings.B, destination, filter is null ? null : new DocumentFilter(this, filter));
}
