using Grpc.Core;
using Grpc.Core.Interceptors;
using VectorStoreDb.Engine;

namespace VectorStoreDb.Server.Grpc;

/// <summary>
/// Maps engine refusals to gRPC status codes (the same table as REST's problem details) and puts the
/// offending input's name in the <c>field</c> trailer so clients can show it.
/// </summary>
internal sealed class ErrorInterceptor : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (VectorStoreException e)
        {
            throw ToRpc(e);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (VectorStoreException e)
        {
            throw ToRpc(e);
        }
    }

    internal static RpcException ToRpc(VectorStoreException e)
    {
        var trailers = new global::Grpc.Core.Metadata();
        if (e.Field is not null)
        {
            trailers.Add("field", e.Field);
        }
        if (e.Code == ErrorCode.Busy)
        {
            // Lets clients tell "busy, retry" from "too large", which share RESOURCE_EXHAUSTED.
            trailers.Add("error-code", "busy");
        }
        return new RpcException(new Status(StatusOf(e.Code), e.Message), trailers, e.Message);
    }

    public static StatusCode StatusOf(ErrorCode code) => code switch
    {
        ErrorCode.InvalidArgument => StatusCode.InvalidArgument,
        ErrorCode.NotFound => StatusCode.NotFound,
        ErrorCode.AlreadyExists => StatusCode.AlreadyExists,
        ErrorCode.LimitExceeded => StatusCode.ResourceExhausted,
        ErrorCode.FailedPrecondition => StatusCode.FailedPrecondition,
        ErrorCode.Unavailable => StatusCode.Unavailable,
        ErrorCode.Busy => StatusCode.ResourceExhausted,
        _ => StatusCode.Unknown,
    };
}
