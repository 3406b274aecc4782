using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace VectorStoreDb.Index;

/// <summary>
/// The linear scan shared by <see cref="ExactIndex"/> and HNSW's exact mode, so both give bit-identical
/// distances. Blocks of contiguous vectors are scored by the fused kernel; only distances under the heap's
/// threshold become candidates, and tombstones and the filter are consulted for those alone (after the first
/// few blocks, a tiny fraction of the scan).
/// </summary>
internal static class ExactScan
{
    /// <summary>Vectors scored per kernel call: the distances stay in L1 and the candidate test runs over them in SIMD.</summary>
    private const int Block = 256;

    public static void Scan<TLive>(Metric metric, ReadOnlySpan<float> query, VectorBlock vectors, TLive live, ILabelFilter? filter, int start, int end, ref TopKHeap heap)
        where TLive : struct, ILiveLabels
    {
        if (metric == Metric.L2)
        {
            Scan<SquaredL2Step, TLive>(query, vectors, live, filter, start, end, ref heap);
        }
        else
        {
            Scan<DotStep, TLive>(query, vectors, live, filter, start, end, ref heap);
        }
    }

    /// <summary>The distance of one stored vector, bit-identical to what the scan computes for it.</summary>
    public static float Distance(Metric metric, ReadOnlySpan<float> query, VectorBlock vectors, int label) => metric == Metric.L2
        ? BlockKernels.Distance<SquaredL2Step>(ref MemoryMarshal.GetReference(query), ref vectors.GetRef(label), vectors.Dimension)
        : BlockKernels.Distance<DotStep>(ref MemoryMarshal.GetReference(query), ref vectors.GetRef(label), vectors.Dimension);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scan<TStep, TLive>(ReadOnlySpan<float> query, VectorBlock vectors, TLive live, ILabelFilter? filter, int start, int end, ref TopKHeap heap)
        where TStep : struct, IDistanceStep
        where TLive : struct, ILiveLabels
    {
        Span<float> distances = stackalloc float[Block];
        ref float q = ref MemoryMarshal.GetReference(query);
        ref float dist = ref MemoryMarshal.GetReference(distances);
        var chunks = vectors.Chunks;
        int dimension = vectors.Dimension;
        end = Math.Min(end, chunks.Length * VectorBlock.ChunkSize);
        float threshold = heap.Threshold;
        for (int first = start; first < end;)
        {
            int offset = first & (VectorBlock.ChunkSize - 1);
            int n = Math.Min(Block, Math.Min(end - first, VectorBlock.ChunkSize - offset));
            ref float block = ref Unsafe.Add(ref VectorBlock.ChunkRef(chunks, first >> VectorBlock.ChunkShift), (nint)offset * dimension);
            BlockKernels.Distances<TStep>(ref q, ref block, n, dimension, ref dist);
            int i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                for (; i + Vector256<float>.Count <= n; i += Vector256<float>.Count)
                {
                    uint below = Vector256.LessThan(Vector256.LoadUnsafe(ref dist, (nuint)i), Vector256.Create(threshold)).ExtractMostSignificantBits();
                    while (below != 0)
                    {
                        int j = i + BitOperations.TrailingZeroCount(below);
                        below &= below - 1;
                        float d = Unsafe.Add(ref dist, j);
                        if (d < threshold)
                        {
                            threshold = Offer<TStep, TLive>(ref heap, live, filter, ref q, vectors, first + j, d);
                        }
                    }
                }
            }
            for (; i < n; i++)
            {
                float d = Unsafe.Add(ref dist, i);
                if (d < threshold)
                {
                    threshold = Offer<TStep, TLive>(ref heap, live, filter, ref q, vectors, first + i, d);
                }
            }
            first += n;
        }
    }

    /// <summary>A candidate under the threshold: enters the heap if it is live and passes the filter. Returns the new threshold.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Offer<TStep, TLive>(ref TopKHeap heap, TLive live, ILabelFilter? filter, ref float query, VectorBlock vectors, int label, float distance)
        where TStep : struct, IDistanceStep
        where TLive : struct, ILiveLabels
    {
        if (live.IsLive(label) && (filter is null || filter.Allows(label)))
        {
            if (TLive.ConcurrentWriters)
            {
                distance = BlockKernels.Distance<TStep>(ref query, ref vectors.GetRef(label), vectors.Dimension);
            }
            heap.Push(label, distance);
        }
        return heap.Threshold;
    }
}
