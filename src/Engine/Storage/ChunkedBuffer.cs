namespace VectorStoreDb.Engine.Storage;

/// <summary>
/// An append-only in-memory stream of 1 MiB chunks: holds an index image of any size (no 2 GiB MemoryStream
/// limit, no large contiguous allocation) while a checkpoint copies state out from under the write lock.
/// </summary>
internal sealed class ChunkedBuffer : Stream
{
    private const int ChunkBytes = 1 << 20;
    private readonly List<byte[]> _chunks = [];
    private int _lastUsed = ChunkBytes;
    private long _length;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _length;
    public override long Position { get => _length; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            if (_lastUsed == ChunkBytes)
            {
                _chunks.Add(new byte[ChunkBytes]);
                _lastUsed = 0;
            }
            int n = Math.Min(buffer.Length, ChunkBytes - _lastUsed);
            buffer[..n].CopyTo(_chunks[^1].AsSpan(_lastUsed));
            _lastUsed += n;
            _length += n;
            buffer = buffer[n..];
        }
    }

    public override void WriteByte(byte value) => Write([value]);

    /// <summary>Copies everything written so far to <paramref name="destination"/>.</summary>
    public void WriteTo(Stream destination)
    {
        for (int i = 0; i < _chunks.Count; i++)
        {
            destination.Write(_chunks[i], 0, i == _chunks.Count - 1 ? _lastUsed : ChunkBytes);
        }
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
