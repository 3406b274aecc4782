using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace VectorStoreDb.Index.Quantization;

/// <summary>
/// Integer kernels over int8 codes: the inner product of unsigned codes with a signed query (what the scalar
/// quantizer's dot and L2 distances reduce to) and the squared distance between two unsigned codes. Every
/// path is exact integer arithmetic, so all paths return identical results.
/// </summary>
public static class Int8Kernels
{
    /// <summary>The fastest path this CPU supports.</summary>
    public static Int8Isa Best { get; } =
        AvxVnni.IsSupported ? Int8Isa.AvxVnni
        : Avx512BW.IsSupported ? Int8Isa.Avx512
        : Avx2.IsSupported ? Int8Isa.Avx2
        : Int8Isa.Scalar;

    /// <summary>
    /// The path quantized scans use: <see cref="Best"/> unless a test forces a fallback. Every path computes the
    /// same integers, so switching it never changes results, only speed.
    /// </summary>
    public static Int8Isa Active
    {
        get => _active;
        set => _active = IsSupported(value) ? value : throw new PlatformNotSupportedException($"This CPU cannot run the {value} path.");
    }

    private static Int8Isa _active = Best;

    /// <summary>True when this CPU can run <paramref name="isa"/>.</summary>
    public static bool IsSupported(Int8Isa isa) => isa switch
    {
        Int8Isa.Scalar => true,
        Int8Isa.Avx2 => Avx2.IsSupported,
        Int8Isa.Avx512 => Avx512BW.IsSupported,
        Int8Isa.AvxVnni => AvxVnni.IsSupported,
        _ => false,
    };

    /// <summary>Σ codes[i] · query[i] (codes unsigned 0..255, query signed −127..127), on the best path.</summary>
    public static int DotU8S8(ReadOnlySpan<byte> codes, ReadOnlySpan<sbyte> query) => DotU8S8(codes, query, Best);

    /// <summary>Σ codes[i] · query[i] on the given path (which must be supported).</summary>
    public static int DotU8S8(ReadOnlySpan<byte> codes, ReadOnlySpan<sbyte> query, Int8Isa isa)
    {
        CheckLengths(codes.Length, query.Length, isa);
        ref byte a = ref MemoryMarshal.GetReference(codes);
        ref sbyte b = ref MemoryMarshal.GetReference(query);
        return isa switch
        {
            Int8Isa.AvxVnni => VnniDot.Dot(ref a, ref b, codes.Length),
            Int8Isa.Avx512 => Avx512Dot.Dot(ref a, ref b, codes.Length),
            Int8Isa.Avx2 => Avx2Dot.Dot(ref a, ref b, codes.Length),
            _ => ScalarDot.Dot(ref a, ref b, codes.Length),
        };
    }

    /// <summary>Σ (a[i] − b[i])² over unsigned codes, on the best path.</summary>
    public static int SquaredL2U8(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => SquaredL2U8(a, b, Best);

    /// <summary>Σ (a[i] − b[i])² over unsigned codes on the given path (which must be supported).</summary>
    public static int SquaredL2U8(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Int8Isa isa)
    {
        CheckLengths(a.Length, b.Length, isa);
        ref byte x = ref MemoryMarshal.GetReference(a);
        ref byte y = ref MemoryMarshal.GetReference(b);
        return isa switch
        {
            Int8Isa.AvxVnni => VnniDot.SquaredL2(ref x, ref y, a.Length),
            Int8Isa.Avx512 => Avx512Dot.SquaredL2(ref x, ref y, a.Length),
            Int8Isa.Avx2 => Avx2Dot.SquaredL2(ref x, ref y, a.Length),
            _ => ScalarDot.SquaredL2(ref x, ref y, a.Length),
        };
    }

    private static void CheckLengths(int a, int b, Int8Isa isa)
    {
        if (a != b)
        {
            throw new ArgumentException("Codes must have the same length.");
        }
        if (!IsSupported(isa))
        {
            throw new PlatformNotSupportedException($"This CPU cannot run the {isa} path.");
        }
    }
}

/// <summary>An int8 kernel path as a static-abstract operator, so the quantized scan is specialised per path with the kernel inlined.</summary>
public interface IInt8Kernel
{
    static abstract int Dot(ref byte codes, ref sbyte query, int length);

