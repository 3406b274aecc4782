using System.Collections.Concurrent;
using System.Reflection;
using VectorStoreDb.Client;

namespace VectorStoreDb.IntegrationTests.VectorData;

/// <summary>
/// Passes every <see cref="IVectorStoreClient"/> call through to a real client and remembers which methods were
/// called with which arguments, so a test can see what the connector asked the store for (a filter pushed down, one
/// batch get instead of one call per key), not only what came back.
/// </summary>
public class CallRecordingClient : DispatchProxy
{
    private IVectorStoreClient _inner = null!;

    public ConcurrentQueue<(string Method, object?[] Arguments)> Calls { get; } = new();

    public static (IVectorStoreClient Client, CallRecordingClient Recorder) Wrap(IVectorStoreClient inner)
    {
        var client = Create<IVectorStoreClient, CallRecordingClient>();
        var recorder = (CallRecordingClient)(object)client;
        recorder._inner = inner;
        return (client, recorder);
    }

    public IReadOnlyList<object?[]> CallsTo(string method) => [.. Calls.Where(c => c.Method == method).Select(c => c.Arguments)];

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        Calls.Enqueue((targetMethod.Name, args ?? []));
        try
        {
            return targetMethod.Invoke(_inner, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }
}
