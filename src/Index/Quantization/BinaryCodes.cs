using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace VectorStoreDb.Index.Quantization;

/// <summary>Sign-bit codes, <see cref="BinaryQuantizer.Words"/> ulongs per vector, ranked by Hamming distance.</summary>
internal sealed class BinaryCodes(int dimension) : QuantizedCodes
{
    private readonly int _words = (dimension + 63) / 64;
    private readonly CodeBlock _codes = new((dimension + 63) / 64 * sizeof(ulong));
    private BinaryQuantizer? _quantizer;

    public override long MemoryBytes => _codes.MemoryBytes;

    public override bool IsFitted => _quantizer is not null;

    public override void EnsureCapacity(int capacity)
    {
        if (capacity > 0)
        {
            _codes.Get(capacity - 1);
        }
    }

    public override int Set(int label, ReadOnlySpan<float> vector)
    {
        var quantizer = _quantizer ?? throw new InvalidOperationException("Fit the quantizer before encoding.");
        quantizer.Encode(vector, MemoryMarshal.Cast<byte, ulong>(_codes.Get(label)));
        return 0;
    }

    protected override void Fit(ReadOnlySpan<float> rows, int dimension) => _quantizer = BinaryQuantizer.Fit(rows, dimension);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Scan(ReadOnlySpan<float> query, ulong[] live, ILabelFilter? filter, int end, ref TopKHeap heap)
    {
        if (_quantizer is null)
        {
            return;
        }
        Span<ulong> code = stackalloc ulong[_words];
        _quantizer.Encode(query, code);
        ref ulong q = ref MemoryMarshal.GetReference(code);
        var bases = _codes.Bases;
        end = Math.Min(end, _codes.Capacity);
        float threshold = heap.Threshold;
        for (int first = 0; first < end; first += VectorBlock.ChunkSize)
        {
            ref ulong chunk = ref WordsAt(bases[first >> VectorBlock.ChunkShift]);
            int n = Math.Min(VectorBlock.ChunkSize, end - first);
            for (int i = 0; i < n; i++)
            {
                float distance = BinaryKernels.Hamming(ref Unsafe.Add(ref chunk, (nint)i * _words), ref q, _words);
                int label = first + i;
                if (distance < threshold && (live[label >> 6] & (1UL << (label & 63))) != 0 && (filter is null || filter.Allows(label)))
                {
                    heap.Push(label, distance);
                    threshold = heap.Threshold;
                }
            }
        }
    }

    private static unsafe ref ulong WordsAt(nint address) => ref *(ulong*)address;

    public override void WriteParameters(Stream stream) => (_quantizer ?? throw new InvalidOperationException("Nothing fitted to write.")).Write(stream);

    public override void ReadParameters(Stream stream) => _quantizer = BinaryQuantizer.Read(stream);
}
