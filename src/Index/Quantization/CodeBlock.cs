namespace VectorStoreDb.Index.Quantization;

/// <summary>
/// Fixed-size codes addressed by label, in chunks of <see cref="VectorBlock.ChunkSize"/> codes stored back to
/// back so a scan walks memory sequentially. Growing adds chunks and never moves a code. Writers are
/// serialised by the owner.
/// </summary>
internal sealed class CodeBlock(int bytesPerCode)
{
    private byte[][] _chunks = [];

    public int BytesPerCode { get; } = bytesPerCode;

    public int Capacity => _chunks.Length * VectorBlock.ChunkSize;

    public long MemoryBytes => (long)_chunks.Length * VectorBlock.ChunkSize * BytesPerCode;

    /// <summary>The chunk table at this moment (chunks never move).</summary>
    public byte[][] Chunks => _chunks;

    public Span<byte> Get(int label)
    {
        EnsureCapacity(label);
        return _chunks[label >> VectorBlock.ChunkShift].AsSpan((label & (VectorBlock.ChunkSize - 1)) * BytesPerCode, BytesPerCode);
    }

    private void EnsureCapacity(int label)
    {
        int needed = (label >> VectorBlock.ChunkShift) + 1;
        if (needed <= _chunks.Length)
        {
            return;
        }
        var grown = new byte[Math.Max(needed, _chunks.Length * 2)][];
        _chunks.CopyTo(grown, 0);
        for (int c = _chunks.Length; c < grown.Length; c++)
        {
            grown[c] = new byte[VectorBlock.ChunkSize * BytesPerCode];
        }
        _chunks = grown;
    }
}
