using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;
using StackExchange.Redis;
using VectorStoreDb.Cluster.Hosting;
using VectorStoreDb.Cluster.Placement;
using VectorStoreDb.Cluster.Replication;
using VectorStoreDb.Cluster.Storage;
using VectorStoreDb.Embedding;
using VectorStoreDb.Engine;

namespace VectorStoreDb.Cluster;

/// <summary>Turns a host into a cluster node: an Orleans silo configured from <see cref="ClusterOptions"/>.</summary>
public static class ClusterHosting
{
    /// <summary>Name of the grain storage that holds the catalog.</summary>
    public const string CatalogStorage = "vectorstore-catalog";

    /// <summary>
    /// Everything a node needs: membership through the configured provider, the catalog's storage, fast failure
    /// detection, and <see cref="AddVectorStoreClusterServices"/>.
    /// </summary>
    public static ISiloBuilder AddVectorStoreCluster(this ISiloBuilder silo, ClusterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        silo.Configure<Orleans.Configuration.ClusterOptions>(o =>
        {
            o.ServiceId = options.ServiceId;
            o.ClusterId = options.ClusterId;
        });
        silo.Configure<SiloOptions>(o => o.SiloName = NodeNameOf(options));
        switch (options.Clustering)
        {
            case ClusteringKind.Localhost:
                silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort,
                    new IPEndPoint(IPAddress.Loopback, options.PrimarySiloPort), options.ServiceId, options.ClusterId);
                string catalogPath = options.CatalogPath ?? Path.Combine(options.DataPath ?? "data", "catalog");
                silo.Services.AddKeyedSingleton<IGrainStorage>(CatalogStorage,
                    (sp, _) => new FileGrainStorage(Path.GetFullPath(catalogPath), sp.GetRequiredService<Serializer>()));
                break;
            case ClusteringKind.Redis:
            case ClusteringKind.Kubernetes:
                string redis = Required(options.ConnectionString, "ConnectionString (host:port of Redis)");
                silo.UseRedisClustering(redis);
                silo.AddRedisGrainStorage(CatalogStorage, o => o.ConfigurationOptions = ConfigurationOptions.Parse(redis));
                if (options.Clustering == ClusteringKind.Kubernetes)
                {
                    silo.UseKubernetesHosting();
                }
                else
                {
                    silo.ConfigureEndpoints(AdvertisedAddress(options), options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: options.AdvertisedAddress is null);
                }
                break;
            case ClusteringKind.AdoNet:
                string sql = Required(options.ConnectionString, "ConnectionString (the database holding the Orleans tables)");
                silo.UseAdoNetClustering(o =>
                {
                    o.Invariant = options.AdoNetInvariant;
                    o.ConnectionString = sql;
                });
                silo.AddAdoNetGrainStorage(CatalogStorage, o =>
                {
                    o.Invariant = options.AdoNetInvariant;
                    o.ConnectionString = sql;
                });
                silo.ConfigureEndpoints(AdvertisedAddress(options), options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: options.AdvertisedAddress is null);
                break;
            default:
                throw new InvalidOperationException($"Unknown clustering '{options.Clustering}'.");
        }
        return silo.AddVectorStoreClusterServices(options);
    }

    /// <summary>
    /// The node's part without membership or catalog storage (a test host brings its own): failure detection
    /// settings, replica placement, the node's store and the coordinator.
    /// </summary>
    public static ISiloBuilder AddVectorStoreClusterServices(this ISiloBuilder silo, ClusterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        silo.Services.TryAddSingleton<IOptions<ClusterOptions>>(Options.Create(options));
        // Defaults take minutes to declare a silo dead; a store wants its replicas to take over in seconds.
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = TimeSpan.FromSeconds(options.ProbeTimeoutSeconds);
            o.NumMissedProbesLimit = options.MissedProbesLimit;
            o.TableRefreshTimeout = TimeSpan.FromSeconds(options.TableRefreshSeconds);
            o.DefunctSiloExpiration = TimeSpan.FromMinutes(options.DefunctSiloExpirationMinutes);
            o.DefunctSiloCleanupPeriod = TimeSpan.FromMinutes(Math.Max(1, options.DefunctSiloExpirationMinutes));
        });
        silo.AddPlacementDirector<NodePinnedPlacement, NodePinnedPlacementDirector>();
        silo.Services.TryAddSingleton(CreateNodeStore);
        silo.Services.TryAddSingleton<LocalReplicas>();
        silo.Services.TryAddSingleton<ClusterCoordinator>();
        silo.Services.AddHostedService<AutoRebalancer>();
        silo.Services.TryAddSingleton<OrphanReplicaCleaner>();
        silo.Services.AddHostedService(sp => sp.GetRequiredService<OrphanReplicaCleaner>());
        return silo;
    }

    /// <summary>The node name replicas are placed by: configured, else the machine name and silo port.</summary>
    public static string NodeNameOf(ClusterOptions options) =>
        options.NodeName ?? Environment.GetEnvironmentVariable("POD_NAME") ?? $"{Environment.MachineName.ToLowerInvariant()}-{options.SiloPort}";

    private static NodeStore CreateNodeStore(IServiceProvider services)
    {
        var cluster = services.GetRequiredService<IOptions<ClusterOptions>>().Value;
        string nodeName = services.GetRequiredService<IOptions<SiloOptions>>().Value.SiloName;
        string root = Path.Combine(Path.GetFullPath(cluster.DataPath ?? Path.Combine("data", "cluster")), nodeName);
        var loggers = services.GetRequiredService<ILoggerFactory>();
        var host = services.GetService<IOptions<VectorStoreOptions>>()?.Value;
        var engine = VectorStoreEngine.Open(Path.Combine(root, "engine"), loggers, services.GetService<EncoderRegistry>(), o =>
        {
            if (host is not null)
            {
                o.Limits = host.Limits;
                o.Durability = host.Durability;
                o.DefaultShards = host.DefaultShards;
            }
        });
        return new NodeStore(nodeName, engine, Path.Combine(root, "replica-logs"));
    }

    private static IPAddress AdvertisedAddress(ClusterOptions options)
    {
        if (options.AdvertisedAddress is { } configured)
        {
            return IPAddress.Parse(configured);
        }
        var candidates = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .Where(a => a.AddressFamily == AddressFamily.InterNetwork);
        return candidates.FirstOrDefault() ?? IPAddress.Loopback;
    }

    private static string Required(string? value, string what) =>
        string.IsNullOrWhiteSpace(value) ? throw new InvalidOperationException($"VectorStore:Cluster:{what} is required for this clustering.") : value;
}
