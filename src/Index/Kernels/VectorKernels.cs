using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace VectorStoreDb.Index;

/// <summary>
/// SIMD distance kernels. Each has a Vector512, Vector256 and Vector128 path with four independent
/// accumulators (so the FMA latency is hidden) and a scalar tail; the JIT removes the paths the CPU lacks.
/// </summary>
public static class VectorKernels
{
    /// <summary>Inner product of two equal-length vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
        {
            ThrowLengthMismatch();
        }
        return Dot(ref MemoryMarshal.GetReference(a), ref MemoryMarshal.GetReference(b), a.Length);
    }

    /// <summary>Squared Euclidean distance of two equal-length vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SquaredL2(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
        {
            ThrowLengthMismatch();
        }
        return SquaredL2(ref MemoryMarshal.GetReference(a), ref MemoryMarshal.GetReference(b), a.Length);
    }

    internal static float Dot(ref float a, ref float b, int length)
    {
        nuint n = (nuint)length;
        nuint i = 0;
        float sum;
        if (Vector512.IsHardwareAccelerated && n >= (nuint)Vector512<float>.Count)
        {
            var acc0 = Vector512<float>.Zero; var acc1 = Vector512<float>.Zero;
            var acc2 = Vector512<float>.Zero; var acc3 = Vector512<float>.Zero;
            nuint w = (nuint)Vector512<float>.Count;
            for (; i + 4 * w <= n; i += 4 * w)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref a, i), Vector512.LoadUnsafe(ref b, i), acc0);
                acc1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref a, i + w), Vector512.LoadUnsafe(ref b, i + w), acc1);
                acc2 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref a, i + 2 * w), Vector512.LoadUnsafe(ref b, i + 2 * w), acc2);
                acc3 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref a, i + 3 * w), Vector512.LoadUnsafe(ref b, i + 3 * w), acc3);
            }
            for (; i + w <= n; i += w)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref a, i), Vector512.LoadUnsafe(ref b, i), acc0);
            }
            sum = BlockKernels.HorizontalSum((acc0 + acc1) + (acc2 + acc3));
        }
        else if (Vector256.IsHardwareAccelerated && n >= (nuint)Vector256<float>.Count)
        {
            var acc0 = Vector256<float>.Zero; var acc1 = Vector256<float>.Zero;
            var acc2 = Vector256<float>.Zero; var acc3 = Vector256<float>.Zero;
            nuint w = (nuint)Vector256<float>.Count;
            for (; i + 4 * w <= n; i += 4 * w)
            {
                acc0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, i), Vector256.LoadUnsafe(ref b, i), acc0);
                acc1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, i + w), Vector256.LoadUnsafe(ref b, i + w), acc1);
                acc2 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, i + 2 * w), Vector256.LoadUnsafe(ref b, i + 2 * w), acc2);
                acc3 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, i + 3 * w), Vector256.LoadUnsafe(ref b, i + 3 * w), acc3);
            }
            for (; i + w <= n; i += w)
            {
                acc0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, i), Vector256.LoadUnsafe(ref b, i), acc0);
            }
            sum = Vector256.Sum((acc0 + acc1) + (acc2 + acc3));
        }
        else if (Vector128.IsHardwareAccelerated && n >= (nuint)Vector128<float>.Count)
        {
            var acc0 = Vector128<float>.Zero; var acc1 = Vector128<float>.Zero;
            nuint w = (nuint)Vector128<float>.Count;
            for (; i + 2 * w <= n; i += 2 * w)
            {
                acc0 = Vector128.FusedMultiplyAdd(Vector128.LoadUnsafe(ref a, i), Vector128.LoadUnsafe(ref b, i), acc0);
                acc1 = Vector128.FusedMultiplyAdd(Vector128.LoadUnsafe(ref a, i + w), Vector128.LoadUnsafe(ref b, i + w), acc1);
            }
            for (; i + w <= n; i += w)
            {
                acc0 = Vector128.FusedMultiplyAdd(Vector128.LoadUnsafe(ref a, i), Vector128.LoadUnsafe(ref b, i), acc0);
            }
            sum = Vector128.Sum(acc0 + acc1);
        }
        else
        {
            sum = 0f;
        }
        for (; i < n; i++)
        {
            sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref a, i), Unsafe.Add(ref b, i), sum);
        }
        return sum;
    }

    internal static float SquaredL2(ref float a, ref float b, int length)
    {
        nuint n = (nuint)length;
        nuint i = 0;
        float sum;
        if (Vector512.IsHardwareAccelerated && n >= (nuint)Vector512<float>.Count)
        {
            var acc0 = Vector512<float>.Zero; var acc1 = Vector512<float>.Zero;
            var acc2 = Vector512<float>.Zero; var acc3 = Vector512<float>.Zero;
            nuint w = (nuint)Vector512<float>.Count;
            for (; i + 4 * w <= n; i += 4 * w)
            {
                var d0 = Vector512.LoadUnsafe(ref a, i) - Vector512.LoadUnsafe(ref b, i);
                var d1 = Vector512.LoadUnsafe(ref a, i + w) - Vector512.LoadUnsafe(ref b, i + w);
                var d2 = Vector512.LoadUnsafe(ref a, i + 2 * w) - Vector512.LoadUnsafe(ref b, i + 2 * w);
                var d3 = Vector512.LoadUnsafe(ref a, i + 3 * w) - Vector512.LoadUnsafe(ref b, i + 3 * w);
                acc0 = Vector512.FusedMultiplyAdd(d0, d0, acc0);
                acc1 = Vector512.FusedMultiplyAdd(d1, d1, acc1);
                acc2 = Vector512.FusedMultiplyAdd(d2, d2, acc2);
                acc3 = Vector512.FusedMultiplyAdd(d3, d3, acc3);
            }
            for (; i + w <= n; i += w)
            {
                var d = Vector512.LoadUnsafe(ref a, i) - Vector512.LoadUnsafe(ref b, i);
                acc0 = Vector512.FusedMultiplyAdd(d, d, acc0);
            }
            sum = BlockKernels.HorizontalSum((acc0 + acc1) + (acc2 + acc3));
        }
        else if (Vector256.IsHardwareAccelerated && n >= (nuint)Vector256<float>.Count)
        {
            var acc0 = Vector256<float>.Zero; var acc1 = Vector256<float>.Zero;
            var acc2 = Vector256<float>.Zero; var acc3 = Vector256<float>.Zero;
            nuint w = (nuint)Vector256<float>.Count;
            for (; i + 4 * w <= n; i += 4 * w)
            {
                var d0 = Vector256.LoadUnsafe(ref a, i) - Vector256.LoadUnsafe(ref b, i);
                var d1 = Vector256.LoadUnsafe(ref a, i + w) - Vector256.LoadUnsafe(ref b, i + w);
                var d2 = Vector256.LoadUnsafe(ref a, i + 2 * w) - Vector256.LoadUnsafe(ref b, i + 2 * w);
                var d3 = Vector256.LoadUnsafe(ref a, i + 3 * w) - Vector256.LoadUnsafe(ref b, i + 3 * w);
                acc0 = Vector256.FusedMultiplyAdd(d0, d0, acc0);
                acc1 = Vector256.FusedMultiplyAdd(d1, d1, acc1);
                acc2 = Vector256.FusedMultiplyAdd(d2, d2, acc2);
                acc3 = Vector256.FusedMultiplyAdd(d3, d3, acc3);
            }
            for (; i + w <= n; i += w)
            {
                var d = Vector256.LoadUnsafe(ref a, i) - Vector256.LoadUnsafe(ref b, i);
                acc0 = Vector256.FusedMultiplyAdd(d, d, acc0);
            }
            sum = Vector256.Sum((acc0 + acc1) + (acc2 + acc3));
        }
        else if (Vector128.IsHardwareAccelerated && n >= (nuint)Vector128<float>.Count)
        {
            var acc0 = Vector128<float>.Zero;
            nuint w = (nuint)Vector128<float>.Count;
            for (; i + w <= n; i += w)
            {
                var d = Vector128.LoadUnsafe(ref a, i) - Vector128.LoadUnsafe(ref b, i);
                acc0 = Vector128.FusedMultiplyAdd(d, d, acc0);
            }
            sum = Vector128.Sum(acc0);
        }
        else
        {
            sum = 0f;
        }
        for (; i < n; i++)
        {
            float d = Unsafe.Add(ref a, i) - Unsafe.Add(ref b, i);
            sum = MathF.FusedMultiplyAdd(d, d, sum);
        }
        return sum;
    }

    /// <summary>Scales a vector to unit length. A zero vector is left as it is (its cosine to anything is 0).</summary>
    public static void NormalizeInPlace(Span<float> vector)
    {
        float norm = MathF.Sqrt(Dot(vector, vector));
        if (norm > 0f && float.IsFinite(norm))
        {
            float inv = 1f / norm;
            for (int i = 0; i < vector.Length; i++)
            {
                vector[i] *= inv;
            }
        }
    }

    /// <summary>True when every component is a finite number (no NaN, no infinity).</summary>
    public static bool AllFinite(ReadOnlySpan<float> vector)
    {
        foreach (float v in vector)
        {
            if (!float.IsFinite(v))
            {
                return false;
            }
        }
        return true;
    }

    private static void ThrowLengthMismatch() => throw new ArgumentException("Vectors must have the same length.");
}
