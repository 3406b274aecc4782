using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;

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
    private const int FileVersion = 1;

    private readonly VectorBlock _vectors;
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private ulong[] _live = new ulong[64];
    private int _highWater; // one past the largest label ever stored
    private int _count;

    public ExactIndex(int dimension, Metric metric)
    {
        _vectors = new VectorBlock(dimension);
        Metric = metric;
    }

    public string Kind => "exact";

    public int Dimension => _vectors.Dimension;

    public Metric Metric { get; }

    public int Count => Volatile.Read(ref _count);

    public long MemoryBytes => _vectors.MemoryBytes + (long)_live.Length * sizeof(ulong);

    /// <summary>Splits large scans over this many workers at most (defaults to the core count).</summary>
    public int MaxDegreeOfParallelism { get; set; } = Environment.ProcessorCount;

    public void Upsert(int label, ReadOnlySpan<float> vector)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(label);
        _lock.EnterWriteLock();
        try
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
        finally
        {
            _lock.ExitWriteLock();
        }
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
            BinaryPrimitives.WriteInt32LittleEndian(header[4..], FileVersion);
            BinaryPrimitives.WriteInt32LittleEndian(header[8..], Dimension);
            BinaryPrimitives.WriteInt32LittleEndian(header[12..], (int)Metric);
            BinaryPrimitives.WriteInt32LittleEndian(header[16..], _highWater);
            stream.Write(header);
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

    /// <summary>Reads an index written by <see cref="Save"/>.</summary>
    public static ExactIndex Load(Stream stream)
    {
        Span<byte> header = stackalloc byte[20];
        stream.ReadExactly(header);
        if (BinaryPrimitives.ReadInt32LittleEndian(header) != FileMagic || BinaryPrimitives.ReadInt32LittleEndian(header[4..]) != FileVersion)
        {
            throw new InvalidDataException("Not an exact-index file of a supported version.");
        }
        int dimension = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
        var metric = (Metric)BinaryPrimitives.ReadInt32LittleEndian(header[12..]);
        int highWater = BinaryPrimitives.ReadInt32LittleEndian(header[16..]);
        var index = new ExactIndex(dimension, metric);
        var live = new ulong[Math.Max(64, (highWater + 63) >> 6)];
        stream.ReadExactly(MemoryMarshal.AsBytes(live.AsSpan(0, (highWater + 63) >> 6)));
        var vector = new float[dimension];
        for (int label = 0; label < highWater; label++)
        {
            if ((live[label >> 6] & (1UL << (label & 63))) != 0)
            {
                stream.ReadExactly(MemoryMarshal.AsBytes(vector.AsSpan()));
                index.Upsert(label, vector);
            }
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
