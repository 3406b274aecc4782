using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;
using VectorStoreDb.Cluster;
using VectorStoreDb.Cluster.Storage;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace VectorStoreDb.ClusterTests;

/// <summary>
/// A real three-silo Orleans cluster in this process (Orleans' TestingHost): every silo has its own engine over its
/// own folder on disk, and the catalog lives in a shared folder, as on a one-machine cluster.
/// </summary>
public class ClusterFixture : IAsyncLifetime
{
    private static string? s_root;
    private static int s_logOperations;
    private static double s_rebalanceDelay;
    private static int s_chunkBytes;

    /// <summary>Operations each replica log keeps; a small number makes returning replicas catch up from snapshots.</summary>
    protected virtual int ReplicaLogOperations => 10_000;

    /// <summary>How long membership must settle after a node joins before replicas move to it.</summary>
    protected virtual double RebalanceDelaySeconds => 10;

    /// <summary>Bytes per snapshot transfer message; a small number makes every snapshot many chunks.</summary>
    protected virtual int SnapshotChunkBytes => 1024 * 1024;

    public TestCluster Cluster { get; private set; } = null!;

    /// <summary>Silos a test restarted with <see cref="RestartAsync"/>: TestCluster does not list them in <c>Silos</c>.</summary>
    private readonly List<SiloHandle> _restarted = [];

    /// <summary>Every running silo: the cluster's own and those restarted by a test.</summary>
    public IReadOnlyList<SiloHandle> LiveSilos => [.. Cluster.Silos.Concat(_restarted.Where(s => s.IsActive)).DistinctBy(s => s.Name)];

    /// <summary>Starts a stopped silo again under its old name (and data folder); stopped with the fixture.</summary>
    public async Task<SiloHandle> RestartAsync(SiloHandle stopped)
    {
        var silo = await Cluster.StartSiloAsync(stopped.InstanceNumber, Cluster.Options);
        _restarted.Add(silo);
        return silo;
    }

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "vs-cluster-" + Guid.NewGuid().ToString("N")[..8]);

    public ClusterCoordinator Coordinator(int silo = 0) =>
        ((InProcessSiloHandle)Cluster.Silos[silo]).SiloHost.Services.GetRequiredService<ClusterCoordinator>();

    public static T Service<T>(SiloHandle silo) where T : notnull =>
        ((InProcessSiloHandle)silo).SiloHost.Services.GetRequiredService<T>();

    public ClusterCoordinator Coordinator(SiloHandle silo) =>
        ((InProcessSiloHandle)silo).SiloHost.Services.GetRequiredService<ClusterCoordinator>();

    public async Task InitializeAsync()
    {
        s_root = Root;
        s_logOperations = ReplicaLogOperations;
        s_rebalanceDelay = RebalanceDelaySeconds;
        s_chunkBytes = SnapshotChunkBytes;
        var builder = new TestClusterBuilder(3);
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var silo in _restarted.Where(s => s.IsActive))
        {
            await Cluster.StopSiloAsync(silo);
        }
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a stopping silo; the temp folder is cleaned by the OS.
        }
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            string root = s_root!;
            siloBuilder.AddVectorStoreClusterServices(new ClusterOptions
            {
                Enabled = true,
                DataPath = Path.Combine(root, "nodes"),
                DefaultReplicas = 2,
                ReplicaTimeoutSeconds = 30,
                ReplicaLogOperations = s_logOperations,
                RebalanceDelaySeconds = s_rebalanceDelay,
                SnapshotChunkBytes = s_chunkBytes,
            });
            siloBuilder.Services.AddKeyedSingleton<IGrainStorage>(ClusterHosting.CatalogStorage,
                (sp, _) => new FileGrainStorage(Path.Combine(root, "catalog"), sp.GetRequiredService<Serializer>()));
        }
    }
}
