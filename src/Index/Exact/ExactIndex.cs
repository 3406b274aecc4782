using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using VectorStoreDb.Index.Quantization;

namespace VectorStoreDb.Index;

/// <summary>
/// Exact k-NN by linear scan: the recall oracle for HNSW and the planner's choice for very selective
/// filters. Large scans are split across cores, each part keeping its own bounded heap.
/// </summary>
public sealed class ExactIndex : IVectorIndex
{
    /// <summary>Below this many slots one core scans faster than the cost of handing work out.</summary>
    public const int ParallelScanThreshold = 32_768;

    private const int FileMagic = 0x58455356; // "VSEX"

    /// <summary>Share of clamped components (outside the fitted ranges) since the last fit that triggers a refit.</summary>
    private const double RefitClampedShare = 0.001;

    private readonly VectorBlock _vectors;
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private ulong[] _live = new ulong[64];
    private int _highWater; // one past the largest label ever stored
    private int _count;
    private readonly QuantizedCodes? _codes;
    private int _countAtFit;
    private long _clampedSinceFit;

    /// <param name="dimension">Vector dimension.</param>
    /// <param name="metric">Distance metric.</param>
    /// <param name="quantization">
    /// Optional compressed codes the scan runs over (full vectors are kept for rescoring). The parameters are
    /// fitted on the data and refitted whenever the collection has doubled since the last fit or too many
    /// components fall outside the fitted ranges.
    /// </param>
    /// <param name="onDisk">Keep the full vectors in memory-mapped files (see <see cref="MappedVectorFiles"/>) instead of RAM.</param>
    public ExactIndex(int dimension, Metric metric, QuantizationSettings? quantization = null, bool onDisk = false)
    {
        _vectors = new VectorBlock(dimension, onDisk);
        Metric = metric;
        Quantization = quantization ?? QuantizationSettings.None;
        _codes = QuantizedCodes.Create(Quantization.Kind, dimension, metric);
    }

    /// <summary>The stored vectors (benchmarks measure the bandwidth ceiling over this very memory).</summary>
    internal VectorBlock Vectors => _vectors;

    /// <summary>The quantization this index scans with (<see cref="QuantizationSettings.None"/> for plain float scans).</summary>
    public QuantizationSettings Quantization { get; }

    /// <summary>Bytes of the quantized codes (0 without quantization): what must stay in RAM when full vectors move to disk.</summary>
    public long CodeMemoryBytes => _codes?.MemoryBytes ?? 0;

    public string Kind => "exact";

    /// <summary>True when the full vectors live in memory-mapped files rather than RAM.</summary>
    public bool OnDisk => _vectors.OnDisk;

    /// <summary>Bytes of memory-mapped full vectors (0 when they are in RAM).</summary>
    public long MappedVectorBytes => _vectors.MappedBytes;

    public int Dimension => _vectors.Dimension;

    public Metric Metric { get; }

    public int Count => Volatile.Read(ref _count);

    public long MemoryBytes => _vectors.MemoryBytes + (long)_live.Length * sizeof(ulong) + CodeMemoryBytes;

    /// <summary>Splits large scans over this many workers at most (defaults to the core count).</summary>
    public int MaxDegreeOfParallelism { get; set; } = Environment.ProcessorCount;

