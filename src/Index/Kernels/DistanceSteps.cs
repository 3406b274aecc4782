using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace VectorStoreDb.Index;

/// <summary>
/// One accumulation step of a distance, at every SIMD width, as a static-abstract operator: the block
/// kernels are written once and the JIT specialises them per metric with the step inlined.
/// </summary>
public interface IDistanceStep
{
    static abstract Vector512<float> Step(Vector512<float> query, Vector512<float> vector, Vector512<float> accumulator);

    static abstract Vector256<float> Step(Vector256<float> query, Vector256<float> vector, Vector256<float> accumulator);

    static abstract float Step(float query, float vector, float accumulator);

    /// <summary>Turns the accumulated sum into the internal distance (smaller is closer).</summary>
    static abstract float Finish(float sum);

    /// <summary><see cref="Finish(float)"/> for 16 sums at once.</summary>
    static abstract Vector512<float> Finish(Vector512<float> sums);
}

/// <summary>Accumulates the inner product; the distance is its negation.</summary>
public readonly struct DotStep : IDistanceStep
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Step(Vector512<float> query, Vector512<float> vector, Vector512<float> accumulator) => Vector512.FusedMultiplyAdd(query, vector, accumulator);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Step(Vector256<float> query, Vector256<float> vector, Vector256<float> accumulator) => Vector256.FusedMultiplyAdd(query, vector, accumulator);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Step(float query, float vector, float accumulator) => MathF.FusedMultiplyAdd(query, vector, accumulator);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Finish(float sum) => -sum;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Finish(Vector512<float> sums) => -sums;
}

/// <summary>Accumulates the squared Euclidean distance.</summary>
public readonly struct SquaredL2Step : IDistanceStep
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Step(Vector512<float> query, Vector512<float> vector, Vector512<float> accumulator)
    {
        var d = vector - query;
        return Vector512.FusedMultiplyAdd(d, d, accumulator);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Step(Vector256<float> query, Vector256<float> vector, Vector256<float> accumulator)
    {
        var d = vector - query;
        return Vector256.FusedMultiplyAdd(d, d, accumulator);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Step(float query, float vector, float accumulator)
    {
        float d = vector - query;
        return MathF.FusedMultiplyAdd(d, d, accumulator);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Finish(float sum) => sum;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Finish(Vector512<float> sums) => sums;
}
