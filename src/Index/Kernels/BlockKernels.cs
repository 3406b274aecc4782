using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace VectorStoreDb.Index;

/// <summary>
/// Distance kernels over blocks of row-major vectors stored back to back: the inner loops of the exact
/// scan. Scoring several vectors (and, for batches, several queries) per pass over the dimensions gives
/// the CPU independent FMA chains and reuses every load, so one core keeps up with memory.
/// </summary>
public static class BlockKernels
{
    /// <summary>
    /// Distances from one query to <paramref name="count"/> vectors of <paramref name="dimension"/> floats
    /// stored contiguously from <paramref name="vectors"/>, written to <paramref name="distances"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Distances<TStep>(ref float query, ref float vectors, int count, int dimension, ref float distances)
        where TStep : struct, IDistanceStep
    {
        nuint d = (nuint)dimension;
        nuint v = 0;
        nuint n = (nuint)count;
        if (Vector512.IsHardwareAccelerated && d >= (nuint)Vector512<float>.Count)
        {
            // Each vector is read front to back on its own (interleaving four rows confuses the hardware
            // prefetcher and halves the bandwidth); only the horizontal sums are shared by four vectors.
            nuint wide = d & ~(nuint)(Vector512<float>.Count - 1);
            for (; v + 4 <= n; v += 4)
            {
                ref float v0 = ref Unsafe.Add(ref vectors, v * d);
                var s0 = Accumulate<TStep>(ref query, ref v0, wide);
                var s1 = Accumulate<TStep>(ref query, ref Unsafe.Add(ref v0, d), wide);
                var s2 = Accumulate<TStep>(ref query, ref Unsafe.Add(ref v0, 2 * d), wide);
                var s3 = Accumulate<TStep>(ref query, ref Unsafe.Add(ref v0, 3 * d), wide);
                Store4<TStep>(ref Unsafe.Add(ref distances, v), ref query, ref v0, d, wide, Sum4(s0, s1, s2, s3));
            }
            for (; v < n; v++)
            {
                ref float v0 = ref Unsafe.Add(ref vectors, v * d);
                var s0 = Accumulate<TStep>(ref query, ref v0, wide);
                // The same reduction as the four-vector path, so a vector's distance is bit-identical whichever
                // group it falls in (parallel splits and single-label rescoring agree with the plain scan).
                Unsafe.Add(ref distances, v) = TStep.Finish(Tail<TStep>(ref query, ref v0, wide, d, Sum4(s0, s0, s0, s0).ToScalar()));
            }
        }
        else if (Vector256.IsHardwareAccelerated && d >= (nuint)Vector256<float>.Count)
        {
            nuint wide = d & ~(nuint)(Vector256<float>.Count - 1);
            for (; v < n; v++)
            {
                ref float v0 = ref Unsafe.Add(ref vectors, v * d);
                Unsafe.Add(ref distances, v) = TStep.Finish(Tail<TStep>(ref query, ref v0, wide, d, Vector256.Sum(Accumulate256<TStep>(ref query, ref v0, wide))));
            }
        }
        else
        {
            for (; v < n; v++)
            {
                Unsafe.Add(ref distances, v) = TStep.Finish(Tail<TStep>(ref query, ref Unsafe.Add(ref vectors, v * d), 0, d, 0f));
            }
        }
    }

    /// <summary>The distance of one vector, bit-identical to what <see cref="Distances{TStep}"/> computes for it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Distance<TStep>(ref float query, ref float vector, int dimension)
        where TStep : struct, IDistanceStep
    {
        float distance = 0;
        Distances<TStep>(ref query, ref vector, 1, dimension, ref distance);
        return distance;
    }

    /// <summary>Queries per lane group of <see cref="TransposedTile{TStep}"/> (one Vector512 of floats).</summary>
    public const int BatchQueries = 16;

    /// <summary>Vectors per call of <see cref="TransposedTile{TStep}"/>.</summary>
    public const int BatchVectors = 8;

