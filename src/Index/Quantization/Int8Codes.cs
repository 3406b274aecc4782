using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace VectorStoreDb.Index.Quantization;

/// <summary>int8 codes (one byte per dimension) and, for L2, each code's norm term.</summary>
internal sealed class Int8Codes(int dimension, Metric metric) : QuantizedCodes
{
    private readonly CodeBlock _codes = new(dimension);
    private ScalarQuantizer? _quantizer;
    private float[] _norms = [];

    public override long MemoryBytes => _codes.MemoryBytes + NormBytes;

    /// <summary>The L2 norm terms' share of <see cref="MemoryBytes"/>.</summary>
    public long NormBytes => (long)_norms.Length * sizeof(float);

    public override bool IsFitted => _quantizer is not null;

    public ScalarQuantizer? Quantizer => _quantizer;

    /// <summary>The aligned start of each chunk of codes (chunks never move; the table is replaced only while the owner excludes readers).</summary>
    public nint[] Bases => _codes.Bases;

    /// <summary>Per-code L2 terms (see <see cref="ScalarQuantizer.CodeNorm"/>), or null for inner-product metrics.</summary>
    public float[]? Norms => metric == Metric.L2 ? _norms : null;

    public override void EnsureCapacity(int capacity)
    {
        if (capacity <= 0)
        {
            return;
        }
        _codes.Get(capacity - 1);
        if (metric == Metric.L2 && _norms.Length < capacity)
        {
            Array.Resize(ref _norms, capacity);
        }
    }

    public override int Set(int label, ReadOnlySpan<float> vector)
    {
        var quantizer = _quantizer ?? throw new InvalidOperationException("Fit the quantizer before encoding.");
        var code = _codes.Get(label);
        int clamped = quantizer.Encode(vector, code);
        if (metric == Metric.L2)
        {
            if (label >= _norms.Length)
            {
                Array.Resize(ref _norms, Math.Max(label + 1, _norms.Length * 2));
            }
            _norms[label] = quantizer.CodeNorm(code);
        }
        return clamped;
    }

    protected override void Fit(ReadOnlySpan<float> rows, int dimension) => _quantizer = ScalarQuantizer.Fit(rows, dimension);

    public override void Scan(ReadOnlySpan<float> query, ulong[] live, ILabelFilter? filter, int end, ref TopKHeap heap)
    {
        if (_quantizer is null)
        {
            return;
        }
        Span<sbyte> folded = dimension <= 4096 ? stackalloc sbyte[dimension] : new sbyte[dimension];
        _quantizer.PrepareQuery(query, metric, folded, out float factor, out float constant);
        end = Math.Min(end, _codes.Capacity);
        switch (Int8Kernels.Active)
        {
            case Int8Isa.AvxVnni: Scan<VnniDot>(folded, factor, constant, live, filter, end, ref heap); break;
            case Int8Isa.Avx512: Scan<Avx512Dot>(folded, factor, constant, live, filter, end, ref heap); break;
            case Int8Isa.Avx2: Scan<Avx2Dot>(folded, factor, constant, live, filter, end, ref heap); break;
            default: Scan<ScalarDot>(folded, factor, constant, live, filter, end, ref heap); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Scan<TKernel>(scoped ReadOnlySpan<sbyte> folded, float factor, float constant, ulong[] live, ILabelFilter? filter, int end, ref TopKHeap heap)
        where TKernel : struct, IInt8Kernel
    {
        var bases = _codes.Bases;
        float[] norms = _norms;
        bool withNorms = metric == Metric.L2;
        ref sbyte q = ref MemoryMarshal.GetReference(folded);
        float threshold = heap.Threshold;
        for (int first = 0; first < end; first += VectorBlock.ChunkSize)
        {
            ref byte chunk = ref CodeAt(bases[first >> VectorBlock.ChunkShift]);
            int n = Math.Min(VectorBlock.ChunkSize, end - first);
            for (int i = 0; i < n; i++)
            {
                float distance = factor * TKernel.Dot(ref Unsafe.Add(ref chunk, (nint)i * dimension), ref q, dimension) + constant;
                int label = first + i;
                if (withNorms)
                {
                    distance += label < norms.Length ? norms[label] : 0f;
                }
                if (distance < threshold && (live[label >> 6] & (1UL << (label & 63))) != 0 && (filter is null || filter.Allows(label)))
                {
                    heap.Push(label, distance);
                    threshold = heap.Threshold;
                }
            }
        }
    }

    private static unsafe ref byte CodeAt(nint address) => ref *(byte*)address;

    public override void WriteParameters(Stream stream) => (_quantizer ?? throw new InvalidOperationException("Nothing fitted to write.")).Write(stream);

    public override void ReadParameters(Stream stream) => _quantizer = ScalarQuantizer.Read(stream);
}
