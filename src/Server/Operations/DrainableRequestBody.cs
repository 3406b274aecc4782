using System.Buffers;
using System.IO.Pipelines;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Http.Features;

namespace VectorStoreDb.Server.Operations;

/// <summary>
/// The HTTP/1.1 request body as a stream whose reads stop on cancellation without leaving Kestrel's body reader
/// mid-read. Kestrel's own body stream, cancelled by a token while a read is pending (the request timeout firing
/// during a slow upload), stays in the "reading" state, so its automatic drain after the response fails with
/// "Reading is already in progress" (dotnet/aspnetcore#17840). Here a token cancels the pending read the supported
/// way (<see cref="PipeReader.CancelPendingRead"/>) and the read is closed with <see cref="PipeReader.AdvanceTo(SequencePosition)"/>
/// before the cancellation surfaces, so Kestrel can drain or close the connection cleanly.
/// </summary>
internal sealed class DrainableRequestBody(PipeReader reader) : Stream
{
    /// <summary>Puts the wrapper in front of REST bodies on HTTP/1.x (gRPC and HTTP/2 keep Kestrel's stream).</summary>
    public static void Install(HttpContext context)
    {
        if ((HttpProtocol.IsHttp11(context.Request.Protocol) || HttpProtocol.IsHttp10(context.Request.Protocol))
            && context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true
            && context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>() is null)
        {
            // Taken before Body is replaced: Kestrel's own reader. Kestrel builds BodyReader anew over the new Body.
            context.Request.Body = new DrainableRequestBody(context.Request.BodyReader);
        }
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ReadResult result;
        await using (cancellationToken.Register(static state => ((PipeReader)state!).CancelPendingRead(), reader))
        {
            result = await reader.ReadAsync(CancellationToken.None);
        }
        var buffer = result.Buffer;
        if (result.IsCanceled)
        {
            reader.AdvanceTo(buffer.Start);
            cancellationToken.ThrowIfCancellationRequested();
            // Cancelled by someone else (nobody here does): nothing read yet, the caller may read again.
            return 0;
        }
        int length = (int)Math.Min(buffer.Length, destination.Length);
        buffer.Slice(0, length).CopyTo(destination.Span);
        reader.AdvanceTo(buffer.GetPosition(length));
        return length;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Kestrel forbids synchronous body reads by default; keep that rule.
    public override int Read(byte[] buffer, int offset, int count) =>
        throw new InvalidOperationException("Synchronous reads of the request body are not allowed; read it asynchronously.");

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