    /// <summary>
    /// A GEMM-style micro-kernel for batches: distances from <see cref="BatchQueries"/> queries, stored transposed
    /// (<paramref name="queriesT"/>[i * 16 + q] = component i of query q), to up to <see cref="BatchVectors"/>
    /// contiguous vectors. Each vector component is broadcast against one register holding that component of all
    /// 16 queries, so 8 accumulators each collect 16 distances with no horizontal sums; the result for vector j
    /// is written to <c>distances[j * 16 .. j * 16 + 16]</c> (lane = query). With <paramref name="count"/> below 8
    /// the last vector is scored again in the unused slots (read only, never out of bounds).
    /// Requires <see cref="Vector512.IsHardwareAccelerated"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TransposedTile<TStep>(ref float queriesT, ref float vectors, int count, int dimension, ref float distances)
        where TStep : struct, IDistanceStep
    {
        nuint d = (nuint)dimension;
        nuint last = (nuint)(count - 1);
        ref float v0 = ref vectors;
        ref float v1 = ref Unsafe.Add(ref vectors, Math.Min(1, last) * d);
        ref float v2 = ref Unsafe.Add(ref vectors, Math.Min(2, last) * d);
        ref float v3 = ref Unsafe.Add(ref vectors, Math.Min(3, last) * d);
        ref float v4 = ref Unsafe.Add(ref vectors, Math.Min(4, last) * d);
        ref float v5 = ref Unsafe.Add(ref vectors, Math.Min(5, last) * d);
        ref float v6 = ref Unsafe.Add(ref vectors, Math.Min(6, last) * d);
        ref float v7 = ref Unsafe.Add(ref vectors, Math.Min(7, last) * d);
        var a0 = Vector512<float>.Zero; var a1 = Vector512<float>.Zero; var a2 = Vector512<float>.Zero; var a3 = Vector512<float>.Zero;
        var a4 = Vector512<float>.Zero; var a5 = Vector512<float>.Zero; var a6 = Vector512<float>.Zero; var a7 = Vector512<float>.Zero;
        for (nuint i = 0; i < d; i++)
        {
            var q = Vector512.LoadUnsafe(ref queriesT, i * BatchQueries);
            a0 = TStep.Step(q, Vector512.Create(Unsafe.Add(ref v0, i)), a0);
            a1 = TStep.Step(q, Vector512.Create(Unsafe.Add(ref v1, i)), a1);
            a2 = TStep.Step(q, Vector512.Create(Unsafe.Add(ref v2, i)), a2);
            a3 = TStep.Step(q, Vector512.Create(Unsafe.Add(ref v3, i)), a3);
            a4 = TStep.Step(q, Vector512.Create(Unsafe.Add(ref v4, i)), a4);
            a5 = TStep.Step(q, Vector512.Create(Unsafe.Add(ref v5, i)), a5);
            a6 = TStep.Step(q, Vector512.Create(Unsafe.Add(ref v6, i)), a6);
            a7 = TStep.Step(q, Vector512.Create(Unsafe.Add(ref v7, i)), a7);
        }
        TStep.Finish(a0).StoreUnsafe(ref distances, 0 * BatchQueries);
        TStep.Finish(a1).StoreUnsafe(ref distances, 1 * BatchQueries);
        TStep.Finish(a2).StoreUnsafe(ref distances, 2 * BatchQueries);
        TStep.Finish(a3).StoreUnsafe(ref distances, 3 * BatchQueries);
        TStep.Finish(a4).StoreUnsafe(ref distances, 4 * BatchQueries);
        TStep.Finish(a5).StoreUnsafe(ref distances, 5 * BatchQueries);
        TStep.Finish(a6).StoreUnsafe(ref distances, 6 * BatchQueries);
        TStep.Finish(a7).StoreUnsafe(ref distances, 7 * BatchQueries);
    }

    /// <summary>The first <paramref name="wide"/> components of one vector, with four independent accumulators so the FMA latency is hidden.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Accumulate<TStep>(ref float query, ref float vector, nuint wide)
        where TStep : struct, IDistanceStep
    {
        nuint w = (nuint)Vector512<float>.Count;
        var a0 = Vector512<float>.Zero; var a1 = Vector512<float>.Zero;
        var a2 = Vector512<float>.Zero; var a3 = Vector512<float>.Zero;
        nuint i = 0;
        for (; i + 4 * w <= wide; i += 4 * w)
        {
            a0 = TStep.Step(Vector512.LoadUnsafe(ref query, i), Vector512.LoadUnsafe(ref vector, i), a0);
            a1 = TStep.Step(Vector512.LoadUnsafe(ref query, i + w), Vector512.LoadUnsafe(ref vector, i + w), a1);
            a2 = TStep.Step(Vector512.LoadUnsafe(ref query, i + 2 * w), Vector512.LoadUnsafe(ref vector, i + 2 * w), a2);
            a3 = TStep.Step(Vector512.LoadUnsafe(ref query, i + 3 * w), Vector512.LoadUnsafe(ref vector, i + 3 * w), a3);
        }
        for (; i < wide; i += w)
        {
            a0 = TStep.Step(Vector512.LoadUnsafe(ref query, i), Vector512.LoadUnsafe(ref vector, i), a0);
        }
        return (a0 + a1) + (a2 + a3);
    }

