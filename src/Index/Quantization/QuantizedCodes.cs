namespace VectorStoreDb.Index.Quantization;

/// <summary>
/// The compressed copy of an index's vectors that its scans run over. The owner serialises writers
/// (<see cref="Set"/>, <see cref="Refit"/>) against scans.
/// </summary>
internal abstract class QuantizedCodes
{
    /// <summary>Rows sampled for a fit: enough for stable per-dimension ranges and means, bounded in cost.</summary>
    protected const int FitSample = 20_000;

    public static QuantizedCodes? Create(QuantizationKind kind, int dimension, Metric metric) => kind switch
    {
        QuantizationKind.Int8 => new Int8Codes(dimension, metric),
        QuantizationKind.Binary => new BinaryCodes(dimension),
        _ => null,
    };

    public abstract long MemoryBytes { get; }

    /// <summary>True once parameters exist (after the first <see cref="Refit"/> or <see cref="ReadParameters"/>).</summary>
    public abstract bool IsFitted { get; }

    /// <summary>
    /// Makes room for labels below <paramref name="capacity"/>, so that concurrent <see cref="Set"/> calls on
    /// distinct labels never grow (and race on) the storage. The owner calls it while excluding readers and writers.
    /// </summary>
    public abstract void EnsureCapacity(int capacity);

    /// <summary>Encodes the vector of <paramref name="label"/>; returns how many components fell outside the fitted range.</summary>
    public abstract int Set(int label, ReadOnlySpan<float> vector);

    /// <summary>Fits the parameters on a sample of <paramref name="labels"/> and re-encodes all of them.</summary>
    public void Refit(VectorBlock vectors, IReadOnlyList<int> labels)
    {
        int dimension = vectors.Dimension;
        int step = Math.Max(1, labels.Count / FitSample);
        int rows = (labels.Count + step - 1) / step;
        var sample = new float[rows * dimension];
        for (int r = 0; r < rows; r++)
        {
            vectors.Get(labels[r * step]).CopyTo(sample.AsSpan(r * dimension, dimension));
        }
        Fit(sample, dimension);
        foreach (int label in labels)
        {
            Set(label, vectors.Get(label));
        }
    }

    protected abstract void Fit(ReadOnlySpan<float> rows, int dimension);

    /// <summary>Pushes approximate distances of live labels below <paramref name="end"/> that pass the filter into the heap.</summary>
    public abstract void Scan(ReadOnlySpan<float> query, ulong[] live, ILabelFilter? filter, int end, ref TopKHeap heap);

    public abstract void WriteParameters(Stream stream);

    public abstract void ReadParameters(Stream stream);
}
