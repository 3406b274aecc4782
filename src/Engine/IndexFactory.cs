using System.Collections.Concurrent;
using VectorStore.Index;
using VectorStore.Index.Hnsw;

namespace VectorStore.Engine;

/// <summary>Builds the index a collection's settings ask for, and loads one saved by <see cref="IVectorIndex.Save"/>.</summary>
internal static class IndexFactory
{
    /// <summary>
    /// How each index kind reads back what its <see cref="IVectorIndex.Save"/> wrote. A new kind registers its
    /// loader here, so checkpoints and snapshots load it instead of rebuilding it from the documents.
    /// </summary>
    private static readonly ConcurrentDictionary<string, Func<Stream, IVectorIndex>> Loaders = new(StringComparer.Ordinal)
    {
        [IndexKinds.Exact] = stream => ExactIndex.Load(stream),
        [IndexKinds.Hnsw] = stream => HnswIndex.Load(stream),
    };

    public static IReadOnlyList<string> SupportedKinds { get; } = [IndexKinds.Exact, IndexKinds.Hnsw];

    /// <summary>The kind a collection gets when its request names none.</summary>
    public const string DefaultKind = IndexKinds.Hnsw;

    public static IVectorIndex Create(CollectionSettings settings) => settings.Index switch
    {
        IndexKinds.Exact => new ExactIndex(settings.Dimension, settings.Metric),
        IndexKinds.Hnsw => new HnswIndex(settings.Dimension, settings.Metric, settings.M, settings.EfConstruction),
        _ => throw new VectorStoreException(ErrorCode.InvalidArgument, $"index: unknown index kind '{settings.Index}'; use one of {string.Join(", ", SupportedKinds)}.", "index"),
    };

    /// <summary>Registers (or replaces) the loader of an index kind.</summary>
    public static void RegisterLoader(string kind, Func<Stream, IVectorIndex> loader) => Loaders[kind] = loader;

    /// <summary>Loads a saved index and checks it matches the collection's settings.</summary>
    public static IVectorIndex Load(string kind, Stream stream, CollectionSettings settings)
    {
        if (!Loaders.TryGetValue(kind, out var loader))
        {
            throw new InvalidDataException($"Saved index of kind '{kind}' has no loader.");
        }
        var index = loader(stream);
        if (index.Dimension != settings.Dimension || index.Metric != settings.Metric)
        {
            index.Dispose();
            throw new InvalidDataException($"Saved {kind} index has dimension {index.Dimension} and metric {index.Metric}; the collection has {settings.Dimension} and {settings.Metric}.");
        }
        return index;
    }
}
