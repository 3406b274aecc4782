using VectorStoreDb.Engine.Filtering;
using VectorStoreDb.Index;

namespace VectorStoreDb.Engine.Shards;

/// <summary>Evaluates a metadata filter on candidates as an index meets them.</summary>
internal sealed class DocumentFilter(DocumentTable documents, MetadataFilter filter) : ILabelFilter
{
    public bool Allows(int label) => documents.Get(label) is { } document && filter.Matches(document.Metadata);
}