    public void Upsert(int label, ReadOnlySpan<float> vector)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(label);
        _lock.EnterWriteLock();
        try
        {
            Store(label, vector);
            if (_codes is not null)
            {
                Encode(label, vector);
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Stores the full vector and marks the label live. Callers hold the write lock (or own the index, while loading).</summary>
    private void Store(int label, ReadOnlySpan<float> vector)
    {
        _vectors.Set(label, vector);
        EnsureLiveCapacity(label);
        if (!IsLive(label))
        {
            _live[label >> 6] |= 1UL << (label & 63);
            _count++;
        }
        if (label >= _highWater)
        {
            _highWater = label + 1;
        }
    }

    /// <summary>Refits the quantizer on the current vectors and re-encodes them all (no-op without quantization).</summary>
    public void Refit()
    {
        _lock.EnterWriteLock();
        try
        {
            RefitCodes();
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Called under the write lock. Doubling since the last fit keeps the refits amortised O(1) per insert.</summary>
    private void Encode(int label, ReadOnlySpan<float> vector)
    {
        if (!_codes!.IsFitted || _count >= 2 * _countAtFit || _clampedSinceFit > RefitClampedShare * _count * Dimension)
        {
            RefitCodes();
            return;
        }
        _clampedSinceFit += _codes.Set(label, vector);
    }

    private void RefitCodes()
    {
        if (_codes is null || _count == 0)
        {
            return;
        }
        var labels = new List<int>(_count);
        for (int label = 0; label < _highWater; label++)
        {
            if (IsLive(label))
            {
                labels.Add(label);
            }
        }
        _codes.Refit(_vectors, labels);
        _countAtFit = _count;
        _clampedSinceFit = 0;
    }

    public bool Remove(int label)
    {
        _lock.EnterWriteLock();
        try
        {
            if (!IsLive(label))
            {
                return false;
            }
            _live[label >> 6] &= ~(1UL << (label & 63));
            _count--;
            return true;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    public bool Contains(int label)
    {
        _lock.EnterReadLock();
        try
        {
            return IsLive(label);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    public bool TryGetVector(int label, Span<float> destination)
    {
        _lock.EnterReadLock();
        try
        {
            if (!IsLive(label))
            {
                return false;
            }
            _vectors.Get(label).CopyTo(destination);
            return true;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    public int Search(ReadOnlySpan<float> query, Span<Neighbor> destination, SearchParameters parameters = default, ILabelFilter? filter = null)
    {
        if (query.Length != Dimension)
        {
            throw new ArgumentException($"Expected a query of dimension {Dimension}, got {query.Length}.", nameof(query));
        }
        if (destination.IsEmpty)
        {
            return 0;
        }
        _lock.EnterReadLock();
        try
        {
            if (_codes is not null)
            {
                return QuantizedSearch(query, destination, filter);
            }
            int end = _highWater;
            int workers = Math.Min(MaxDegreeOfParallelism, end / (ParallelScanThreshold / 2));
            if (end >= ParallelScanThreshold && workers > 1)
            {
                return ParallelSearch(query, destination, filter, end, workers);
            }
            var heap = new TopKHeap(destination);
            ScanRange(query, ref heap, filter, 0, end);
            return heap.SortAscending();
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Scans the codes for <c>k × oversampling</c> candidates, then ranks them by their full vectors. Called under the read lock.</summary>
    private int QuantizedSearch(ReadOnlySpan<float> query, Span<Neighbor> destination, ILabelFilter? filter)
    {
        int candidates = Quantization.Candidates(destination.Length);
        var pool = ArrayPool<Neighbor>.Shared.Rent(candidates);
        try
        {
            var heap = new TopKHeap(pool.AsSpan(0, candidates));
            _codes!.Scan(query, _live, filter, _highWater, ref heap);
            if (!Quantization.Rescore)
            {
                int n = heap.SortAscending();
                pool.AsSpan(0, n).CopyTo(destination);
                return n;
            }
            var final = new TopKHeap(destination);
            foreach (var candidate in pool.AsSpan(0, heap.Count))
            {
                final.Push(candidate.Label, ExactScan.Distance(Metric, query, _vectors, candidate.Label));
            }
            return final.SortAscending();
        }
        finally
        {
            ArrayPool<Neighbor>.Shared.Return(pool);
        }
    }

    public void SearchBatch(ReadOnlySpan<float> queries, int k, Span<Neighbor> results, Span<int> counts, SearchParameters parameters = default,
        ILabelFilter? filter = null, CancellationToken cancellationToken = default)
    {
        int queryCount = BatchValidation.QueryCount(queries, Dimension, k, results, counts);
        if (queryCount == 0)
        {
            return;
        }
        if (k == 0)
        {
            counts[..queryCount].Clear();
            return;
        }
        if (_codes is not null)
        {
            // Code scans are compute-light and short: one per query, the queries spread over the cores.
            ParallelQueries.Search(this, queries, k, results, counts, parameters, filter, MaxDegreeOfParallelism, cancellationToken);
            return;
        }
        _lock.EnterReadLock();
        try
        {
            ExactBatchScan.Search(Metric, queries, k, _vectors, new LiveBitmap(_live), filter, _highWater, MaxDegreeOfParallelism, results, counts, cancellationToken);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Scores exactly the given labels (the planner's path for very selective filters).</summary>
    public int SearchLabels(ReadOnlySpan<float> query, ReadOnlySpan<int> labels, Span<Neighbor> destination)
    {
        _lock.EnterReadLock();
        try
        {
            var heap = new TopKHeap(destination);
            foreach (int label in labels)
            {
                if (IsLive(label))
                {
                    heap.Push(label, ExactScan.Distance(Metric, query, _vectors, label));
                }
            }
            return heap.SortAscending();
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    private int ParallelSearch(ReadOnlySpan<float> query, Span<Neighbor> destination, ILabelFilter? filter, int end, int workers)
    {
        int k = destination.Length;
        var queryCopy = ArrayPool<float>.Shared.Rent(query.Length);
        var partials = ArrayPool<Neighbor>.Shared.Rent(k * workers);
        var counts = ArrayPool<int>.Shared.Rent(workers);
        try
        {
            query.CopyTo(queryCopy);
            int span = (end + workers - 1) / workers;
            Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
            {
                var heap = new TopKHeap(partials.AsSpan(w * k, k));
                ScanRange(queryCopy.AsSpan(0, Dimension), ref heap, filter, w * span, Math.Min(end, (w + 1) * span));
                counts[w] = heap.Count;
            });
            var merged = new TopKHeap(destination);
            for (int w = 0; w < workers; w++)
            {
                foreach (var n in partials.AsSpan(w * k, counts[w]))
                {
                    merged.Push(n.Label, n.Distance);
                }
            }
            return merged.SortAscending();
        }
        finally
        {
            ArrayPool<float>.Shared.Return(queryCopy);
            ArrayPool<Neighbor>.Shared.Return(partials);
            ArrayPool<int>.Shared.Return(counts);
        }
    }

    private void ScanRange(ReadOnlySpan<float> query, ref TopKHeap heap, ILabelFilter? filter, int start, int end) =>
        ExactScan.Scan(Metric, query, _vectors, new LiveBitmap(_live), filter, start, end, ref heap);

    private bool IsLive(int label) => label >= 0 && (label >> 6) < _live.Length && (_live[label >> 6] & (1UL << (label & 63))) != 0;

    private void EnsureLiveCapacity(int label)
    {
        int word = label >> 6;
        if (word >= _live.Length)
        {
            Array.Resize(ref _live, Math.Max(word + 1, _live.Length * 2));
        }
    }

    public void Save(Stream stream)
    {
        _lock.EnterReadLock();
        try
        {
            Span<byte> header = stackalloc byte[20];
            BinaryPrimitives.WriteInt32LittleEndian(header, FileMagic);
            bool quantized = Quantization.Kind != QuantizationKind.None;
            BinaryPrimitives.WriteInt32LittleEndian(header[4..], quantized ? IndexFileFormat.QuantizedVersion : IndexFileFormat.UnquantizedVersion);
            BinaryPrimitives.WriteInt32LittleEndian(header[8..], Dimension);
            BinaryPrimitives.WriteInt32LittleEndian(header[12..], (int)Metric);
            BinaryPrimitives.WriteInt32LittleEndian(header[16..], _highWater);
            stream.Write(header);
            if (quantized)
            {
                IndexFileFormat.WriteQuantization(stream, Quantization, _codes);
            }
            int words = (_highWater + 63) >> 6;
            stream.Write(MemoryMarshal.AsBytes(_live.AsSpan(0, words)));
            for (int label = 0; label < _highWater; label++)
            {
                if (IsLive(label))
                {
                    stream.Write(MemoryMarshal.AsBytes(_vectors.Get(label)));
                }
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Reads an index written by <see cref="Save"/> (this version or version 1, which had no quantization).</summary>
    public static ExactIndex Load(Stream stream) => Load(stream, onDisk: false);

    /// <summary>Reads an index written by <see cref="Save"/> into memory-mapped files (<paramref name="onDisk"/>) or RAM.</summary>
    public static ExactIndex Load(Stream stream, bool onDisk)
    {
        Span<byte> header = stackalloc byte[20];
        stream.ReadExactly(header);
        int version = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
        if (BinaryPrimitives.ReadInt32LittleEndian(header) != FileMagic || version is < IndexFileFormat.UnquantizedVersion or > IndexFileFormat.QuantizedVersion)
        {
            throw new InvalidDataException("Not an exact-index file of a supported version.");
        }
        int dimension = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
        var metric = (Metric)BinaryPrimitives.ReadInt32LittleEndian(header[12..]);
        int highWater = BinaryPrimitives.ReadInt32LittleEndian(header[16..]);
        var settings = QuantizationSettings.None;
        bool fitted = false;
        if (version >= IndexFileFormat.QuantizedVersion)
        {
            (settings, fitted) = IndexFileFormat.ReadQuantization(stream, Enum.IsDefined, "Unknown quantization kind");
        }
        var index = new ExactIndex(dimension, metric, settings, onDisk);
        if (fitted)
        {
            index._codes!.ReadParameters(stream);
        }
        var live = new ulong[Math.Max(64, (highWater + 63) >> 6)];
        stream.ReadExactly(MemoryMarshal.AsBytes(live.AsSpan(0, (highWater + 63) >> 6)));
        var vector = new float[dimension];
        for (int label = 0; label < highWater; label++)
        {
            if ((live[label >> 6] & (1UL << (label & 63))) != 0)
            {
                stream.ReadExactly(MemoryMarshal.AsBytes(vector.AsSpan()));
                index.Store(label, vector);
            }
        }
        if (fitted)
        {
            for (int label = 0; label < index._highWater; label++)
            {
                if (index.IsLive(label))
                {
                    index._clampedSinceFit += index._codes!.Set(label, index._vectors.Get(label));
                }
            }
            index._countAtFit = index._count;
        }
        else
        {
            index.RefitCodes();
        }
        return index;
    }

    public void Dispose()
    {
        _lock.EnterWriteLock();
        try
        {
            _vectors.Dispose();
        }
        finally
        {
            _lock.ExitWriteLock();
        }
        _lock.Dispose();
    }
}
