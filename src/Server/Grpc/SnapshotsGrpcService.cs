using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using VectorStoreDb.Engine;
using VectorStoreDb.Server.Operations;
using V1 = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.Server.Grpc;

/// <summary>Snapshots over gRPC: the same engine calls as the REST routes under <c>/collections/{name}/snapshots</c>.</summary>
internal sealed class SnapshotsGrpcService(VectorStoreEngine engine) : V1.Snapshots.SnapshotsBase
{
    private const int ChunkBytes = 1 << 20;

    [Authorize(Policy = ApiKeyRoles.Admin)]
    public override async Task<V1.SnapshotInfo> Create(V1.CreateSnapshotRequest request, ServerCallContext context) =>
        ToProto(await engine.CreateSnapshotAsync(request.Collection, request.HasName ? request.Name : null, context.CancellationToken));

    [Authorize(Policy = ApiKeyRoles.Read)]
    public override Task<V1.ListSnapshotsResponse> List(V1.ListSnapshotsRequest request, ServerCallContext context)
    {
        var response = new V1.ListSnapshotsResponse();
        response.Snapshots.Add(engine.ListSnapshots(request.Collection).Select(ToProto));
        return Task.FromResult(response);
    }

    // A read key can read every document anyway, so downloading a snapshot is a read too.
    [Authorize(Policy = ApiKeyRoles.Read)]
    public override async Task Download(V1.DownloadSnapshotRequest request, IServerStreamWriter<V1.SnapshotChunk> responseStream, ServerCallContext context)
    {
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
        engine.DeleteSnapshot(request.Collection, request.Name);
        return Task.FromResult(new V1.DeleteSnapshotResponse());
    }

    [Authorize(Policy = ApiKeyRoles.Admin)]
    public override async Task<V1.CollectionInfo> Restore(V1.RestoreSnapshotRequest request, ServerCallContext context) =>
        (await engine.RestoreSnapshotAsync(request.Collection, request.Name, request.Target, context.CancellationToken)).ToProto();

    private static V1.SnapshotInfo ToProto(Engine.Storage.SnapshotInfo info) => new()
    {
        Collection = info.Collection,
        Name = info.Name,
        SizeBytes = info.SizeBytes,
        CreatedAtUnixMs = info.CreatedAt.ToUnixTimeMilliseconds(),
    };
}
