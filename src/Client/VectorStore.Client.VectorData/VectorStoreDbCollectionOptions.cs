using Microsoft.Extensions.VectorData;

namespace VectorStoreDb.Client.VectorData;

/// <summary>Options for a <see cref="VectorStoreDbCollection{TKey, TRecord}"/>.</summary>
public sealed class VectorStoreDbCollectionOptions : VectorStoreCollectionOptions
{
    /// <summary>Creates default options.</summary>
    public VectorStoreDbCollectionOptions()
    {
    }

    /// <summary>Copies <paramref name="source"/>.</summary>
    public VectorStoreDbCollectionOptions(VectorStoreDbCollectionOptions source) : base(source)
    {
        Encoder = source.Encoder;
        TextProperty = source.TextProperty;
        M = source.M;
        EfConstruction = source.EfConstruction;
        Shards = source.Shards;
    }

    /// <summary>
    /// The server-side encoder (e.g. <c>demo</c>) a new collection embeds its document text with. Records then need
    /// no vector: the store embeds the text property, and searching with a <see cref="string"/> sends the text to
    /// the store. Null creates a raw-vector collection (encoder <c>none</c>) sized by the vector property.
    /// </summary>
    public string? Encoder { get; set; }

    /// <summary>
    /// The data property (model name) stored as the document text. Default: the first <see cref="string"/> data
    /// property marked <c>IsFullTextIndexed</c>.
    /// </summary>
    public string? TextProperty { get; set; }

    /// <summary>HNSW links per node for a new collection (server default when null).</summary>
    public int? M { get; set; }

    /// <summary>HNSW build beam width for a new collection (server default when null).</summary>
    public int? EfConstruction { get; set; }

    /// <summary>Shards of a new collection (server default when null).</summary>
    public int? Shards { get; set; }
}

/// <summary>Options for a <see cref="VectorStoreDbVectorStore"/>, applied to the collections it hands out.</summary>
public sealed class VectorStoreDbVectorStoreOptions
{
    /// <summary>The default embedding generator for collections and their vector properties.</summary>
    public Microsoft.Extensions.AI.IEmbeddingGenerator? EmbeddingGenerator { get; set; }

    /// <summary>The server-side encoder for collections created through this store; see <see cref="VectorStoreDbCollectionOptions.Encoder"/>.</summary>
    public string? Encoder { get; set; }
}
