using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using VectorStoreDb.Engine;
using VectorStoreDb.Server.Hosting;
using VectorStoreDb.Server.Operations;
using VectorStoreDb.Wire;
using V1 = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.Server.Grpc;

/// <summary>Snapshots over gRPC: the same engine calls as the REST routes under <c>/collections/{name}/snapshots</c>.</summary>
/// <remarks>In cluster mode every method is refused (<see cref="IDocumentStore.EnsureSnapshotsSupported"/>).</remarks>
internal sealed class SnapshotsGrpcService(VectorStoreEngine engine, IDocumentStore store) : V1.Snapshots.SnapshotsBase
{
    private const int ChunkBytes = 1 << 20;

    private readonly WireApi _api = new(engine);

    [Authorize(Policy = ApiKeyRoles.Admin)]
    public override Task<V1.SnapshotInfo> Create(V1.CreateSnapshotRequest request, ServerCallContext context)
    {
        store.EnsureSnapshotsSupported();
        return _api.CreateSnapshotAsync(request, context.CancellationToken);
    }

    [Authorize(Policy = ApiKeyRoles.Read)]
    public override Task<V1.ListSnapshotsResponse> List(V1.ListSnapshotsRequest request, ServerCallContext context)
    {
        store.EnsureSnapshotsSupported();
        return Task.FromResult(_api.ListSnapshots(request));
    }

    // Streaming a file is transport work; the embedded client reads snapshots from disk instead.
    [Authorize(Policy = ApiKeyRoles.Read)]
    public override async Task Download(V1.DownloadSnapshotRequest request, IServerStreamWriter<V1.SnapshotChunk> responseStream, ServerCallContext context)
    {
        store.EnsureSnapshotsSupported();
        await using var stream = engine.OpenSnapshot(request.Collection, request.Name);
        var buffer = new byte[ChunkBytes];
        int read;
        while ((read = await stream.ReadAsync(buffer, context.CancellationToken)) > 0)
        {
            await responseStream.WriteAsync(new V1.SnapshotChunk { Data = ByteString.CopyFrom(buffer, 0, read) }, context.CancellationToken);
        }
    }

    [Authorize(Policy = ApiKeyRoles.Admin)]
    public override Task<V1.DeleteSnapshotResponse> Delete(V1.DeleteSnapshotRequest request, ServerCallContext context)
    {
        store.EnsureSnapshotsSupported();
        return Task.FromResult(_api.DeleteSnapshot(request));
    }

    [Authorize(Policy = ApiKeyRoles.Admin)]
    public override Task<V1.CollectionInfo> Restore(V1.RestoreSnapshotRequest request, ServerCallContext context)
    {
        store.EnsureSnapshotsSupported();
        return _api.RestoreSnapshotAsync(request, context.CancellationToken);
    }
}
