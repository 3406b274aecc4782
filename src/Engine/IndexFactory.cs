using System.Collections.Concurrent;
using VectorStoreDb.Index;
using VectorStoreDb.Index.Hnsw;
using VectorStoreDb.Index.Quantization;

namespace VectorStoreDb.Engine;

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

    /// <summary>
    /// The index of a shard's full vectors. With a projection the graph is built over the projected vectors
    /// (<see cref="CreateProjected"/>), so the full vectors only need a flat store for rescoring and exact scans.
    /// </summary>
    public static IVectorIndex Create(CollectionSettings settings) =>
        settings.Projection is ProjectionKinds.Random or ProjectionKinds.Pca
            ? new ExactIndex(settings.Dimension, settings.Metric, onDisk: settings.OnDisk)
            : settings.Index == IndexKinds.Exact
                ? new ExactIndex(settings.Dimension, settings.Metric, QuantizationOf(settings), settings.OnDisk)
                : new HnswIndex(settings.Dimension, settings.Metric, settings.M, settings.EfConstruction, quantization: QuantizationOf(settings), onDisk: settings.OnDisk);

    /// <summary>The quantization a collection's full-vector index scans with (settings saved before quantization existed have none).</summary>
    public static QuantizationSettings QuantizationOf(CollectionSettings settings) =>
        QuantizationSettings.TryParseKind(settings.Quantization, out var kind) && kind != QuantizationKind.None
            ? new QuantizationSettings(kind, settings.Rescore, settings.Oversampling)
            : QuantizationSettings.None;

    /// <summary>The index over projected vectors: the collection's own kind, at the projection's dimension.</summary>
    public static IVectorIndex CreateProjected(CollectionSettings settings, int dimension, Metric metric) =>
        Create(settings.Index, dimension, metric, settings);

    private static IVectorIndex Create(string kind, int dimension, Metric metric, CollectionSettings settings) => kind switch
    {
        IndexKinds.Exact => new ExactIndex(dimension, metric),
        IndexKinds.Hnsw => new HnswIndex(dimension, metric, settings.M, settings.EfConstruction),
        _ => throw new VectorStoreException(ErrorCode.InvalidArgument, $"index: unknown index kind '{kind}'; use one of {string.Join(", ", SupportedKinds)}.", "index"),
    };

    /// <summary>Registers (or replaces) the loader of an index kind.</summary>
    public static void RegisterLoader(string kind, Func<Stream, IVectorIndex> loader) => Loaders[kind] = loader;

    /// <summary>Loads a saved index and checks it matches the collection's settings.</summary>
    public static IVectorIndex Load(string kind, Stream stream, CollectionSettings settings)
    {
        // onDisk is not in the index bytes (the same checkpoint loads either way): the settings say where the vectors go.
        var index = settings.OnDisk
            ? Check(kind switch
            {
                IndexKinds.Exact => ExactIndex.Load(stream, onDisk: true),
                IndexKinds.Hnsw => HnswIndex.Load(stream, onDisk: true),
                _ => throw new InvalidDataException($"Saved index of kind '{kind}' cannot keep its vectors on disk."),
            }, kind, settings.Dimension, settings.Metric)
            : Load(kind, stream, settings.Dimension, settings.Metric);
        var expected = settings.Projection is ProjectionKinds.None ? QuantizationOf(settings) : QuantizationSettings.None;
        var saved = index switch
        {
            ExactIndex exact => exact.Quantization,
            HnswIndex hnsw => hnsw.Quantization,
            _ => expected,
        };
        if (saved != expected)
        {
            index.Dispose();
            throw new InvalidDataException($"Saved {index.Kind} index scans with {saved}; the collection asks for {expected}.");
        }
        return index;
    }

    /// <summary>Loads a saved index of any dimension and metric (the caller checks them).</summary>
    public static IVectorIndex Load(string kind, Stream stream) =>
        Loaders.TryGetValue(kind, out var loader) ? loader(stream) : throw new InvalidDataException($"Saved index of kind '{kind}' has no loader.");

    /// <summary>Loads a saved index and checks its dimension and metric.</summary>
    public static IVectorIndex Load(string kind, Stream stream, int dimension, Metric metric)
    {
        if (!Loaders.TryGetValue(kind, out var loader))
        {
            throw new InvalidDataException($"Saved index of kind '{kind}' has no loader.");
        }
        return Check(loader(stream), kind, dimension, metric);
    }

    private static IVectorIndex Check(IVectorIndex index, string kind, int dimension, Metric metric)
    {
        if (index.Dimension != dimension || index.Metric != metric)
        {
            index.Dispose();
            throw new InvalidDataException($"Saved {kind} index has dimension {index.Dimension} and metric {index.Metric}; expected {dimension} and {metric}.");
        }
        return index;
    }
}
