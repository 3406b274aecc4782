using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace VectorStoreDb.Index;

/// <summary>
/// Exact k-NN for many queries in one pass over memory. Queries are transposed into groups of 16 (one SIMD
/// register per component); each tile of 8 vectors is read once from memory and scored against every
/// group while it sits in L1 (<see cref="BlockKernels.TransposedTile{TStep}"/>). Workers split the vectors,
/// each keeping one bounded heap per query, merged at the end. Per-query thresholds are compared 16 lanes at
/// a time, so tombstones and the filter are consulted only for candidates, as in the single-query scan.
/// </summary>
internal static class ExactBatchScan
{
    public static void Search<TLive>(Metric metric, ReadOnlySpan<float> queries, int k, VectorBlock vectors, TLive live, ILabelFilter? filter, int end,
        int maxWorkers, Span<Neighbor> results, Span<int> counts, CancellationToken cancellationToken)
        where TLive : struct, ILiveLabels
    {
        int dimension = vectors.Dimension;
        int queryCount = queries.Length / dimension;
        end = Math.Min(end, vectors.Capacity);
        if (!Vector512.IsHardwareAccelerated)
        {
            // Without 16-lane registers the transposed kernel has no advantage: one single-query scan per query.
            for (int q = 0; q < queryCount; q++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var heap = new TopKHeap(results.Slice(q * k, k));
                ExactScan.Scan(metric, queries.Slice(q * dimension, dimension), vectors, live, filter, 0, end, ref heap);
                counts[q] = heap.SortAscending();
            }
            return;
        }
        int groups = (queryCount + BlockKernels.BatchQueries - 1) / BlockKernels.BatchQueries;
        int workers = Math.Clamp(Math.Min(maxWorkers, end / VectorBlock.ChunkSize), 1, Math.Max(1, maxWorkers));
        var transposed = ArrayPool<float>.Shared.Rent(groups * BlockKernels.BatchQueries * dimension);
        var heaps = ArrayPool<Neighbor>.Shared.Rent(workers * queryCount * k);
        var heapCounts = ArrayPool<int>.Shared.Rent(workers * queryCount);
        var thresholds = ArrayPool<float>.Shared.Rent(workers * groups * BlockKernels.BatchQueries);
        try
        {
            Transpose(queries, queryCount, dimension, transposed);
            Array.Clear(heapCounts, 0, workers * queryCount);
            for (int w = 0; w < workers; w++)
            {
                var lanes = thresholds.AsSpan(w * groups * BlockKernels.BatchQueries, groups * BlockKernels.BatchQueries);
                lanes[..queryCount].Fill(float.PositiveInfinity);
                lanes[queryCount..].Fill(float.NegativeInfinity); // padding lanes never qualify
            }
            // Worker ranges are whole chunks, so a tile of 8 never straddles two workers needlessly.
            int chunksPerWorker = (((end + VectorBlock.ChunkSize - 1) >> VectorBlock.ChunkShift) + workers - 1) / workers;
            var job = new Job<TLive>(metric, transposed, groups, queryCount, k, vectors, live, filter, end, chunksPerWorker << VectorBlock.ChunkShift, heaps, heapCounts, thresholds, cancellationToken);
            if (workers == 1)
            {
                job.Run(0);
            }
            else
            {
                Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = cancellationToken }, job.Run);
            }
            for (int q = 0; q < queryCount; q++)
            {
                var merged = new TopKHeap(results.Slice(q * k, k));
                for (int w = 0; w < workers; w++)
                {
                    int offset = (w * queryCount + q) * k;
                    foreach (var n in heaps.AsSpan(offset, heapCounts[w * queryCount + q]))
                    {
                        merged.Push(n.Label, n.Distance);
                    }
                }
                counts[q] = merged.SortAscending();
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(transposed);
            ArrayPool<Neighbor>.Shared.Return(heaps);
            ArrayPool<int>.Shared.Return(heapCounts);
            ArrayPool<float>.Shared.Return(thresholds);
        }
    }

    private static void Transpose(ReadOnlySpan<float> queries, int queryCount, int dimension, float[] transposed)
    {
        int groups = (queryCount + BlockKernels.BatchQueries - 1) / BlockKernels.BatchQueries;
        Array.Clear(transposed, 0, groups * BlockKernels.BatchQueries * dimension);
        for (int q = 0; q < queryCount; q++)
        {
            int group = q / BlockKernels.BatchQueries, lane = q % BlockKernels.BatchQueries;
            var row = queries.Slice(q * dimension, dimension);
            int baseIndex = group * BlockKernels.BatchQueries * dimension + lane;
            for (int i = 0; i < dimension; i++)
            {
                transposed[baseIndex + i * BlockKernels.BatchQueries] = row[i];
            }
        }
    }

    /// <summary>One worker's share: its vector range, its heaps and thresholds (slices of the shared pooled arrays).</summary>
    private sealed class Job<TLive>(Metric metric, float[] transposed, int groups, int queryCount, int k, VectorBlock vectors, TLive live, ILabelFilter? filter,
        int end, int span, Neighbor[] heaps, int[] heapCounts, float[] thresholds, CancellationToken cancellationToken)
        where TLive : struct, ILiveLabels
    {
        public void Run(int worker)
        {
            if (metric == Metric.L2)
            {
                Run<SquaredL2Step>(worker);
            }
            else
            {
                Run<DotStep>(worker);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Run<TStep>(int worker)
            where TStep : struct, IDistanceStep
        {
            int start = worker * span;
            int stop = Math.Min(end, start + span);
            int dimension = vectors.Dimension;
            int lanes = groups * BlockKernels.BatchQueries;
            var chunks = vectors.Chunks;
            Span<float> distances = stackalloc float[BlockKernels.BatchVectors * BlockKernels.BatchQueries];
            ref float dist = ref MemoryMarshal.GetReference(distances);
            ref float queriesT = ref MemoryMarshal.GetArrayDataReference(transposed);
            ref float threshold = ref thresholds[worker * lanes];
            var workerHeaps = heaps.AsSpan(worker * queryCount * k, queryCount * k);
            var workerCounts = heapCounts.AsSpan(worker * queryCount, queryCount);
            for (int first = start; first < stop;)
            {
                int offset = first & (VectorBlock.ChunkSize - 1);
                if (offset == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }
                int n = Math.Min(BlockKernels.BatchVectors, Math.Min(stop - first, VectorBlock.ChunkSize - offset));
                ref float tile = ref Unsafe.Add(ref VectorBlock.ChunkRef(chunks, first >> VectorBlock.ChunkShift), (nint)offset * dimension);
                Prefetch(ref Unsafe.Add(ref tile, n * dimension), Math.Min(BlockKernels.BatchVectors, Math.Min(stop - first, VectorBlock.ChunkSize - offset) - n) * dimension);
                for (int g = 0; g < groups; g++)
                {
                    BlockKernels.TransposedTile<TStep>(ref Unsafe.Add(ref queriesT, (nint)g * BlockKernels.BatchQueries * dimension), ref tile, n, dimension, ref dist);
                    ref float groupThreshold = ref Unsafe.Add(ref threshold, g * BlockKernels.BatchQueries);
                    var limit = Vector512.LoadUnsafe(ref groupThreshold);
                    for (int j = 0; j < n; j++)
                    {
                        ulong below = Vector512.LessThan(Vector512.LoadUnsafe(ref dist, (nuint)(j * BlockKernels.BatchQueries)), limit).ExtractMostSignificantBits();
                        if (below == 0)
                        {
                            continue;
                        }
                        int label = first + j;
                        if (!live.IsLive(label) || (filter is not null && !filter.Allows(label)))
                        {
                            continue;
                        }
                        do
                        {
                            int lane = BitOperations.TrailingZeroCount(below);
                            below &= below - 1;
                            int q = g * BlockKernels.BatchQueries + lane;
                            float d = Unsafe.Add(ref dist, j * BlockKernels.BatchQueries + lane);
                            if (TLive.ConcurrentWriters)
                            {
                                d = Rescore<TStep>(ref Unsafe.Add(ref queriesT, (nint)g * BlockKernels.BatchQueries * dimension + lane), ref vectors.GetRef(label), dimension);
                            }
                            var heap = new TopKHeap(workerHeaps.Slice(q * k, k), workerCounts[q]);
                            heap.Push(label, d);
                            workerCounts[q] = heap.Count;
                            Unsafe.Add(ref groupThreshold, lane) = heap.Threshold;
                        }
                        while (below != 0);
                        limit = Vector512.LoadUnsafe(ref groupThreshold);
                    }
                }
                first += n;
            }
        }

        /// <summary>
        /// Asks for the next tile while this one is scored: the kernel walks eight rows in step, a pattern the
        /// hardware prefetcher follows poorly. Stays inside the chunk (rows past it may not exist).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe void Prefetch(ref float start, int floats)
        {
            if (Sse.IsSupported && floats > 0)
            {
                byte* p = (byte*)Unsafe.AsPointer(ref start);
                for (int offset = 0; offset < floats * sizeof(float); offset += 64)
                {
                    Sse.Prefetch0(p + offset);
                }
            }
        }

        /// <summary>Scores one vector again against one transposed query lane (a label that turned live mid-scan may have been read half-written).</summary>
        private static float Rescore<TStep>(ref float queryLane, ref float vector, int dimension)
            where TStep : struct, IDistanceStep
        {
            float sum = 0;
            for (int i = 0; i < dimension; i++)
            {
                sum = TStep.Step(Unsafe.Add(ref queryLane, i * BlockKernels.BatchQueries), Unsafe.Add(ref vector, i), sum);
            }
            return TStep.Finish(sum);
        }
    }
}
