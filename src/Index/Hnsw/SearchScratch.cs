using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace VectorStoreDb.Index.Hnsw;

/// <summary>
/// "Seen in this search" marks without clearing: each search bumps an epoch and a node counts as visited
/// when its stamp equals the current epoch, so starting a search costs O(1) instead of O(capacity).
/// </summary>
internal sealed class VisitedList
{
    // 16-bit stamps: half the cache footprint of ints on large graphs; the array is cleared once every 65,535 searches.
    private ushort[] _stamps = [];
    private ushort _epoch;

    /// <summary>Starts a new search over ids below <paramref name="capacity"/>.</summary>
    public void Begin(int capacity)
    {
        if (_stamps.Length < capacity)
        {
            _stamps = new ushort[Math.Max(capacity, _stamps.Length * 2)];
            _epoch = 0;
        }
        if (++_epoch == ushort.MaxValue)
        {
            Array.Clear(_stamps);
            _epoch = 1;
        }
    }

    /// <summary>Marks <paramref name="id"/> and returns true when it was not yet visited in this search.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryVisit(int id)
    {
        ref ushort stamp = ref _stamps[id];
        if (stamp == _epoch)
        {
            return false;
        }
        stamp = _epoch;
        return true;
    }
}

internal struct HeapItem(float key, int id)
{
    public float Key = key;
    public int Id = id;
}

/// <summary>
/// A binary max-heap of (key, id) on a reusable array. The candidate queue of a beam search stores negated
/// distances here (so the root is the closest); the result set stores plain distances (root = farthest kept).
/// The array only grows during warm-up; afterwards pushing allocates nothing.
/// </summary>
internal sealed class MaxHeap
{
    private HeapItem[] _items = new HeapItem[256];
    private int _count;

    public int Count => _count;

    public ref readonly HeapItem Top => ref _items[0];

    public void Clear() => _count = 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Push(float key, int id)
    {
        if (_count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }
        var items = _items;
        int i = _count++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (items[parent].Key >= key)
            {
                break;
            }
            items[i] = items[parent];
            i = parent;
        }
        items[i] = new HeapItem(key, id);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public HeapItem Pop()
    {
        var top = _items[0];
        int n = --_count;
        if (n > 0)
        {
            SiftDown(_items[n], n);
        }
        return top;
    }

    /// <summary>
    /// Replaces the root with (key, id) and restores the heap: one sift-down instead of a push (sift-up) followed by
    /// a pop (sift-down), for the bounded result set of a beam search, where every accepted item evicts the farthest.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ReplaceTop(float key, int id) => SiftDown(new HeapItem(key, id), _count);

    /// <summary>The items in heap order (no particular order), for a caller that selects from them without popping.</summary>
    public ReadOnlySpan<HeapItem> Items => _items.AsSpan(0, _count);

    /// <summary>Places <paramref name="item"/> at the root of the first <paramref name="n"/> slots and sifts it down.</summary>
    private void SiftDown(HeapItem item, int n)
    {
        ref HeapItem items = ref MemoryMarshal.GetArrayDataReference(_items);
        int i = 0;
        while (true)
        {
            int child = (2 * i) + 1;
            if (child >= n)
            {
                break;
            }
            if (child + 1 < n && Unsafe.Add(ref items, child + 1).Key > Unsafe.Add(ref items, child).Key)
            {
                child++;
            }
            if (Unsafe.Add(ref items, child).Key <= item.Key)
            {
                break;
            }
            Unsafe.Add(ref items, i) = Unsafe.Add(ref items, child);
            i = child;
        }
        Unsafe.Add(ref items, i) = item;
    }
}

/// <summary>
/// Per-thread working memory of the HNSW index, reused by every search and insert on that thread so the
/// hot paths allocate nothing once warmed up.
/// </summary>
internal sealed class SearchScratch
{
    [ThreadStatic]
    private static SearchScratch? s_current;

    public readonly VisitedList Visited = new();
    public readonly MaxHeap Candidates = new();
    public readonly MaxHeap Results = new();

    /// <summary>A copy of one neighbour list (taken under the node's version check, so never torn).</summary>
    public int[] Links = new int[64];

    /// <summary>Candidates for neighbour selection, closest first.</summary>
    public int[] CandidateIds = new int[256];
    public float[] CandidateDistances = new float[256];

    /// <summary>Neighbours chosen by the heuristic.</summary>
    public int[] Selected = new int[64];

    /// <summary>Separate buffers for pruning a neighbour's list while <see cref="Selected"/> is in use.</summary>
    public int[] PruneIds = new int[256];
    public float[] PruneDistances = new float[256];
    public int[] PruneSelected = new int[256];

    /// <summary>The query (or the node being linked) folded into signed bytes for the int8 kernels.</summary>
    public sbyte[] QueryCode = new sbyte[128];

    public static SearchScratch Current => s_current ??= new SearchScratch();

    public void EnsureQueryCode(int dimension)
    {
        if (QueryCode.Length < dimension)
        {
            QueryCode = new sbyte[dimension];
        }
    }

    public void EnsureCandidates(int count)
    {
        if (CandidateIds.Length < count)
        {
            CandidateIds = new int[count];
            CandidateDistances = new float[count];
        }
    }

    public void EnsureLinks(int count)
    {
        if (Links.Length < count)
        {
            Links = new int[count];
        }
        if (Selected.Length < count)
        {
            Selected = new int[count];
        }
        if (PruneIds.Length < 2 * count + 2)
        {
            PruneIds = new int[2 * count + 2];
            PruneDistances = new float[2 * count + 2];
            PruneSelected = new int[2 * count + 2];
        }
    }
}
