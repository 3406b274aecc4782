using VectorStore.Index;
using VectorStore.Index.Hnsw;

namespace VectorStore.Engine;

/// <summary>Builds the index a collection's settings ask for.</summary>
internal static class IndexFactory
{
    public static IReadOnlyList<string> SupportedKinds { get; } = [IndexKinds.Exact, IndexKinds.Hnsw];

    /// <summary>The kind a collection gets when its request names none.</summary>
    public const string DefaultKind = IndexKinds.Hnsw;

    public static IVectorIndex Create(CollectionSettings settings) => settings.Index switch
    {
        IndexKinds.Exact => new ExactIndex(settings.Dimension, settings.Metric),
        IndexKinds.Hnsw => new HnswIndex(settings.Dimension, settings.Metric, settings.M, settings.EfConstruction),
        _ => throw new VectorStoreException(ErrorCode.InvalidArgument, $"index: unknown index kind '{settings.Index}'; use one of {string.Join(", ", SupportedKinds)}.", "index"),
    };
}
