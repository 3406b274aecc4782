using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using VectorStoreDb.Cluster;
using VectorStoreDb.Engine;
using VectorStoreDb.Server.Operations;
using V1 = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.Server.Grpc;

/// <summary>gRPC <c>Cluster.Status</c>, the twin of <c>GET /cluster</c>.</summary>
internal sealed class ClusterGrpcService(IServiceProvider services) : V1.Cluster.ClusterBase
{
    [Authorize(Policy = ApiKeyRoles.Read)]
    public override async Task<V1.ClusterStatusResponse> Status(V1.ClusterStatusRequest request, ServerCallContext context)
    {
        var coordinator = services.GetService<ClusterCoordinator>()
            ?? throw new VectorStoreException(ErrorCode.FailedPrecondition, "This server is not in cluster mode (set VectorStore:Cluster:Enabled).");
        var status = await coordinator.GetStatusAsync(context.CancellationToken);
        var response = new V1.ClusterStatusResponse { Node = status.Node };
        response.Nodes.Add(status.Nodes.Select(n => new V1.ClusterNode { Name = n.Name, Address = n.Address, Status = n.Status }));
        foreach (var collection in status.Collections)
        {
            var proto = new V1.ClusterCollection
            {
                Name = collection.Name,
                Shards = collection.Shards,
                Replicas = collection.Replicas,
                WriteConsistency = collection.WriteConsistency,
            };
            foreach (var shard in collection.ShardStates)
            {
                var shardProto = new V1.ClusterShard { Shard = shard.Shard };
                shardProto.Replicas.Add(shard.Replicas.Select(r =>
                {
                    var replica = new V1.ClusterReplica
                    {
                        Node = r.Node,
                        Reachable = r.Reachable,
                        AppliedSequence = r.AppliedSequence,
                        LogFirstSequence = r.LogFirstSequence,
                        Serving = r.Serving,
                        Documents = r.Documents,
                    };
                    if (r.Error is { } error)
                    {
                        replica.Error = error;
                    }
                    return replica;
                }));
                proto.ShardStates.Add(shardProto);
            }
            response.Collections.Add(proto);
        }
        return response;
    }
}
