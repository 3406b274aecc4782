using VectorStore.Engine.Filtering;
using VectorStore.Engine.Text;
using VectorStore.Index;

namespace VectorStore.Engine;

// The shard's full-text side: an inverted index fed by Apply (writes and replay alike), so it needs no files.
internal sealed partial class Shard
{
    private readonly TextIndex? _text;

    /// <summary>The shard's BM25 index, or null when the collection has none.</summary>
    public TextIndex? TextIndex => _text;

    /// <summary>BM25 search in this shard under collection-wide statistics; results are (label, −score), best first.</summary>
    public int SearchText(Bm25Statistics statistics, TextIndexSettings settings, Span<Neighbor> destination, MetadataFilter? filter) =>
        _text is null ? 0 : _text.Search(statistics, settings.K1, settings.B, destination, filter is null ? null : new DocumentFilter(this, filter));
}
