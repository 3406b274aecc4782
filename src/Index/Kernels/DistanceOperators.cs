using System.Runtime.CompilerServices;

namespace VectorStoreDb.Index;

/// <summary>
/// A distance as a static-abstract operator, so generic search loops (<c>where TDistance : struct, IDistance</c>)
/// are specialised by the JIT with the kernel inlined instead of a delegate or switch per comparison.
/// Smaller is always closer.
/// </summary>
public interface IDistance
{
    static abstract float Compute(ref float a, ref float b, int length);
}

/// <summary>Negated inner product: the distance for cosine (on normalised vectors) and dot.</summary>
public readonly struct NegativeDotDistance : IDistance
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Compute(ref float a, ref float b, int length) => -VectorKernels.Dot(ref a, ref b, length);
}

/// <summary>Squared Euclidean distance (the square root is taken only when a score is reported).</summary>
public readonly struct SquaredL2Distance : IDistance
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Compute(ref float a, ref float b, int length) => VectorKernels.SquaredL2(ref a, ref b, length);
}
