using System.Buffers.Binary;
using System.IO.Hashing;

namespace VectorStoreDb.Engine.Storage;

/// <summary>
/// Writes a stream as checksummed frames <c>[u32 length][u32 CRC-32][data]</c> of up to 64 KiB, closed by an
/// end frame <c>[u32 0][u32 CRC-32 of the total][u64 total bytes]</c>. Checkpoints and snapshots use it so a
/// flipped bit is caught with the offset of the damaged block, and a file cut short is told apart from a whole one.
/// </summary>
internal sealed class ChecksummedWriter(Stream inner) : Stream
{
    internal const int FrameBytes = 64 * 1024;
    private readonly byte[] _buffer = new byte[FrameBytes];
    private int _used;
    private long _total;
    private bool _completed;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _total + _used;
    public override long Position { get => Length; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        while (!buffer.IsEmpty)
        {
            int n = Math.Min(buffer.Length, FrameBytes - _used);
            buffer[..n].CopyTo(_buffer.AsSpan(_used));
            _used += n;
            buffer = buffer[n..];
            if (_used == FrameBytes)
            {
                WriteFrame();
            }
        }
    }

    public override void WriteByte(byte value) => Write([value]);

    /// <summary>Writes the pending frame and the end frame. The inner stream stays open (the caller fsyncs it).</summary>
    public void Complete()
    {
        if (_completed)
        {
            return;
        }
        WriteFrame();
        Span<byte> end = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(end[8..], (ulong)_total);
        BinaryPrimitives.WriteUInt32LittleEndian(end[4..], Crc32.HashToUInt32(end[8..]));
        inner.Write(end);
        _completed = true;
    }

    private void WriteFrame()
    {
        if (_used == 0)
        {
            return;
        }
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)_used);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], Crc32.HashToUInt32(_buffer.AsSpan(0, _used)));
        inner.Write(header);
        inner.Write(_buffer, 0, _used);
        _total += _used;
        _used = 0;
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}

/// <summary>
/// Reads what <see cref="ChecksummedWriter"/> wrote, verifying every frame. Damage is reported as an
/// <see cref="InvalidDataException"/> naming the file and the byte offset of the bad frame.
/// </summary>
internal sealed class ChecksummedReader(Stream inner, string fileName) : Stream
{
    private readonly byte[] _buffer = new byte[ChecksummedWriter.FrameBytes];
    private int _length;
    private int _position;
    private long _fileOffset;
    private long _total;
    private bool _ended;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _total - (_length - _position); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_position == _length && !NextFrame())
        {
            return 0;
        }
        int n = Math.Min(buffer.Length, _length - _position);
        _buffer.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    /// <summary>Checks that the content was read to its end and the end frame is intact.</summary>
    public void VerifyEnd()
    {
        if (_position != _length || (!_ended && NextFrame()))
        {
            throw new InvalidDataException($"{fileName}: unexpected data after the content at offset {_fileOffset}.");
        }
    }

    /// <summary>
    /// <see cref="VerifyEnd"/>, and nothing may follow the end frame in the file either (a file written twice, or
    /// with bytes appended, is refused instead of read up to its first end).
    /// </summary>
    public void VerifyEndOfFile()
    {
        VerifyEnd();
        if (!_ended)
        {
            throw new InvalidDataException($"{fileName}: the end frame is missing at offset {_fileOffset}.");
        }
        Span<byte> probe = stackalloc byte[1];
        if (inner.Read(probe) != 0)
        {
            throw new InvalidDataException($"{fileName}: unexpected bytes after the end of the file at offset {_fileOffset}.");
        }
    }

    private bool NextFrame()
    {
        if (_ended)
        {
            return false;
        }
        Span<byte> header = stackalloc byte[8];
        long frameOffset = _fileOffset;
        ReadExactlyOrThrow(header, frameOffset);
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(header);
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
        if (length == 0)
        {
            Span<byte> total = stackalloc byte[8];
            ReadExactlyOrThrow(total, frameOffset);
            if (Crc32.HashToUInt32(total) != crc || BinaryPrimitives.ReadUInt64LittleEndian(total) != (ulong)_total)
            {
                throw new InvalidDataException($"{fileName}: the end frame at offset {frameOffset} is damaged (file is not the one that was written).");
            }
            _ended = true;
            _length = _position = 0;
            return false;
        }
        if (length > ChecksummedWriter.FrameBytes)
        {
            throw new InvalidDataException($"{fileName}: bad frame length {length} at offset {frameOffset}.");
        }
        ReadExactlyOrThrow(_buffer.AsSpan(0, (int)length), frameOffset);
        if (Crc32.HashToUInt32(_buffer.AsSpan(0, (int)length)) != crc)
        {
            throw new InvalidDataException($"{fileName}: checksum mismatch in the block at offset {frameOffset}.");
        }
        _length = (int)length;
        _position = 0;
        _total += length;
        return true;
    }

    private void ReadExactlyOrThrow(Span<byte> destination, long frameOffset)
    {
        int read = inner.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
        _fileOffset += read;
        if (read < destination.Length)
        {
            throw new InvalidDataException($"{fileName}: the file ends inside the block at offset {frameOffset} (it was cut short).");
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
