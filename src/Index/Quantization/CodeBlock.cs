using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace VectorStoreDb.Index.Quantization;

/// <summary>
/// Fixed-size codes addressed by label, in chunks of <see cref="VectorBlock.ChunkSize"/> codes stored back to
/// back so a scan walks memory sequentially. Growing adds chunks and never moves a code. Writers are
/// serialised by the owner.
/// </summary>
/// <remarks>
/// Chunks are pinned arrays whose codes start on a 64-byte boundary (<see cref="Bases"/>): a 128-byte code then
/// spans two cache lines instead of three, which is what a graph walk pays per visited node. Only the chunks
/// that hold labels are allocated; the table of them grows by doubling.
/// </remarks>
internal sealed unsafe class CodeBlock(int bytesPerCode)
{
    private const int Alignment = 64;

    private byte[]?[] _chunks = []; // keeps the pinned arrays alive; null past the allocated ones
    private nint[] _bases = [];
    private int _allocated;

    public int BytesPerCode { get; } = bytesPerCode;

    /// <summary>Labels below this have storage.</summary>
    public int Capacity => Volatile.Read(ref _allocated) * VectorBlock.ChunkSize;

    public long MemoryBytes => (long)Volatile.Read(ref _allocated) * VectorBlock.ChunkSize * BytesPerCode;

    /// <summary>
    /// The 64-byte-aligned address of each chunk's first code, at this moment (chunks never move: they are pinned
    /// and kept alive by this block; entries at and past the allocated count are 0).
    /// </summary>
    public nint[] Bases => Volatile.Read(ref _bases);

    public Span<byte> Get(int label)
    {
        EnsureCapacity(label);
        return new Span<byte>((byte*)_bases[label >> VectorBlock.ChunkShift] + (nint)(label & (VectorBlock.ChunkSize - 1)) * BytesPerCode, BytesPerCode);
    }

    private void EnsureCapacity(int label)
    {
        int needed = (label >> VectorBlock.ChunkShift) + 1;
        if (needed <= _allocated)
        {
            return;
        }
        var chunks = _chunks;
        var bases = _bases;
        if (needed > chunks.Length)
        {
            int length = Math.Max(needed, chunks.Length * 2);
            chunks = new byte[]?[length];
            bases = new nint[length];
            _chunks.CopyTo(chunks, 0);
            _bases.CopyTo(bases, 0);
        }
        for (int c = _allocated; c < needed; c++)
        {
            var chunk = GC.AllocateArray<byte>(VectorBlock.ChunkSize * BytesPerCode + Alignment - 1, pinned: true);
            nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(chunk));
            chunks[c] = chunk;
            bases[c] = (start + Alignment - 1) & ~(nint)(Alignment - 1);
        }
        _chunks = chunks;
        Volatile.Write(ref _bases, bases); // a reader that sees a chunk's base finds it filled in
        Volatile.Write(ref _allocated, needed);
    }
}
