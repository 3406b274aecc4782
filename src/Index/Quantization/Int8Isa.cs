namespace VectorStoreDb.Index.Quantization;

/// <summary>The instruction-set path of the int8 kernels. Tests force each path the machine has; production uses <see cref="Int8Kernels.Best"/>.</summary>
public enum Int8Isa
{
    /// <summary>Plain C#: the reference and the fallback on any CPU.</summary>
    Scalar,
    /// <summary>AVX2: bytes widened to 16 bits, then <c>vpmaddwd</c> (no saturation).</summary>
    Avx2,
    /// <summary>AVX-512BW: the same at 512 bits.</summary>
    Avx512,
    /// <summary>
    /// AVX-VNNI: <c>vpdpbusd</c> / <c>vpdpwssd</c> (u8×s8 and s16×s16 dot steps in one instruction) on 256-bit
    /// registers. .NET 10 exposes the 512-bit VNNI forms only through AVX10, which AVX-512 CPUs without AVX10
    /// (this machine's Zen 4 among them) do not report, so this is the fastest path they get.
    /// </summary>
    AvxVnni,
}
