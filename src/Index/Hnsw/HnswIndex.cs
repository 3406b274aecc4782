using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using VectorStoreDb.Index.Quantization;

namespace VectorStoreDb.Index.Hnsw;

/// <summary>
/// Hierarchical Navigable Small World graph (Malkov &amp; Yashunin, 2016), laid out like hnswlib's
/// <c>hnswalg.h</c>: the label is the node id, vectors live in a <see cref="VectorBlock"/>, layer-0 lists
/// in one flat <c>int</c> array (<c>[count, n1..n2M]</c> per node) and upper-layer lists in one small array
/// per node that has any.
/// <para>
/// Concurrency: inserts, updates, removes and queries may all run at once. Each node has a version word
/// used as a seqlock: writers take it (odd) for the few microseconds they rewrite the node's lists; readers
/// copy a list and retry if the version moved, so a query never sees a torn list and never writes shared
/// memory. No thread ever holds two node locks, so there is no lock order to get wrong. Growing the arrays
/// takes a reader/writer lock exclusively; everything else takes it shared.
/// </para>
/// <para>
/// Removal is a tombstone: the node keeps routing searches but never enters a result. Upserting a
/// tombstoned label re-links it in place (the engine reuses freed labels). When tombstones pass
/// <see cref="CompactionThreshold"/> of the graph, <see cref="Compact"/> runs in the background: it reconnects
/// every neighbour of a tombstone through the tombstone's own neighbours (heuristic re-selection), then
/// frees the tombstones' slots and upper-layer lists. Labels never change.
/// </para>
/// </summary>
public sealed class HnswIndex : IVectorIndex
{
    /// <summary>Beam width of a query that does not set one.</summary>
    public const int DefaultEf = 64;

    private const int FileMagic = 0x57534E48; // "HNSW"

    /// <summary>Share of clamped components (outside the fitted ranges) since the last fit that triggers a refit.</summary>
    private const double RefitClampedShare = 0.001;

    /// <summary>
    /// Refits on doubling stop once the last fit saw this many vectors: the fit samples at most 20,000 rows, so
    /// later fits would see no more data, only pause writers longer (a refit re-encodes every code under the
    /// exclusive lock). Past it only drift (clamped components) triggers a refit.
    /// </summary>
    private const int RefitOnGrowthLimit = 20_000;
    private const int MaxLevelCap = 30;
    private const int LabelLockStripes = 1024;

    private const byte Absent = 0;
    private const byte Live = 1;
    private const byte Deleted = 2;

    private readonly int _m;
    private readonly int _m0;
    private readonly int _stride0;
    private readonly int _strideUp;
    private readonly double _levelMultiplier;
    private readonly VectorBlock _vectors;
    private readonly ReaderWriterLockSlim _resizeLock = new(LockRecursionPolicy.NoRecursion);
    private readonly object[] _labelLocks = new object[LabelLockStripes];
    private readonly object _entryLock = new();
    private readonly object _compactLock = new();
    private readonly Random _random;

    private int _capacity;
    private int[] _links0 = [];
    private int[]?[] _upper = [];
    private int[] _levels = [];
    private int[] _versions = [];
    private byte[] _state = [];

    private volatile int _entryPoint = -1;
    private volatile int _maxLevel = -1;
    private int _highWater;
    private int _count;
    private int _deleted;
    private int _freed; // slots freed by compaction and not reused yet: stale links may still lead to them
    private long _upperBytes;
    private int _compacting;
    private Task _backgroundCompaction = Task.CompletedTask;
    private bool _disposed;
    private readonly Int8Codes? _int8;
    private int _countAtFit;
    private long _clampedSinceFit;