    /// <summary>The 256-bit counterpart of <see cref="Accumulate{TStep}"/>, in the same order as <see cref="VectorKernels"/>' 256-bit path.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Accumulate256<TStep>(ref float query, ref float vector, nuint wide)
        where TStep : struct, IDistanceStep
    {
        nuint w = (nuint)Vector256<float>.Count;
        var a0 = Vector256<float>.Zero; var a1 = Vector256<float>.Zero;
        var a2 = Vector256<float>.Zero; var a3 = Vector256<float>.Zero;
        nuint i = 0;
        for (; i + 4 * w <= wide; i += 4 * w)
        {
            a0 = TStep.Step(Vector256.LoadUnsafe(ref query, i), Vector256.LoadUnsafe(ref vector, i), a0);
            a1 = TStep.Step(Vector256.LoadUnsafe(ref query, i + w), Vector256.LoadUnsafe(ref vector, i + w), a1);
            a2 = TStep.Step(Vector256.LoadUnsafe(ref query, i + 2 * w), Vector256.LoadUnsafe(ref vector, i + 2 * w), a2);
            a3 = TStep.Step(Vector256.LoadUnsafe(ref query, i + 3 * w), Vector256.LoadUnsafe(ref vector, i + 3 * w), a3);
        }
        for (; i < wide; i += w)
        {
            a0 = TStep.Step(Vector256.LoadUnsafe(ref query, i), Vector256.LoadUnsafe(ref vector, i), a0);
        }
        return (a0 + a1) + (a2 + a3);
    }

    /// <summary>
    /// The horizontal sum the scan uses (lane 0 of <see cref="Sum4"/>): <see cref="VectorKernels"/> reduces with
    /// it too, so a distance is bit-identical whether the scan, HNSW or a rescoring step computed it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float HorizontalSum(Vector512<float> x)
    {
        var half = x.GetLower() + x.GetUpper();
        var quarter = half.GetLower() + half.GetUpper();
        return (quarter.GetElement(0) + quarter.GetElement(2)) + (quarter.GetElement(1) + quarter.GetElement(3));
    }

    /// <summary>Adds the scalar tail (dimensions past the last full SIMD register) to <paramref name="sum"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Tail<TStep>(ref float query, ref float vector, nuint from, nuint dimension, float sum)
        where TStep : struct, IDistanceStep
    {
        for (nuint i = from; i < dimension; i++)
        {
            sum = TStep.Step(Unsafe.Add(ref query, i), Unsafe.Add(ref vector, i), sum);
        }
        return sum;
    }

    /// <summary>Horizontal sums of four accumulators as one Vector128 (lane i = sum of accumulator i): the last two folds are shared, so it costs about half of four separate sums. Only called on the Vector512 path, where SSE is present.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Sum4(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> e)
    {
        var a256 = a.GetLower() + a.GetUpper();
        var b256 = b.GetLower() + b.GetUpper();
        var c256 = c.GetLower() + c.GetUpper();
        var e256 = e.GetLower() + e.GetUpper();
        var a128 = a256.GetLower() + a256.GetUpper();
        var b128 = b256.GetLower() + b256.GetUpper();
        var c128 = c256.GetLower() + c256.GetUpper();
        var e128 = e256.GetLower() + e256.GetUpper();
        var ab = Sse.UnpackLow(a128, b128) + Sse.UnpackHigh(a128, b128); // (a0+a2, b0+b2, a1+a3, b1+b3)
        var ce = Sse.UnpackLow(c128, e128) + Sse.UnpackHigh(c128, e128);
        return Sse.MoveLowToHigh(ab, ce) + Sse.MoveHighToLow(ce, ab);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4<TStep>(ref float destination, ref float query, ref float v0, nuint d, nuint wide, Vector128<float> sums)
        where TStep : struct, IDistanceStep
    {
        if (wide == d)
        {
            Unsafe.Add(ref destination, 0) = TStep.Finish(sums.GetElement(0));
            Unsafe.Add(ref destination, 1) = TStep.Finish(sums.GetElement(1));
            Unsafe.Add(ref destination, 2) = TStep.Finish(sums.GetElement(2));
            Unsafe.Add(ref destination, 3) = TStep.Finish(sums.GetElement(3));
            return;
        }
        for (int j = 0; j < 4; j++)
        {
            Unsafe.Add(ref destination, j) = TStep.Finish(Tail<TStep>(ref query, ref Unsafe.Add(ref v0, (nuint)j * d), wide, d, sums.GetElement(j)));
        }
    }
}
