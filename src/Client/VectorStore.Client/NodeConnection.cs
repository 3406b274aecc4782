using Grpc.Net.Client;
using Proto = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.Client;

/// <summary>One server address the client may call: its channel, the service stubs on it, and when it failed last.</summary>
internal sealed class NodeConnection(string address, GrpcChannel channel, bool ownsChannel) : IDisposable
{
    private long _unreachableUntilTicks;

    /// <summary>As the caller gave it; named in errors.</summary>
    public string Address { get; } = address;

    public Proto.Collections.CollectionsClient Collections { get; } = new(channel);

    public Proto.Documents.DocumentsClient Documents { get; } = new(channel);

    public Proto.Search.SearchClient Search { get; } = new(channel);

    public Proto.Embeddings.EmbeddingsClient Embeddings { get; } = new(channel);

    public Proto.Snapshots.SnapshotsClient Snapshots { get; } = new(channel);

    public Proto.Cluster.ClusterClient Cluster { get; } = new(channel);

    /// <summary>True while a recent failure says this node is probably down; such nodes are tried after the others.</summary>
    public bool SeemsDown => Environment.TickCount64 < Interlocked.Read(ref _unreachableUntilTicks);

    public void MarkDown(TimeSpan cooldown) => Interlocked.Exchange(ref _unreachableUntilTicks, Environment.TickCount64 + (long)cooldown.TotalMilliseconds);

    public void MarkUp() => Interlocked.Exchange(ref _unreachableUntilTicks, 0);

    public void Dispose()
    {
        if (ownsChannel)
        {
            channel.Dispose();
        }
    }
}
