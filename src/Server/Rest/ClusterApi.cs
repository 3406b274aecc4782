using VectorStoreDb.Cluster;
using VectorStoreDb.Engine;
using VectorStoreDb.Server.Operations;

namespace VectorStoreDb.Server.Rest;

/// <summary><c>GET /cluster</c>: nodes, their health, and every shard's replicas with their log positions.</summary>
public static class ClusterApi
{
    public static IEndpointRouteBuilder MapClusterApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/cluster", async (IServiceProvider services, CancellationToken cancellationToken) =>
            {
                var coordinator = services.GetService<ClusterCoordinator>()
                    ?? throw new VectorStoreException(ErrorCode.FailedPrecondition, "This server is not in cluster mode (set VectorStore:Cluster:Enabled).");
                return TypedResults.Ok(await coordinator.GetStatusAsync(cancellationToken));
            })
            .WithTags("Cluster").RequireReadKey()
            .WithSummary("Cluster mode: the nodes as Orleans membership sees them, and each shard's replicas (node, applied sequence, first sequence its log still holds, serving).");
        return app;
    }
}
