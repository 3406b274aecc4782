using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace VectorStoreDb.Index.Quantization;

/// <summary>Hamming distance between sign-bit codes packed into <see cref="ulong"/> words (hardware popcount where present).</summary>
public static class BinaryKernels
{
    /// <summary>Number of differing bits.</summary>
    public static int Hamming(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException("Codes must have the same length.");
        }
        return Hamming(ref MemoryMarshal.GetReference(a), ref MemoryMarshal.GetReference(b), a.Length);
    }

    /// <summary>Four independent counts per step so the popcount latency is hidden.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Hamming(ref ulong a, ref ulong b, int words)
    {
        int c0 = 0, c1 = 0, c2 = 0, c3 = 0;
        int i = 0;
        for (; i + 4 <= words; i += 4)
        {
            c0 += BitOperations.PopCount(Unsafe.Add(ref a, i) ^ Unsafe.Add(ref b, i));
            c1 += BitOperations.PopCount(Unsafe.Add(ref a, i + 1) ^ Unsafe.Add(ref b, i + 1));
            c2 += BitOperations.PopCount(Unsafe.Add(ref a, i + 2) ^ Unsafe.Add(ref b, i + 2));
            c3 += BitOperations.PopCount(Unsafe.Add(ref a, i + 3) ^ Unsafe.Add(ref b, i + 3));
        }
        for (; i < words; i++)
        {
            c0 += BitOperations.PopCount(Unsafe.Add(ref a, i) ^ Unsafe.Add(ref b, i));
        }
        return (c0 + c1) + (c2 + c3);
    }
}