    /// <summary>Creates an empty index.</summary>
    /// <param name="dimension">Vector length.</param>
    /// <param name="metric">Vectors are expected already prepared for the metric (normalised for cosine).</param>
    /// <param name="m">Links per node on upper layers; layer 0 keeps 2·M.</param>
    /// <param name="efConstruction">Beam width while inserting: higher builds a better graph, slower.</param>
    /// <param name="initialCapacity">Slots to allocate up front (like hnswlib's max_elements; the index still grows past it).</param>
    /// <param name="seed">Seed of the level generator, for reproducible graphs in tests and benchmarks.</param>
    /// <param name="quantization">
    /// <see cref="QuantizationKind.Int8"/> walks the graph over int8 codes (both while inserting and while
    /// searching) and rescores the beam's results with the full vectors; neighbour selection always uses full
    /// vectors, so the links are as good as a float graph's. Binary codes are refused: Hamming distances tie too
    /// often to steer a greedy walk.
    /// </param>
    /// <param name="onDisk">
    /// Keep the full vectors in memory-mapped files (see <see cref="MappedVectorFiles"/>) instead of RAM. Meant for
    /// int8 graphs, whose walks read only codes and graph: full vectors are then read for rescoring and linking.
    /// </param>
    public HnswIndex(int dimension, Metric metric, int m = 16, int efConstruction = 200, int initialCapacity = 0, int? seed = null, QuantizationSettings? quantization = null,
        bool onDisk = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(m, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(m, 256);
        ArgumentOutOfRangeException.ThrowIfLessThan(efConstruction, 1);
        Metric = metric;
        _m = m;
        _m0 = 2 * m;
        _stride0 = _m0 + 1;
        _strideUp = _m + 1;
        EfConstruction = Math.Max(efConstruction, m);
        _levelMultiplier = 1.0 / Math.Log(m);
        _random = seed is { } s ? new Random(s) : new Random();
        _vectors = new VectorBlock(dimension, onDisk);
        Quantization = quantization ?? QuantizationSettings.None;
        if (Quantization.Kind == QuantizationKind.Binary)
        {
            throw new ArgumentException("An HNSW graph cannot walk binary codes; use int8, or binary with the exact index.", nameof(quantization));
        }
        _int8 = Quantization.Kind == QuantizationKind.Int8 ? new Int8Codes(dimension, metric) : null;
        for (int i = 0; i < _labelLocks.Length; i++)
        {
            _labelLocks[i] = new object();
        }
        Grow(Math.Max(initialCapacity, 1024));
    }

    public string Kind => "hnsw";

    /// <summary>The quantization the graph is walked with (<see cref="QuantizationSettings.None"/>: float vectors).</summary>
    public QuantizationSettings Quantization { get; }

    /// <summary>True once the int8 codes have fitted parameters (from the first insert on; false without quantization).</summary>
    public bool IsQuantizationFitted => _int8 is { IsFitted: true };

    /// <summary>Bytes of the int8 codes and their norm terms (0 without quantization).</summary>
    public long CodeMemoryBytes => _int8?.MemoryBytes ?? 0;

    /// <summary>Bytes of the full float vectors in RAM (0 with <c>onDisk</c>, which moves them to <see cref="MappedVectorBytes"/>).</summary>
    public long VectorMemoryBytes => _vectors.MemoryBytes;

    /// <summary>True when the full vectors live in memory-mapped files rather than RAM.</summary>
    public bool OnDisk => _vectors.OnDisk;

    /// <summary>Bytes of memory-mapped full vectors (0 when they are in RAM).</summary>
    public long MappedVectorBytes => _vectors.MappedBytes;

    public int Dimension => _vectors.Dimension;

    public Metric Metric { get; }

    /// <summary>Links per node on upper layers.</summary>
    public int M => _m;

    public int EfConstruction { get; }

    public int Count => Volatile.Read(ref _count);

    /// <summary>Tombstoned labels still held in the graph.</summary>
    public int DeletedCount => Volatile.Read(ref _deleted);

    /// <summary>Fraction of tombstones in the graph above which a background <see cref="Compact"/> starts (0 disables it).</summary>
    public double CompactionThreshold { get; set; } = 0.15;

    public long MemoryBytes =>
        _vectors.MemoryBytes
        + CodeMemoryBytes
        + (long)_links0.Length * sizeof(int)
        + (long)_levels.Length * sizeof(int)
        + (long)_versions.Length * sizeof(int)
        + _state.Length
        + (long)_upper.Length * IntPtr.Size
        + Interlocked.Read(ref _upperBytes);

    /// <summary>Where <see cref="MemoryBytes"/> goes, structure by structure (their sum is <see cref="MemoryBytes"/>).</summary>
    public HnswMemory MemoryBreakdown
    {
        get
        {
            _resizeLock.EnterReadLock();
            try
            {
                long norms = _int8?.NormBytes ?? 0;
                return new HnswMemory(_vectors.MemoryBytes, CodeMemoryBytes - norms, norms, (long)_links0.Length * sizeof(int), Interlocked.Read(ref _upperBytes),
                    (long)_upper.Length * IntPtr.Size, (long)_levels.Length * sizeof(int), (long)_versions.Length * sizeof(int), _state.Length, _capacity);
            }
            finally
            {
                _resizeLock.ExitReadLock();
            }
        }
    }

    // ---------------------------------------------------------------- writes

    public void Upsert(int label, ReadOnlySpan<float> vector)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(label);
        if (vector.Length != Dimension)
        {
            throw new ArgumentException($"Expected a vector of dimension {Dimension}, got {vector.Length}.", nameof(vector));
        }
        EnsureCapacity(label);
        lock (_labelLocks[label & (LabelLockStripes - 1)])
        {
            _resizeLock.EnterReadLock();
            try
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (Metric == Metric.L2)
                {
                    UpsertCore<SquaredL2Distance>(label, vector);
                }
                else
                {
                    UpsertCore<NegativeDotDistance>(label, vector);
                }
            }
            finally
            {
                _resizeLock.ExitReadLock();
            }
        }
        if (_int8 is not null && RefitDue())
        {
            Refit(onlyWhenDue: true);
        }
    }

    /// <summary>First fit at the first vector, then on doubling (up to <see cref="RefitOnGrowthLimit"/>) or drift.</summary>
    private bool RefitDue()
    {
        int count = Count;
        return !_int8!.IsFitted
            || (count >= 2L * Volatile.Read(ref _countAtFit) && Volatile.Read(ref _countAtFit) < RefitOnGrowthLimit)
            || Interlocked.Read(ref _clampedSinceFit) > RefitClampedShare * count * Dimension;
    }

    /// <summary>
    /// Refits the int8 parameters on the stored vectors and re-encodes every node's code (no-op without
    /// quantization). Runs under the exclusive lock, so no walk ever mixes codes of two fits. The links stay:
    /// they were chosen by full-vector distances, which a refit does not change.
    /// </summary>
    public void Refit() => Refit(onlyWhenDue: false);

    private void Refit(bool onlyWhenDue)
    {
        if (_int8 is null)
        {
            return;
        }
        _resizeLock.EnterWriteLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!onlyWhenDue || RefitDue())
            {
                RefitCodes();
            }
        }
        finally
        {
            _resizeLock.ExitWriteLock();
        }
    }

    /// <summary>Callers hold the resize lock exclusively (or own the index alone, while loading).</summary>
    private void RefitCodes()
    {
        var labels = new List<int>(_count + _deleted);
        for (int id = 0; id < _highWater; id++)
        {
            if (_state[id] != Absent)
            {
                labels.Add(id);
            }
        }
        if (labels.Count == 0)
        {
            return;
        }
        _int8!.Refit(_vectors, labels);
        _countAtFit = Math.Max(1, _count);
        _clampedSinceFit = 0;
    }

    /// <summary>
    /// Upserts many vectors using every core (<paramref name="vectors"/> is row-major, one row per label).
    /// Labels may repeat; repeats are applied one after the other in no particular order.
    /// </summary>
    public void UpsertBatch(ReadOnlyMemory<int> labels, ReadOnlyMemory<float> vectors, int maxDegreeOfParallelism = -1)
    {
        if (vectors.Length != labels.Length * Dimension)
        {
            throw new ArgumentException($"Expected {labels.Length} x {Dimension} floats, got {vectors.Length}.", nameof(vectors));
        }
        int max = -1;
        foreach (int label in labels.Span)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(label, nameof(labels));
            max = Math.Max(max, label);
        }
        if (max < 0)
        {
            return;
        }
        EnsureCapacity(max);
        int dimension = Dimension;
        Parallel.For(0, labels.Length, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism },
            i => Upsert(labels.Span[i], vectors.Span.Slice(i * dimension, dimension)));
    }

    private void UpsertCore<TDistance>(int label, ReadOnlySpan<float> vector) where TDistance : struct, IDistance
    {
        byte before = _state[label];
        _vectors.Set(label, vector);
        if (_int8 is { IsFitted: true } codes)
        {
            // Before the node is linked, so every walk that can reach it finds its code.
            Interlocked.Add(ref _clampedSinceFit, codes.Set(label, vector));
        }
        var scratch = SearchScratch.Current;
        scratch.EnsureLinks(_m0);
        if (_levels[label] < 0)
        {
            if (label < _links0.Length / _stride0 && _links0[label * _stride0] != 0 && Volatile.Read(ref _freed) > 0)
            {
                Interlocked.Decrement(ref _freed); // a compacted slot comes back (its old layer-0 list is non-empty)
            }
            int level = RandomLevel();
            int v = LockNode(label);
            _links0[label * _stride0] = 0;
            var upper = level > 0 ? new int[level * _strideUp] : null;
            _upper[label] = upper;
            _levels[label] = level;
            UnlockNode(label, v);
            if (upper is not null)
            {
                Interlocked.Add(ref _upperBytes, (long)upper.Length * sizeof(int));
            }
            Volatile.Write(ref _state[label], Live);
            int entry;
            int maxLevel;
            lock (_entryLock)
            {
                entry = _entryPoint;
                maxLevel = _maxLevel;
                if (entry < 0)
                {
                    _maxLevel = level;
                    _entryPoint = label;
                }
            }
            if (entry >= 0)
            {
                Link<TDistance>(label, level, entry, maxLevel, fresh: true, scratch);
                if (level > maxLevel)
                {
                    lock (_entryLock)
                    {
                        if (level > _maxLevel)
                        {
                            _maxLevel = level;
                            _entryPoint = label;
                        }
                    }
                }
            }
        }
        else
        {
            // Update in place (hnswlib's updatePoint, simplified): find fresh neighbours for the new vector and
            // link both ways. Stale incoming links from the old neighbourhood only cost a little routing.
            Volatile.Write(ref _state[label], Live);
            int entry = _entryPoint;
            int maxLevel = _maxLevel;
            if (entry >= 0)
            {
                Link<TDistance>(label, _levels[label], entry, maxLevel, fresh: false, scratch);
            }
        }
        if (before != Live)
        {
            Interlocked.Increment(ref _count);
            if (before == Deleted)
            {
                Interlocked.Decrement(ref _deleted);
            }
        }
        int high;
        while ((high = Volatile.Read(ref _highWater)) <= label && Interlocked.CompareExchange(ref _highWater, label + 1, high) != high)
        {
        }
    }

    /// <summary>
    /// Connects <paramref name="node"/> (already holding its vector, code and level) into every layer up to
    /// <paramref name="level"/>. A quantized graph searches for candidates over the codes, then ranks them by
    /// full vectors before the heuristic picks links.
    /// </summary>
    private void Link<TDistance>(int node, int level, int entry, int maxLevel, bool fresh, SearchScratch scratch) where TDistance : struct, IDistance
    {
        if (_int8 is { IsFitted: true } codes)
        {
            scratch.EnsureQueryCode(Dimension);
            codes.Quantizer!.PrepareQuery(_vectors.Get(node), Metric, scratch.QueryCode.AsSpan(0, Dimension), out float factor, out float constant);
            ref sbyte folded = ref MemoryMarshal.GetArrayDataReference(scratch.QueryCode);
            switch (Int8Kernels.Active)
            {
                case Int8Isa.AvxVnni:
                {
                    var probe = new Int8Probe<VnniDot>(ref folded, codes, Dimension, factor, constant);
                    LinkWith<TDistance, Int8Probe<VnniDot>>(ref probe, rerank: true, node, level, entry, maxLevel, fresh, scratch);
                    break;
                }
                case Int8Isa.Avx512:
                {
                    var probe = new Int8Probe<Avx512Dot>(ref folded, codes, Dimension, factor, constant);
                    LinkWith<TDistance, Int8Probe<Avx512Dot>>(ref probe, rerank: true, node, level, entry, maxLevel, fresh, scratch);
                    break;
                }
                case Int8Isa.Avx2:
                {
                    var probe = new Int8Probe<Avx2Dot>(ref folded, codes, Dimension, factor, constant);
                    LinkWith<TDistance, Int8Probe<Avx2Dot>>(ref probe, rerank: true, node, level, entry, maxLevel, fresh, scratch);
                    break;
                }
                default:
                {
                    var probe = new Int8Probe<ScalarDot>(ref folded, codes, Dimension, factor, constant);
                    LinkWith<TDistance, Int8Probe<ScalarDot>>(ref probe, rerank: true, node, level, entry, maxLevel, fresh, scratch);
                    break;
                }
            }
            return;
        }
        var floats = new FloatProbe<TDistance>(ref _vectors.GetRef(node), _vectors);
        LinkWith<TDistance, FloatProbe<TDistance>>(ref floats, rerank: false, node, level, entry, maxLevel, fresh, scratch);
    }

    private void LinkWith<TDistance, TProbe>(scoped ref TProbe probe, bool rerank, int node, int level, int entry, int maxLevel, bool fresh, SearchScratch scratch)
        where TDistance : struct, IDistance
        where TProbe : struct, IGraphProbe, allows ref struct
    {
        ref float q = ref _vectors.GetRef(node);
        int dimension = Dimension;
        int current = entry;
        float currentDistance = probe.Distance(current);
        for (int layer = maxLevel; layer > level; layer--)
        {
            GreedyStep(ref probe, ref current, ref currentDistance, layer, scratch);
        }
        for (int layer = Math.Min(level, maxLevel); layer >= 0; layer--)
        {
            SearchLayer(ref probe, current, currentDistance, layer, EfConstruction, scratch, query: false, filter: null, exclude: node);
            int found = DrainAscending(scratch.Results, scratch);
            if (found == 0)
            {
                continue;
            }
            if (rerank)
            {
                // The heuristic compares candidate-to-node with candidate-to-neighbour distances: both must be full-vector ones.
                for (int i = 0; i < found; i++)
                {
                    scratch.CandidateDistances[i] = TDistance.Compute(ref q, ref _vectors.GetRef(scratch.CandidateIds[i]), dimension);
                }
                scratch.CandidateDistances.AsSpan(0, found).Sort(scratch.CandidateIds.AsSpan(0, found));
            }
            current = scratch.CandidateIds[0];
            currentDistance = rerank ? probe.Distance(current) : scratch.CandidateDistances[0];
            int selected = SelectNeighbors<TDistance>(scratch.CandidateIds, scratch.CandidateDistances, found, _m, scratch.Selected);

            int v = LockNode(node);
            var list = ListSpan(node, layer);
            // A fresh node may already have links that concurrent inserts added while we searched: keep them
            // after our own choice while there is room. An update replaces its old neighbourhood outright.
            int kept = 0;
            if (fresh)
            {
                int capacity = layer == 0 ? _m0 : _m;
                int existing = list[0];
                var extras = scratch.PruneSelected;
                for (int i = 0; i < existing && selected + kept < capacity; i++)
                {
                    int link = list[1 + i];
                    if (!scratch.Selected.AsSpan(0, selected).Contains(link))
                    {
                        extras[kept++] = link;
                    }
                }
                extras.AsSpan(0, kept).CopyTo(list[(1 + selected)..]);
            }
            list[0] = selected + kept;
            scratch.Selected.AsSpan(0, selected).CopyTo(list[1..]);
            UnlockNode(node, v);

            for (int i = 0; i < selected; i++)
            {
                AddLink<TDistance>(scratch.Selected[i], node, layer, scratch);
            }
        }
    }

    /// <summary>Adds the back link <paramref name="from"/> → <paramref name="to"/>, re-selecting by the heuristic when the list is full.</summary>
    private void AddLink<TDistance>(int from, int to, int layer, SearchScratch scratch) where TDistance : struct, IDistance
    {
        int capacity = layer == 0 ? _m0 : _m;
        int v = LockNode(from);
        try
        {
            if (_levels[from] < layer || (layer > 0 && _upper[from] is null))
            {
                return; // freed by a compaction while we searched
            }
            var list = ListSpan(from, layer);
            int count = list[0];
            var links = list.Slice(1, count);
            if (links.Contains(to))
            {
                return;
            }
            if (count < capacity)
            {
                list[1 + count] = to;
                list[0] = count + 1;
                return;
            }
            // Full: keep the heuristic's choice among the old links plus the new one (hnswlib does the same under the lock).
            ref float f = ref _vectors.GetRef(from);
            int dimension = Dimension;
            var ids = scratch.PruneIds;
            var distances = scratch.PruneDistances;
            ids[0] = to;
            distances[0] = TDistance.Compute(ref f, ref _vectors.GetRef(to), dimension);
            for (int i = 0; i < count; i++)
            {
                ids[i + 1] = links[i];
                distances[i + 1] = TDistance.Compute(ref f, ref _vectors.GetRef(links[i]), dimension);
            }
            distances.AsSpan(0, count + 1).Sort(ids.AsSpan(0, count + 1));
            int kept = SelectNeighbors<TDistance>(ids, distances, count + 1, capacity, scratch.PruneSelected);
            list[0] = kept;
            scratch.PruneSelected.AsSpan(0, kept).CopyTo(list[1..]);
        }
        finally
        {
            UnlockNode(from, v);
        }
    }

    /// <summary>
    /// Malkov &amp; Yashunin algorithm 4 (without extension or pruned-connection backfill, as in hnswlib): walk
    /// candidates closest first and keep one only if it is closer to the base than to every neighbour kept so
    /// far, so links spread in different directions instead of clustering.
    /// </summary>
    private int SelectNeighbors<TDistance>(int[] ids, float[] distances, int count, int max, int[] selected) where TDistance : struct, IDistance
    {
        int dimension = Dimension;
        int kept = 0;
        for (int i = 0; i < count && kept < max; i++)
        {
            ref float candidate = ref _vectors.GetRef(ids[i]);
            bool good = true;
            for (int j = 0; j < kept; j++)
            {
                if (TDistance.Compute(ref candidate, ref _vectors.GetRef(selected[j]), dimension) < distances[i])
                {
                    good = false;
                    break;
                }
            }
            if (good)
            {
                selected[kept++] = ids[i];
            }
        }
        return kept;
    }

    public bool Remove(int label)
    {
        if (label < 0)
        {
            return false;
        }
        bool removed;
        lock (_labelLocks[label & (LabelLockStripes - 1)])
        {
            _resizeLock.EnterReadLock();
            try
            {
                removed = label < _capacity && _state[label] == Live;
                if (removed)
                {
                    Volatile.Write(ref _state[label], Deleted);
                    Interlocked.Decrement(ref _count);
                    Interlocked.Increment(ref _deleted);
                }
            }
            finally
            {
                _resizeLock.ExitReadLock();
            }
        }
        if (removed)
        {
            MaybeCompactInBackground();
        }
        return removed;
    }

    private void MaybeCompactInBackground()
    {
        double threshold = CompactionThreshold;
        int deleted = DeletedCount;
        if (threshold <= 0 || deleted < 64 || deleted < threshold * (deleted + Count) || Interlocked.CompareExchange(ref _compacting, 1, 0) != 0)
        {
            return;
        }
        _backgroundCompaction = Task.Run(() =>
        {
            try
            {
                Compact();
            }
            catch (ObjectDisposedException)
            {
                // The index was disposed while compacting; nothing left to tidy.
            }
            finally
            {
                Volatile.Write(ref _compacting, 0);
            }
        });
    }

    /// <summary>
    /// Unlinks every tombstone: each live node that points at one gets its list re-selected from its live
    /// links plus the tombstone's links, then the tombstone's slot is freed. Runs beside queries and inserts.
    /// Returns how many tombstones were freed.
    /// </summary>
    public int Compact()
    {
        lock (_compactLock)
        {
            _resizeLock.EnterReadLock();
            try
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                return Metric == Metric.L2 ? CompactCore<SquaredL2Distance>() : CompactCore<NegativeDotDistance>();
            }
            finally
            {
                _resizeLock.ExitReadLock();
            }
        }
    }

    private int CompactCore<TDistance>() where TDistance : struct, IDistance
    {
        int end = Volatile.Read(ref _highWater);
        var doomed = new bool[end];
        int doomedCount = 0;
        for (int id = 0; id < end; id++)
        {
            if (_state[id] == Deleted && _levels[id] >= 0)
            {
                doomed[id] = true;
                doomedCount++;
            }
        }
        if (doomedCount == 0)
        {
            return 0;
        }
        bool IsDoomed(int id) => id < doomed.Length && doomed[id] && _state[id] == Deleted;

        // A new entry point first, so no search starts inside the part being cut away.
        lock (_entryLock)
        {
            if (_entryPoint >= 0 && IsDoomed(_entryPoint))
            {
                int best = -1;
                for (int id = 0; id < end; id++)
                {
                    if (!doomed[id] && _levels[id] >= 0 && (best < 0 || _levels[id] > _levels[best]))
                    {
                        best = id;
                    }
                }
                _entryPoint = best;
                _maxLevel = best < 0 ? -1 : _levels[best];
            }
        }

        var scratch = SearchScratch.Current;
        scratch.EnsureLinks(_m0);
        var links = new int[_m0];
        var doomedLinks = new int[_m0];
        int dimension = Dimension;
        for (int node = 0; node < end; node++)
        {
            int level = _levels[node];
            if (level < 0 || doomed[node])
            {
                continue;
            }
            for (int layer = Math.Min(level, MaxLevelCap); layer >= 0; layer--)
            {
                int count = ReadLinks(node, layer, links);
                bool touched = false;
                for (int i = 0; i < count && !touched; i++)
                {
                    touched = IsDoomed(links[i]);
                }
                if (!touched)
                {
                    continue;
                }
                // Candidates: the surviving links plus the doomed links' own links, deduplicated.
                scratch.Visited.Begin(_capacity);
                scratch.Visited.TryVisit(node);
                scratch.EnsureCandidates(_m0 * (_m0 + 1));
                int n = 0;
                ref float baseVector = ref _vectors.GetRef(node);
                for (int i = 0; i < count; i++)
                {
                    int link = links[i];
                    if (!IsDoomed(link))
                    {
                        if (scratch.Visited.TryVisit(link))
                        {
                            scratch.CandidateIds[n] = link;
                            scratch.CandidateDistances[n++] = TDistance.Compute(ref baseVector, ref _vectors.GetRef(link), dimension);
                        }
                        continue;
                    }
                    int second = ReadLinks(link, layer, doomedLinks);
                    for (int j = 0; j < second; j++)
                    {
                        int candidate = doomedLinks[j];
                        if (!IsDoomed(candidate) && _levels[candidate] >= layer && scratch.Visited.TryVisit(candidate))
                        {
                            scratch.CandidateIds[n] = candidate;
                            scratch.CandidateDistances[n++] = TDistance.Compute(ref baseVector, ref _vectors.GetRef(candidate), dimension);
                        }
                    }
                }
                scratch.CandidateDistances.AsSpan(0, n).Sort(scratch.CandidateIds.AsSpan(0, n));
                int kept = SelectNeighbors<TDistance>(scratch.CandidateIds, scratch.CandidateDistances, n, layer == 0 ? _m0 : _m, scratch.Selected);
                int v = LockNode(node);
                if (_levels[node] >= layer)
                {
                    var list = ListSpan(node, layer);
                    list[0] = kept;
                    scratch.Selected.AsSpan(0, kept).CopyTo(list[1..]);
                }
                UnlockNode(node, v);
            }
        }

        // Free the slots. A label re-upserted meanwhile is live again and keeps its place.
        int freed = 0;
        for (int id = 0; id < end; id++)
        {
            if (!doomed[id])
            {
                continue;
            }
            lock (_labelLocks[id & (LabelLockStripes - 1)])
            {
                if (_state[id] != Deleted)
                {
                    continue;
                }
                int v = LockNode(id);
                if (_upper[id] is { } upper)
                {
                    Interlocked.Add(ref _upperBytes, -(long)upper.Length * sizeof(int));
                }
                // The layer-0 list stays: a search holding a stale link may still route through this slot.
                _upper[id] = null;
                _levels[id] = -1;
                _state[id] = Absent;
                UnlockNode(id, v);
                Interlocked.Increment(ref _freed);
                Interlocked.Decrement(ref _deleted);
                freed++;
            }
        }
        return freed;
    }

    // ---------------------------------------------------------------- reads

    public bool Contains(int label) => label >= 0 && label < Volatile.Read(ref _capacity) && _state[label] == Live;

    public bool TryGetVector(int label, Span<float> destination)
    {
        _resizeLock.EnterReadLock();
        try
        {
            if (!Contains(label))
            {
                return false;
            }
            _vectors.Get(label).CopyTo(destination);
            return true;
        }
        finally
        {
            _resizeLock.ExitReadLock();
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
        _resizeLock.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (parameters.Exact)
            {
                return ExactSearch(query, destination, filter);
            }
            int ef = Math.Max(parameters.Ef > 0 ? parameters.Ef : DefaultEf, destination.Length);
            int found = Metric == Metric.L2
                ? GraphSearch<SquaredL2Distance>(query, destination, ef, filter)
                : GraphSearch<NegativeDotDistance>(query, destination, ef, filter);
            // The graph can come up short (a filter that cuts it into islands, tombstones around the entry):
            // then the exact filtered scan gives every match there is.
            if (found < destination.Length && (filter is not null || found < Count))
            {
                found = ExactSearch(query, destination, filter);
            }
            return found;
        }
        finally
        {
            _resizeLock.ExitReadLock();
        }
    }

    /// <summary>Splits a batch over this many workers at most (defaults to the core count).</summary>
    public int MaxDegreeOfParallelism { get; set; } = Environment.ProcessorCount;

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
        if (parameters.Exact)
        {
            _resizeLock.EnterReadLock();
            try
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                ExactBatchScan.Search(Metric, queries, k, _vectors, new LiveStates(_state, Live), filter, Volatile.Read(ref _highWater), MaxDegreeOfParallelism, results, counts, cancellationToken);
            }
            finally
            {
                _resizeLock.ExitReadLock();
            }
            return;
        }
        // Graph searches are latency-bound pointer chasing: parallel over queries, each an ordinary search.
        ParallelQueries.Search(this, queries, k, results, counts, parameters, filter, MaxDegreeOfParallelism, cancellationToken);
    }

    /// <summary>Exact distances for the given labels only (skipping ones that are not live), closest first.</summary>
    public int SearchLabels(ReadOnlySpan<float> query, ReadOnlySpan<int> labels, Span<Neighbor> destination)
    {
        _resizeLock.EnterReadLock();
        try
        {
            var heap = new TopKHeap(destination);
            ref float q = ref MemoryMarshal.GetReference(query);
            foreach (int label in labels)
            {
                if (Contains(label))
                {
                    heap.Push(label, Distance(ref q, label));
                }
            }
            return heap.SortAscending();
        }
        finally
        {
            _resizeLock.ExitReadLock();
        }
    }

    private int GraphSearch<TDistance>(ReadOnlySpan<float> query, Span<Neighbor> destination, int ef, ILabelFilter? filter) where TDistance : struct, IDistance
    {
        int entry = _entryPoint;
        int maxLevel = _maxLevel;
        if (entry < 0)
        {
            return 0;
        }
        var scratch = SearchScratch.Current;
        scratch.EnsureLinks(_m0);
        ref float q = ref MemoryMarshal.GetReference(query);
        if (_int8 is { IsFitted: true } codes)
        {
            // The beam keeps max(ef, k × oversampling) results over the codes; all of them are rescored.
            int beam = Math.Max(ef, Quantization.Candidates(destination.Length));
            scratch.EnsureQueryCode(Dimension);
            codes.Quantizer!.PrepareQuery(query, Metric, scratch.QueryCode.AsSpan(0, Dimension), out float factor, out float constant);
            ref sbyte folded = ref MemoryMarshal.GetArrayDataReference(scratch.QueryCode);
            switch (Int8Kernels.Active)
            {
                case Int8Isa.AvxVnni:
                {
                    var probe = new Int8Probe<VnniDot>(ref folded, codes, Dimension, factor, constant);
                    Walk(ref probe, entry, maxLevel, beam, filter, scratch);
                    break;
                }
                case Int8Isa.Avx512:
                {
                    var probe = new Int8Probe<Avx512Dot>(ref folded, codes, Dimension, factor, constant);
                    Walk(ref probe, entry, maxLevel, beam, filter, scratch);
                    break;
                }
                case Int8Isa.Avx2:
                {
                    var probe = new Int8Probe<Avx2Dot>(ref folded, codes, Dimension, factor, constant);
                    Walk(ref probe, entry, maxLevel, beam, filter, scratch);
                    break;
                }
                default:
                {
                    var probe = new Int8Probe<ScalarDot>(ref folded, codes, Dimension, factor, constant);
                    Walk(ref probe, entry, maxLevel, beam, filter, scratch);
                    break;
                }
            }
            return Collect<TDistance>(ref q, destination, scratch, Quantization.Rescore);
        }
        var floats = new FloatProbe<TDistance>(ref q, _vectors);
        Walk(ref floats, entry, maxLevel, ef, filter, scratch);
        return Collect<TDistance>(ref q, destination, scratch, rescore: false);
    }

    /// <summary>Greedy descent through the upper layers, then the beam search on layer 0 (results left in <c>scratch.Results</c>).</summary>
    private void Walk<TProbe>(scoped ref TProbe probe, int entry, int maxLevel, int ef, ILabelFilter? filter, SearchScratch scratch)
        where TProbe : struct, IGraphProbe, allows ref struct
    {
        int current = entry;
        float currentDistance = probe.Distance(current);
        for (int layer = maxLevel; layer > 0; layer--)
        {
            GreedyStep(ref probe, ref current, ref currentDistance, layer, scratch);
        }
        // With no tombstones, freed slots or filter every reachable node is acceptable: skip the per-node checks.
        bool everyNode = filter is null && Volatile.Read(ref _deleted) == 0 && Volatile.Read(ref _freed) == 0;
        SearchLayer(ref probe, current, currentDistance, 0, ef, scratch, query: !everyNode, filter, exclude: -1);
    }

    /// <summary>
    /// The k closest of the beam's results, selected in one pass instead of popping ef − k items off the heap;
    /// with <paramref name="rescore"/> ranked by full-vector distances instead of the walk's approximate ones.
    /// </summary>
    private int Collect<TDistance>(ref float q, Span<Neighbor> destination, SearchScratch scratch, bool rescore) where TDistance : struct, IDistance
    {
        var heap = new TopKHeap(destination);
        int dimension = Dimension;
        if (rescore)
        {
            // The beam's full vectors are scattered (and cold: the walk read only codes): request them all before the first distance.
            foreach (ref readonly var item in scratch.Results.Items)
            {
                _vectors.PrefetchAll(item.Id);
            }
        }
        foreach (ref readonly var item in scratch.Results.Items)
        {
            heap.Push(item.Id, rescore ? TDistance.Compute(ref q, ref _vectors.GetRef(item.Id), dimension) : item.Key);
        }
        return heap.SortAscending();
    }

    /// <summary>Greedy descent on an upper layer: move to any closer neighbour until none is closer.</summary>
    private void GreedyStep<TProbe>(scoped ref TProbe probe, ref int current, ref float currentDistance, int layer, SearchScratch scratch)
        where TProbe : struct, IGraphProbe, allows ref struct
    {
        bool changed = true;
        while (changed)
        {
            changed = false;
            int count = ReadLinks(current, layer, scratch.Links);
            for (int i = 0; i < count; i++)
            {
                int candidate = scratch.Links[i];
                float d = probe.Distance(candidate);
                if (d < currentDistance)
                {
                    currentDistance = d;
                    current = candidate;
                    changed = true;
                }
            }
        }
    }

    /// <summary>
    /// Beam search on one layer, leaving up to <paramref name="ef"/> results in <c>scratch.Results</c> (root =
    /// farthest). Tombstones and filtered-out nodes are still expanded (they keep the graph connected) but only
    /// acceptable nodes enter the result; in a query that means live and allowed, while building it means any
    /// node in the graph but <paramref name="exclude"/>.
    /// </summary>
    private void SearchLayer<TProbe>(scoped ref TProbe probe, int entry, float entryDistance, int layer, int ef, SearchScratch scratch, bool query, ILabelFilter? filter, int exclude)
        where TProbe : struct, IGraphProbe, allows ref struct
    {
        var visited = scratch.Visited;
        var candidates = scratch.Candidates;
        var results = scratch.Results;
        var links = scratch.Links;
        visited.Begin(_capacity);
        candidates.Clear();
        results.Clear();

        visited.TryVisit(entry);
        candidates.Push(-entryDistance, entry);
        if (Accept(entry, query, filter, exclude))
        {
            results.Push(entryDistance, entry);
        }
        float bound = results.Count > 0 ? results.Top.Key : float.PositiveInfinity;
        while (candidates.Count > 0)
        {
            float distance = -candidates.Top.Key;
            if (distance > bound && results.Count >= ef)
            {
                break;
            }
            int node = candidates.Pop().Id;
            int count = ReadLinks(node, layer, links);
            // Keep the unvisited links and start loading their vectors before the first distance is computed.
            int fresh = 0;
            for (int i = 0; i < count; i++)
            {
                int link = links[i];
                if (visited.TryVisit(link))
                {
                    links[fresh++] = link;
                    probe.Prefetch(link);
                }
            }
            for (int i = 0; i < fresh; i++)
            {
                int link = links[i];
                float d = probe.Distance(link);
                if (results.Count < ef || d < bound)
                {
                    candidates.Push(-d, link);
                    if (Accept(link, query, filter, exclude))
                    {
                        if (results.Count < ef)
                        {
                            results.Push(d, link);
                        }
                        else
                        {
                            results.ReplaceTop(d, link); // the farthest kept result leaves as this one enters
                        }
                        bound = results.Top.Key;
                    }
                }
            }
            if (layer == 0 && candidates.Count > 0)
            {
                PrefetchLinks0(candidates.Top.Id); // the next node to expand, as hnswlib does: its list loads while the loop checks the bound
            }
        }
    }

    /// <summary>Starts loading a node's layer-0 list and its version word, the two misses of <see cref="ReadLinks"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe void PrefetchLinks0(int node)
    {
        if (Sse.IsSupported)
        {
            ref int list = ref _links0[node * _stride0];
            Sse.Prefetch0(Unsafe.AsPointer(ref list));
            Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref list, _stride0 - 1)));
            Sse.Prefetch0(Unsafe.AsPointer(ref _versions[node]));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Accept(int id, bool query, ILabelFilter? filter, int exclude) => query
        ? _state[id] == Live && (filter is null || filter.Allows(id))
        : id != exclude && (exclude < 0 || _levels[id] >= 0);

    /// <summary>Moves the results heap into the candidate arrays, closest first.</summary>
    private static int DrainAscending(MaxHeap results, SearchScratch scratch)
    {
        int n = results.Count;
        scratch.EnsureCandidates(n);
        for (int i = n - 1; i >= 0; i--)
        {
            var item = results.Pop();
            scratch.CandidateIds[i] = item.Id;
            scratch.CandidateDistances[i] = item.Key;
        }
        return n;
    }

    private int ExactSearch(ReadOnlySpan<float> query, Span<Neighbor> destination, ILabelFilter? filter)
    {
        var heap = new TopKHeap(destination);
        ExactScan.Scan(Metric, query, _vectors, new LiveStates(_state, Live), filter, 0, Volatile.Read(ref _highWater), ref heap);
        return heap.SortAscending();
    }

    private float Distance(ref float q, int id) => Metric == Metric.L2
        ? SquaredL2Distance.Compute(ref q, ref _vectors.GetRef(id), Dimension)
        : NegativeDotDistance.Compute(ref q, ref _vectors.GetRef(id), Dimension);

    // ---------------------------------------------------------------- node storage and locks

    /// <summary>The list of <paramref name="node"/> on <paramref name="layer"/>: <c>[count, links...]</c>. Callers hold the node lock.</summary>
    private Span<int> ListSpan(int node, int layer) => layer == 0
        ? _links0.AsSpan(node * _stride0, _stride0)
        : _upper[node].AsSpan((layer - 1) * _strideUp, _strideUp);

    /// <summary>Copies a neighbour list without tearing: retries when a writer changed the node meanwhile.</summary>
    private int ReadLinks(int node, int layer, int[] destination)
    {
        ref int version = ref _versions[node];
        var spinner = default(SpinWait);
        while (true)
        {
            int before = Volatile.Read(ref version);
            if ((before & 1) != 0)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
                continue;
            }
            int count;
            if (layer == 0)
            {
                int start = node * _stride0;
                count = Math.Min(_links0[start], _m0);
                _links0.AsSpan(start + 1, count).CopyTo(destination);
            }
            else
            {
                var upper = _upper[node];
                int start = (layer - 1) * _strideUp;
                if (upper is null || start + _strideUp > upper.Length)
                {
                    count = 0;
                }
                else
                {
                    count = Math.Min(upper[start], _m);
                    upper.AsSpan(start + 1, count).CopyTo(destination);
                }
            }
            if (!X86Base.IsSupported)
            {
                Interlocked.MemoryBarrier(); // x86 keeps loads in order; weaker CPUs need the fence before re-checking
            }
            if (Volatile.Read(ref version) == before)
            {
                return count;
            }
        }
    }

    private int LockNode(int node)
    {
        ref int version = ref _versions[node];
        var spinner = default(SpinWait);
        while (true)
        {
            int current = Volatile.Read(ref version);
            if ((current & 1) == 0 && Interlocked.CompareExchange(ref version, current + 1, current) == current)
            {
                return current;
            }
            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    private void UnlockNode(int node, int lockedFrom) => Volatile.Write(ref _versions[node], lockedFrom + 2);

    private int RandomLevel()
    {
        double u;
        lock (_random)
        {
            u = 1.0 - _random.NextDouble();
        }
        return Math.Min((int)(-Math.Log(u) * _levelMultiplier), MaxLevelCap);
    }

    private void EnsureCapacity(int label)
    {
        if (label < Volatile.Read(ref _capacity))
        {
            return;
        }
        _resizeLock.EnterWriteLock();
        try
        {
            if (label >= _capacity)
            {
                Grow(Math.Max(label + 1, (int)Math.Min(int.MaxValue / 2, _capacity * 2L)));
            }
        }
        finally
        {
            _resizeLock.ExitWriteLock();
        }
    }

    /// <summary>Resizes every per-node array. Callers hold the resize lock exclusively (or own the index alone).</summary>
    private void Grow(int capacity)
    {
        int old = _capacity;
        Array.Resize(ref _links0, checked(capacity * _stride0));
        Array.Resize(ref _upper, capacity);
        Array.Resize(ref _levels, capacity);
        _levels.AsSpan(old).Fill(-1);
        Array.Resize(ref _versions, capacity);
        Array.Resize(ref _state, capacity);
        _vectors.EnsureCapacity(capacity - 1);
        _int8?.EnsureCapacity(capacity);
        Volatile.Write(ref _capacity, capacity);
    }

    // ---------------------------------------------------------------- persistence

    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        // Exclusive: a consistent snapshot without per-node locking (saves are rare; growth waits on the same lock).
        _resizeLock.EnterWriteLock();
        try
        {
            lock (_compactLock)
            {
                int end = _highWater;
                Span<byte> header = stackalloc byte[48];
                BinaryPrimitives.WriteInt32LittleEndian(header, FileMagic);
                bool quantized = _int8 is not null;
                BinaryPrimitives.WriteInt32LittleEndian(header[4..], quantized ? IndexFileFormat.QuantizedVersion : IndexFileFormat.UnquantizedVersion);
                BinaryPrimitives.WriteInt32LittleEndian(header[8..], Dimension);
                BinaryPrimitives.WriteInt32LittleEndian(header[12..], (int)Metric);
                BinaryPrimitives.WriteInt32LittleEndian(header[16..], _m);
                BinaryPrimitives.WriteInt32LittleEndian(header[20..], EfConstruction);
                BinaryPrimitives.WriteInt32LittleEndian(header[24..], end);
                BinaryPrimitives.WriteInt32LittleEndian(header[28..], _entryPoint);
                BinaryPrimitives.WriteInt32LittleEndian(header[32..], _maxLevel);
                BinaryPrimitives.WriteInt32LittleEndian(header[36..], _count);
                BinaryPrimitives.WriteInt32LittleEndian(header[40..], _deleted);
                BinaryPrimitives.WriteInt32LittleEndian(header[44..], _freed);
                stream.Write(header);
                if (quantized)
                {
                    WriteQuantization(stream);
                }
                stream.Write(_state.AsSpan(0, end));
                stream.Write(MemoryMarshal.AsBytes(_levels.AsSpan(0, end)));
                stream.Write(MemoryMarshal.AsBytes(_links0.AsSpan(0, end * _stride0)));
                for (int id = 0; id < end; id++)
                {
                    if (_levels[id] > 0)
                    {
                        stream.Write(MemoryMarshal.AsBytes(_upper[id].AsSpan()));
                    }
                }
                for (int id = 0; id < end; id++)
                {
                    if (_state[id] != Absent)
                    {
                        stream.Write(MemoryMarshal.AsBytes(_vectors.Get(id)));
                    }
                }
            }
        }
        finally
        {
            _resizeLock.ExitWriteLock();
        }
    }

    /// <summary>The shared quantization block, then the refit counters (HNSW only: the exact index recounts on load).</summary>
    private void WriteQuantization(Stream stream)
    {
        IndexFileFormat.WriteQuantization(stream, Quantization, _int8);
        Span<byte> counters = stackalloc byte[12];
        BinaryPrimitives.WriteInt32LittleEndian(counters, _countAtFit);
        BinaryPrimitives.WriteInt64LittleEndian(counters[4..], _clampedSinceFit);
        stream.Write(counters);
    }

    /// <summary>Reads an index written by <see cref="Save"/>: a straight copy of the arrays, no graph rebuild.</summary>
    public static HnswIndex Load(Stream stream) => Load(stream, onDisk: false);

    /// <summary>Reads an index written by <see cref="Save"/>, with its full vectors in memory-mapped files (<paramref name="onDisk"/>) or RAM.</summary>
    public static HnswIndex Load(Stream stream, bool onDisk)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> header = stackalloc byte[48];
        stream.ReadExactly(header);
        int version = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
        if (BinaryPrimitives.ReadInt32LittleEndian(header) != FileMagic || version is < IndexFileFormat.UnquantizedVersion or > IndexFileFormat.QuantizedVersion)
        {
            throw new InvalidDataException("Not an HNSW index file of a supported version.");
        }
        int dimension = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
        var metric = (Metric)BinaryPrimitives.ReadInt32LittleEndian(header[12..]);
        int m = BinaryPrimitives.ReadInt32LittleEndian(header[16..]);
        int efConstruction = BinaryPrimitives.ReadInt32LittleEndian(header[20..]);
        int end = BinaryPrimitives.ReadInt32LittleEndian(header[24..]);
        if (dimension < 1 || m < 2 || m > 256 || end < 0 || !Enum.IsDefined(metric))
        {
            throw new InvalidDataException("Corrupt HNSW index header.");
        }
        var settings = QuantizationSettings.None;
        bool fitted = false;
        if (version >= IndexFileFormat.QuantizedVersion)
        {
            // Graphs walk int8 codes only (binary codes are for the exact scan).
            (settings, fitted) = IndexFileFormat.ReadQuantization(stream, kind => kind == QuantizationKind.Int8, "Corrupt HNSW index: quantization kind");
        }
        var index = new HnswIndex(dimension, metric, m, efConstruction, end, quantization: settings, onDisk: onDisk);
        if (version >= IndexFileFormat.QuantizedVersion)
        {
            if (fitted)
            {
                index._int8!.ReadParameters(stream);
            }
            Span<byte> counters = stackalloc byte[12];
            stream.ReadExactly(counters);
            index._countAtFit = BinaryPrimitives.ReadInt32LittleEndian(counters);
            index._clampedSinceFit = BinaryPrimitives.ReadInt64LittleEndian(counters[4..]);
        }
        index._entryPoint = BinaryPrimitives.ReadInt32LittleEndian(header[28..]);
        index._maxLevel = BinaryPrimitives.ReadInt32LittleEndian(header[32..]);
        index._count = BinaryPrimitives.ReadInt32LittleEndian(header[36..]);
        index._deleted = BinaryPrimitives.ReadInt32LittleEndian(header[40..]);
        index._freed = BinaryPrimitives.ReadInt32LittleEndian(header[44..]);
        index._highWater = end;
        stream.ReadExactly(index._state.AsSpan(0, end));
        stream.ReadExactly(MemoryMarshal.AsBytes(index._levels.AsSpan(0, end)));
        stream.ReadExactly(MemoryMarshal.AsBytes(index._links0.AsSpan(0, end * index._stride0)));
        for (int id = 0; id < end; id++)
        {
            int level = index._levels[id];
            if (level > MaxLevelCap)
            {
                throw new InvalidDataException($"Corrupt HNSW index: node {id} has level {level}.");
            }
            if (level > 0)
            {
                var upper = new int[level * index._strideUp];
                stream.ReadExactly(MemoryMarshal.AsBytes(upper.AsSpan()));
                index._upper[id] = upper;
                index._upperBytes += (long)upper.Length * sizeof(int);
            }
        }
        for (int id = 0; id < end; id++)
        {
            if (index._state[id] != Absent)
            {
                stream.ReadExactly(MemoryMarshal.AsBytes(index._vectors.Get(id)));
                if (fitted)
                {
                    index._int8!.Set(id, index._vectors.Get(id));
                }
            }
        }
        return index;
    }

    public void Dispose()
    {
        try
        {
            _backgroundCompaction.Wait();
        }
        catch (AggregateException)
        {
            // A failed background compaction has nothing more to clean up.
        }
        _resizeLock.EnterWriteLock();
        try
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _vectors.Dispose();
        }
        finally
        {
            _resizeLock.ExitWriteLock();
        }
    }
}

/// <summary>
/// The bytes of an <see cref="HnswIndex"/> by structure: full vectors (in RAM, or mapped when on disk), int8 codes
/// and their L2 norm terms, layer-0 link lists (2·M + 1 ints per slot), upper-layer lists and the per-slot
/// references to them, and the per-slot level, version (the lock-free reader's check) and state. Per-slot arrays
/// count every allocated slot (<see cref="Capacity"/>), not only the used ones.
/// </summary>
public readonly record struct HnswMemory(long Vectors, long Codes, long CodeNorms, long Layer0Links, long UpperLinks, long UpperReferences, long Levels, long Versions,
    long States, int Capacity)
{
    /// <summary>Everything but the full vectors: what stays in RAM when they are on disk.</summary>
    public long WithoutVectors => Codes + CodeNorms + Layer0Links + UpperLinks + UpperReferences + Levels + Versions + States;
}
