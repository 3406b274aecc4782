using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using VectorStoreDb.Cluster;
using VectorStoreDb.Cluster.Wire;
using VectorStoreDb.Server.Operations;
using VectorStoreDb.Wire;
using V1 = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.Server.Grpc;

/// <summary>
/// gRPC <c>Cluster</c>, the twin of the REST <c>/cluster</c> routes: Status (read key), Rebalance, Drain and Undrain
/// (admin key). Outside cluster mode every method is refused as the embedded client refuses it
/// (<see cref="WireApi.NotClustered"/>).
/// </summary>
internal sealed class ClusterGrpcService(IServiceProvider services) : V1.Cluster.ClusterBase
{
    [Authorize(Policy = ApiKeyRoles.Read)]
    public override async Task<V1.ClusterStatusResponse> Status(V1.ClusterStatusRequest request, ServerCallContext context) =>
        ToProto(await Coordinator().GetStatusAsync(context.CancellationToken));

    [Authorize(Policy = ApiKeyRoles.Admin)]
    public override async Task<V1.ReplicaMovesResponse> Rebalance(V1.RebalanceRequest request, ServerCallContext context) =>
        ToProto("", await Coordinator().RebalanceAsync(context.CancellationToken));

    [Authorize(Policy = ApiKeyRoles.Admin)]
    public override async Task<V1.ReplicaMovesResponse> Drain(V1.DrainNodeRequest request, ServerCallContext context) =>
        ToProto(request.Node, await Coordinator().DrainAsync(request.Node, context.CancellationToken));

    [Authorize(Policy = ApiKeyRoles.Admin)]
    public override async Task<V1.UndrainNodeResponse> Undrain(V1.UndrainNodeRequest request, ServerCallContext context)
    {
        await Coordinator().UndrainAsync(request.Node, context.CancellationToken);
        return new V1.UndrainNodeResponse();
    }

    private ClusterCoordinator Coordinator() => services.GetService<ClusterCoordinator>() ?? throw WireApi.NotClustered();

    private static V1.ReplicaMovesResponse ToProto(string node, IEnumerable<ReplicaMove> moves)
    {
        var response = new V1.ReplicaMovesResponse { Node = node };
        response.Moves.Add(moves.Select(m => new V1.ReplicaMove { Collection = m.Collection, Shard = m.Shard, From = m.From, To = m.To }));
        return response;
    }

    private static V1.ClusterStatusResponse ToProto(ClusterStatus status)
    {
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
