using VectorStoreDb.Cluster;
using VectorStoreDb.Engine;

namespace VectorStoreDb.Server.Hosting;

/// <summary>
/// Picks the document store by configuration: without <c>VectorStore:Cluster:Enabled</c> the engine is called
/// directly and Orleans is never started; with it, this process also runs an Orleans silo and the endpoints go
/// through the cluster coordinator.
/// </summary>
internal static class ClusterSetup
{
    public static void AddDocumentStore(WebApplicationBuilder builder)
    {
        var cluster = builder.Configuration.GetSection(ClusterOptions.SectionName).Get<ClusterOptions>();
        if (cluster is not { Enabled: true })
        {
            builder.Services.AddSingleton<IDocumentStore, EngineDocumentStore>();
            return;
        }
        if (builder.Configuration[$"{VectorStoreOptions.SectionName}:{nameof(VectorStoreOptions.RestoreSnapshot)}"] is { Length: > 0 })
        {
            // It would restore into this node's own engine, which the cluster does not serve: refuse to start rather
            // than report a restore that no query will ever see.
            throw new InvalidOperationException(
                $"{VectorStoreOptions.SectionName}:{nameof(VectorStoreOptions.RestoreSnapshot)} is not available in cluster mode: snapshots cover one node's engine, not the cluster's replicas. Remove it, or restore on a single-node server.");
        }
        string dataPath = builder.Configuration[$"{VectorStoreOptions.SectionName}:DataPath"] ?? new VectorStoreOptions().DataPath;
        cluster.DataPath ??= Path.Combine(dataPath, "cluster");
        builder.UseOrleans(silo => silo.AddVectorStoreCluster(cluster));
        // Orleans' placement runs through Polly, which logs every attempt at Information.
        builder.Logging.AddFilter("Polly", LogLevel.Warning);
        builder.Services.AddSingleton<IDocumentStore, ClusterDocumentStore>();
    }
}
