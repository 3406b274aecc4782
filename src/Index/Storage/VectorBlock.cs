using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace VectorStoreDb.Index;

/// <summary>
/// Vectors in 64-byte-aligned native chunks addressed by label. Growing adds chunks and never moves a
/// vector, so readers may keep scanning while a writer grows the block. Writers must be serialised by the owner.
/// With <c>onDisk</c> the chunks are memory-mapped files (<see cref="MappedVectorFiles"/>) instead of native
/// memory: the same addresses and code paths, but pages the kernel may drop and re-read.
/// </summary>
public sealed unsafe class VectorBlock : IDisposable
{
    /// <summary>log2 of <see cref="ChunkSize"/>.</summary>
    public const int ChunkShift = 12; // 4096 vectors per chunk: large scans stay sequential, growth stays cheap

    /// <summary>Vectors per chunk; the vectors of one chunk are contiguous, row after row.</summary>
    public const int ChunkSize = 1 << ChunkShift;

    private const int ChunkMask = ChunkSize - 1;

    private volatile IntPtr[] _chunks = [];
    private readonly List<MappedChunk>? _mapped;
    private readonly string? _folder;
    private bool _disposed;

    /// <param name="dimension">Floats per vector.</param>
    /// <param name="onDisk">Map the chunks from files instead of allocating native memory.</param>
    /// <param name="folder">Where the chunk files are created; <see cref="MappedVectorFiles.Folder"/> at each growth when null.</param>
    public VectorBlock(int dimension, bool onDisk = false, string? folder = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        Dimension = dimension;
        _mapped = onDisk ? [] : null;
        _folder = folder;
    }

    public int Dimension { get; }

    /// <summary>True when the chunks are memory-mapped files rather than native memory.</summary>
    public bool OnDisk => _mapped is not null;

    /// <summary>Bytes of file-backed chunks (0 in memory): address space, not RAM the process holds.</summary>
    public long MappedBytes => OnDisk ? (long)_chunks.Length * ChunkSize * Dimension * sizeof(float) : 0;

    /// <summary>Labels below this value have storage.</summary>
    public int Capacity => _chunks.Length * ChunkSize;

    /// <summary>Bytes of native memory the chunks hold (0 when they are mapped files: see <see cref="MappedBytes"/>).</summary>
    public long MemoryBytes => OnDisk ? 0 : (long)_chunks.Length * ChunkSize * Dimension * sizeof(float);

    /// <summary>Makes sure <paramref name="label"/> has storage.</summary>
    public void EnsureCapacity(int label)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var chunks = _chunks;
        int needed = (label >> ChunkShift) + 1;
        if (needed <= chunks.Length)
        {
            return;
        }
        var grown = new IntPtr[Math.Max(needed, chunks.Length * 2)];
        chunks.CopyTo(grown, 0);
        nuint bytes = (nuint)ChunkSize * (nuint)Dimension * sizeof(float);
        for (int c = chunks.Length; c < grown.Length; c++)
        {
            if (_mapped is not null)
            {
                var chunk = MappedVectorFiles.Map((long)bytes, _folder ?? MappedVectorFiles.Folder);
                _mapped.Add(chunk);
                grown[c] = chunk.Pointer; // page-aligned, so 64-byte aligned as the kernels assume
                continue;
            }
            grown[c] = (IntPtr)NativeMemory.AlignedAlloc(bytes, 64);
            NativeMemory.Clear((void*)grown[c], bytes);
        }
        _chunks = grown;
    }

    /// <summary>
    /// The first float of chunk <paramref name="chunk"/> in a chunk table read once by a scan (see
    /// <see cref="Chunks"/>), so a loop over many vectors does not re-read the volatile table per vector.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref float ChunkRef(IntPtr[] chunks, int chunk) => ref Unsafe.AsRef<float>((float*)chunks[chunk]);

    /// <summary>The current chunk table. Chunks never move, so a snapshot stays valid while the owner's read lock is held.</summary>
    public IntPtr[] Chunks => _chunks;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref float GetRef(int label)
    {
        float* chunk = (float*)_chunks[label >> ChunkShift];
        return ref Unsafe.AsRef<float>(chunk + (nint)(label & ChunkMask) * Dimension);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<float> Get(int label) => MemoryMarshal.CreateSpan(ref GetRef(label), Dimension);

    public void Set(int label, ReadOnlySpan<float> vector)
    {
        if (vector.Length != Dimension)
        {
            throw new ArgumentException($"Expected a vector of dimension {Dimension}, got {vector.Length}.", nameof(vector));
        }
        EnsureCapacity(label);
        vector.CopyTo(Get(label));
    }

    /// <summary>Hints the CPU to start loading a vector that the caller is about to read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch(int label)
    {
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported)
        {
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(Unsafe.AsPointer(ref GetRef(label)));
        }
    }

    /// <summary>Starts loading every cache line of a vector (chunks are 64-byte aligned, rows are packed).</summary>
    public void PrefetchAll(int label)
    {
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported)
        {
            byte* start = (byte*)Unsafe.AsPointer(ref GetRef(label));
            int bytes = Dimension * sizeof(float);
            for (int offset = 0; offset < bytes; offset += 64)
            {
                System.Runtime.Intrinsics.X86.Sse.Prefetch0(start + offset);
            }
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(start + bytes - 1);
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        if (_mapped is not null)
        {
            foreach (var chunk in _mapped)
            {
                chunk.Dispose();
            }
            _mapped.Clear();
        }
        else
        {
            foreach (var chunk in _chunks)
            {
                NativeMemory.AlignedFree((void*)chunk);
            }
        }
        _chunks = [];
    }
}
