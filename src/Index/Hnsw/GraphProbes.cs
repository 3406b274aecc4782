using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using VectorStoreDb.Index.Quantization;

namespace VectorStoreDb.Index.Hnsw;

/// <summary>
/// Distance from one prepared point (a query, or a node being linked) to graph nodes. The beam search is
/// generic over it, so the JIT specialises the walk once for float vectors and once per int8 kernel path,
/// with the distance inlined either way.
/// </summary>
internal interface IGraphProbe
{
    float Distance(int node);

    void Prefetch(int node);
}

/// <summary>Full float vectors and the metric's float kernel (an unquantized graph, or a quantized one before its first fit).</summary>
internal readonly ref struct FloatProbe<TDistance> : IGraphProbe where TDistance : struct, IDistance
{
    private readonly ref float _query;
    private readonly VectorBlock _vectors;
    private readonly int _dimension;

    public FloatProbe(ref float query, VectorBlock vectors)
    {
        _query = ref query;
        _vectors = vectors;
        _dimension = vectors.Dimension;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Distance(int node) => TDistance.Compute(ref _query, ref _vectors.GetRef(node), _dimension);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch(int node) => _vectors.Prefetch(node);
}

/// <summary>
/// int8 codes against a query folded into signed bytes (<see cref="ScalarQuantizer.PrepareQuery"/>): one
/// integer dot product plus a multiply-add (and the stored norm term for L2) per node, over a quarter of the
/// bytes a float vector has.
/// </summary>
internal readonly ref struct Int8Probe<TKernel> : IGraphProbe where TKernel : struct, IInt8Kernel
{
    private readonly ref sbyte _query;
    private readonly nint[] _bases;
    private readonly float[]? _norms;
    private readonly int _dimension;
    private readonly float _factor;
    private readonly float _constant;

    public Int8Probe(ref sbyte query, Int8Codes codes, int dimension, float factor, float constant)
    {
        _query = ref query;
        _bases = codes.Bases;
        _norms = codes.Norms;
        _dimension = dimension;
        _factor = factor;
        _constant = constant;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe ref byte Code(int node) =>
        ref *((byte*)_bases[node >> VectorBlock.ChunkShift] + (nint)(node & (VectorBlock.ChunkSize - 1)) * _dimension);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Distance(int node)
    {
        float distance = _factor * TKernel.Dot(ref Code(node), ref _query, _dimension) + _constant;
        return _norms is null ? distance : distance + _norms[node];
    }

    /// <summary>
    /// Every cache line of the code (codes start on a line: a 128-byte code is two lines) and
    /// the L2 norm term, which lives in its own array and would otherwise be one more miss per node.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void Prefetch(int node)
    {
        if (Sse.IsSupported)
        {
            byte* code = (byte*)Unsafe.AsPointer(ref Code(node));
            for (int offset = 0; offset < _dimension; offset += 64)
            {
                Sse.Prefetch0(code + offset);
            }
            if (_norms is not null)
            {
                Sse.Prefetch0(Unsafe.AsPointer(ref _norms[node]));
            }
        }
    }
}
