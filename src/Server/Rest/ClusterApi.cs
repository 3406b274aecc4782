using VectorStoreDb.Cluster;
using VectorStoreDb.Cluster.Wire;
using VectorStoreDb.Server.Operations;
using VectorStoreDb.Wire;

namespace VectorStoreDb.Server.Rest;

/// <summary>
/// <c>GET /cluster</c>: nodes, their health, and every shard's replicas with their log positions. Rebalancing and
/// draining move replicas between nodes while reads and writes go on.
/// </summary>
public static class ClusterApi
{
    public static IEndpointRouteBuilder MapClusterApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/cluster", async (IServiceProvider services, CancellationToken cancellationToken) =>
            {
                return TypedResults.Ok(await Coordinator(services).GetStatusAsync(cancellationToken));
            })
            .WithTags("Cluster").RequireReadKey().WithName("getClusterStatus").ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithSummary("Cluster mode: the nodes as Orleans membership sees them, and each shard's replicas (node, applied sequence, first sequence its log still holds, serving).");
        app.MapPost("/cluster/rebalance", async (IServiceProvider services, CancellationToken cancellationToken) =>
                TypedResults.Ok(new RebalanceResultDto(await Coordinator(services).RebalanceAsync(cancellationToken))))
            .WithTags("Cluster").RequireAdminKey().WithName("rebalanceCluster").ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithSummary("Cluster mode: move replicas until every active node holds an even share (nodes that join trigger this by themselves).");

        app.MapPost("/cluster/nodes/{id}/drain", async (string id, IServiceProvider services, CancellationToken cancellationToken) =>
                TypedResults.Ok(new DrainResultDto(id, await Coordinator(services).DrainAsync(id, cancellationToken))))
            .WithTags("Cluster").RequireAdminKey().WithName("drainNode").ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithSummary("Cluster mode: move every replica off a node (by its node name) so it can be removed; it takes no new replicas until undrained.");

        app.MapDelete("/cluster/nodes/{id}/drain", async (string id, IServiceProvider services, CancellationToken cancellationToken) =>
            {
                await Coordinator(services).UndrainAsync(id, cancellationToken);
                return TypedResults.NoContent();
            })
            .WithTags("Cluster").RequireAdminKey().WithName("undrainNode").ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithSummary("Cluster mode: let a drained node hold replicas again (the next rebalance gives it its share).");
        return app;
    }

    private static ClusterCoordinator Coordinator(IServiceProvider services) =>
        services.GetService<ClusterCoordinator>() ?? throw WireApi.NotClustered();
}

/// <summary>Answer of <c>POST /cluster/rebalance</c>: the replica moves made.</summary>
public sealed record RebalanceResultDto(IReadOnlyList<ReplicaMove> Moves);

/// <summary>Answer of <c>POST /cluster/nodes/{id}/drain</c>: the node drained and the replica moves made.</summary>
public sealed record DrainResultDto(string Node, IReadOnlyList<ReplicaMove> Moves);
