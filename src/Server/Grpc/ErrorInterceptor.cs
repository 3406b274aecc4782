using Grpc.Core;
using Grpc.Core.Interceptors;
using VectorStoreDb.Engine;
using VectorStoreDb.Wire;

namespace VectorStoreDb.Server.Grpc;

/// <summary>
/// Turns engine refusals into gRPC errors through <see cref="ErrorTable"/> (the table REST's problem details and
/// the embedded client read too): the status, and the offending input's name in the <c>field</c> trailer.
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
            throw ErrorTable.ToRpcException(e);
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
            throw ErrorTable.ToRpcException(e);
        }
    }
}
