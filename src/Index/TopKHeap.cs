using System.Runtime.CompilerServices;

namespace VectorStoreDb.Index;

/// <summary>
/// A bounded max-heap on distance over caller-provided storage: keeps the k closest items seen so far
/// with the farthest at the root, so a new candidate is compared against one value and rejected cheaply.
/// A ref struct so it lives on the stack over a stackalloc'd or pooled span: no allocation per query.
/// </summary>
public ref struct TopKHeap
{
    private readonly Span<Neighbor> _items;
    private int _count;

    public TopKHeap(Span<Neighbor> storage)
    {
        _items = storage;
        _count = 0;
    }

    /// <summary>Resumes a heap whose first <paramref name="count"/> items of <paramref name="storage"/> were kept by an earlier instance (batch scans keep one heap per query in a shared array).</summary>
    internal TopKHeap(Span<Neighbor> storage, int count)
    {
        _items = storage;
        _count = count;
    }

    public readonly int Count => _count;

    public readonly int Capacity => _items.Length;

    public readonly bool IsFull => _count == _items.Length;

    /// <summary>The farthest kept distance, or +∞ while the heap is not full (anything may enter).</summary>
    public readonly float Threshold => _count == _items.Length ? _items[0].Distance : float.PositiveInfinity;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Push(int label, float distance)
    {
        if (_count < _items.Length)
        {
            int i = _count++;
            while (i > 0)
            {
                int parent = (i - 1) >> 1;
                if (_items[parent].Distance >= distance)
                {
                    break;
                }
                _items[i] = _items[parent];
                i = parent;
            }
            _items[i] = new Neighbor(label, distance);
        }
        else if (_items.Length > 0 && distance < _items[0].Distance)
        {
            SiftDownFromRoot(new Neighbor(label, distance));
        }
    }

    private void SiftDownFromRoot(Neighbor item)
    {
        int i = 0;
        int n = _count;
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= n)
            {
                break;
            }
            if (child + 1 < n && _items[child + 1].Distance > _items[child].Distance)
            {
                child++;
            }
            if (_items[child].Distance <= item.Distance)
            {
                break;
            }
            _items[i] = _items[child];
            i = child;
        }
        _items[i] = item;
    }

    /// <summary>Sorts the kept items closest first (ties by label, for stable results) and returns their count.</summary>
    public readonly int SortAscending()
    {
        var kept = _items[.._count];
        kept.Sort(static (x, y) =>
        {
            int c = x.Distance.CompareTo(y.Distance);
            return c != 0 ? c : x.Label.CompareTo(y.Label);
        });
        return _count;
    }
}