    static abstract int SquaredL2(ref byte a, ref byte b, int length);
}

/// <summary>The reference path.</summary>
public readonly struct ScalarDot : IInt8Kernel
{
    public static int Dot(ref byte codes, ref sbyte query, int length)
    {
        int sum = 0;
        for (int i = 0; i < length; i++)
        {
            sum += Unsafe.Add(ref codes, i) * Unsafe.Add(ref query, i);
        }
        return sum;
    }

    public static int SquaredL2(ref byte a, ref byte b, int length)
    {
        int sum = 0;
        for (int i = 0; i < length; i++)
        {
            int d = Unsafe.Add(ref a, i) - Unsafe.Add(ref b, i);
            sum += d * d;
        }
        return sum;
    }
}

/// <summary>AVX2: 16 bytes per step widened to 16 bits and multiplied pairwise into 32-bit sums.</summary>
public readonly struct Avx2Dot : IInt8Kernel
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Dot(ref byte codes, ref sbyte query, int length)
    {
        var acc0 = Vector256<int>.Zero;
        var acc1 = Vector256<int>.Zero;
        nuint i = 0, n = (nuint)length;
        for (; i + 32 <= n; i += 32)
        {
            acc0 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref codes, i)), Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref query, i)));
            acc1 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref codes, i + 16)), Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref query, i + 16)));
        }
        for (; i + 16 <= n; i += 16)
        {
            acc0 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref codes, i)), Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref query, i)));
        }
        int sum = Vector256.Sum(acc0 + acc1);
        for (; i < n; i++)
        {
            sum += Unsafe.Add(ref codes, i) * Unsafe.Add(ref query, i);
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int SquaredL2(ref byte a, ref byte b, int length)
    {
        var acc = Vector256<int>.Zero;
        nuint i = 0, n = (nuint)length;
        for (; i + 16 <= n; i += 16)
        {
            var d = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref a, i)) - Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref b, i));
            acc += Avx2.MultiplyAddAdjacent(d, d);
        }
        int sum = Vector256.Sum(acc);
        for (; i < n; i++)
        {
            int d = Unsafe.Add(ref a, i) - Unsafe.Add(ref b, i);
            sum += d * d;
        }
        return sum;
    }
}

/// <summary>AVX-512BW: 32 bytes per step widened to 16 bits, <c>vpmaddwd</c> on 512-bit registers.</summary>
public readonly struct Avx512Dot : IInt8Kernel
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Dot(ref byte codes, ref sbyte query, int length)
    {
        var acc0 = Vector512<int>.Zero;
        var acc1 = Vector512<int>.Zero;
        nuint i = 0, n = (nuint)length;
        for (; i + 64 <= n; i += 64)
        {
            acc0 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref codes, i)), Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref query, i)));
            acc1 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref codes, i + 32)), Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref query, i + 32)));
        }
        for (; i + 32 <= n; i += 32)
        {
            acc0 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref codes, i)), Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref query, i)));
        }
        int sum = Vector512.Sum(acc0 + acc1);
        for (; i < n; i++)
        {
            sum += Unsafe.Add(ref codes, i) * Unsafe.Add(ref query, i);
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int SquaredL2(ref byte a, ref byte b, int length)
    {
        var acc = Vector512<int>.Zero;
        nuint i = 0, n = (nuint)length;
        for (; i + 32 <= n; i += 32)
        {
            var d = Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref a, i)) - Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref b, i));
            acc += Avx512BW.MultiplyAddAdjacent(d, d);
        }
        int sum = Vector512.Sum(acc);
        for (; i < n; i++)
        {
            int d = Unsafe.Add(ref a, i) - Unsafe.Add(ref b, i);
            sum += d * d;
        }
        return sum;
    }
}

/// <summary>AVX-VNNI: <c>vpdpbusd</c> multiplies 32 unsigned by 32 signed bytes and adds into 8 ints in one instruction.</summary>
public readonly struct VnniDot : IInt8Kernel
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Dot(ref byte codes, ref sbyte query, int length)
    {
        var acc0 = Vector256<int>.Zero;
        var acc1 = Vector256<int>.Zero;
        nuint i = 0, n = (nuint)length;
        for (; i + 64 <= n; i += 64)
        {
            acc0 = AvxVnni.MultiplyWideningAndAdd(acc0, Vector256.LoadUnsafe(ref codes, i), Vector256.LoadUnsafe(ref query, i));
            acc1 = AvxVnni.MultiplyWideningAndAdd(acc1, Vector256.LoadUnsafe(ref codes, i + 32), Vector256.LoadUnsafe(ref query, i + 32));
        }
        for (; i + 32 <= n; i += 32)
        {
            acc0 = AvxVnni.MultiplyWideningAndAdd(acc0, Vector256.LoadUnsafe(ref codes, i), Vector256.LoadUnsafe(ref query, i));
        }
        int sum = Vector256.Sum(acc0 + acc1);
        for (; i < n; i++)
        {
            sum += Unsafe.Add(ref codes, i) * Unsafe.Add(ref query, i);
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int SquaredL2(ref byte a, ref byte b, int length)
    {
        var acc = Vector256<int>.Zero;
        nuint i = 0, n = (nuint)length;
        for (; i + 16 <= n; i += 16)
        {
            var d = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref a, i)) - Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref b, i));
            acc = AvxVnni.MultiplyWideningAndAdd(acc, d, d);
        }
        int sum = Vector256.Sum(acc);
        for (; i < n; i++)
        {
            int d = Unsafe.Add(ref a, i) - Unsafe.Add(ref b, i);
            sum += d * d;
        }
        return sum;
    }
}
