using System.ComponentModel.DataAnnotations;

namespace VectorStoreDb.Cluster;

/// <summary>
/// The <c>VectorStore:Cluster</c> configuration section. Absent (or <see cref="Enabled"/> false), the server runs
/// single-node with no Orleans at all; set, the node joins a cluster of silos.
/// </summary>
public sealed class ClusterOptions
{
    public const string SectionName = "VectorStore:Cluster";

    public bool Enabled { get; set; }

    public ClusteringKind Clustering { get; set; } = ClusteringKind.Localhost;

    /// <summary>Redis configuration string (<c>host:port</c>) or ADO.NET connection string, by <see cref="Clustering"/>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>ADO.NET provider invariant name; <c>Npgsql</c> for PostgreSQL.</summary>
    public string AdoNetInvariant { get; set; } = "Npgsql";

    /// <summary>
    /// The node's stable name: replicas are placed on names, not addresses, so a restarted node (new address or new
    /// Orleans generation) gets its replicas back. Defaults to the machine name and silo port; Kubernetes uses the pod name.
    /// </summary>
    public string? NodeName { get; set; }

    /// <summary>Port silos talk to each other on.</summary>
    [Range(1, 65535)]
    public int SiloPort { get; set; } = 11111;

    /// <summary>Port Orleans clients connect to (the server co-hosts its client, so nothing else needs it).</summary>
    [Range(1, 65535)]
    public int GatewayPort { get; set; } = 30000;

    /// <summary>With <see cref="ClusteringKind.Localhost"/>: the silo port of the node that holds the membership table.</summary>
    public int PrimarySiloPort { get; set; } = 11111;

    /// <summary>Address other silos reach this one on; defaults to loopback for Localhost clustering, else the first non-loopback address.</summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>Identifies the deployment; storage written by one service id is not read by another.</summary>
    public string ServiceId { get; set; } = "vectorstore";

    /// <summary>Silos with the same cluster id form one cluster.</summary>
    public string ClusterId { get; set; } = "vectorstore";

    /// <summary>Folder for this node's replicas (local engine collections and replica logs); defaults to <c>&lt;DataPath&gt;/cluster</c>.</summary>
    public string? DataPath { get; set; }

    /// <summary>With Localhost clustering: folder holding the catalog, shared by the nodes on the machine; defaults to <c>&lt;DataPath&gt;/catalog</c>.</summary>
    public string? CatalogPath { get; set; }

    /// <summary>Replicas per shard for collections that do not say.</summary>
    [Range(1, 16)]
    public int DefaultReplicas { get; set; } = 2;

    /// <summary><c>majority</c> (default: every live replica and at least a majority), <c>all</c>, or a number of replicas.</summary>
    public string WriteConsistency { get; set; } = "majority";

    /// <summary>Operations each replica keeps in its log for peers to catch up from; a peer further behind gets a snapshot.</summary>
    [Range(16, 10_000_000)]
    public int ReplicaLogOperations { get; set; } = 10_000;

    /// <summary>
    /// Size of one message of a snapshot transfer (catch-up or move): a snapshot travels as many such chunks, not as
    /// one message, so its size is bounded by disk, not by Orleans' message limit or memory.
    /// </summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int SnapshotChunkBytes { get; set; } = 1024 * 1024;

    /// <summary>How long a coordinator waits for one replica or shard before it counts it as unavailable.</summary>
    [Range(1, 600)]
    public int ReplicaTimeoutSeconds { get; set; } = 10;

    /// <summary>Orleans membership: how long one probe of a peer silo may take.</summary>
    [Range(1, 60)]
    public int ProbeTimeoutSeconds { get; set; } = 1;

    /// <summary>Move replicas onto a node that joins (after <see cref="RebalanceDelaySeconds"/> without further membership changes).</summary>
    public bool AutoRebalance { get; set; } = true;

    /// <summary>How long membership must stay unchanged after a node joins before replicas move to it.</summary>
    [Range(0, 3600)]
    public double RebalanceDelaySeconds { get; set; } = 10;

    /// <summary>Orleans membership: missed probes after which a silo votes its peer dead.</summary>
    [Range(1, 10)]
    public int MissedProbesLimit { get; set; } = 2;

    /// <summary>Orleans membership: how often each silo re-reads the membership table.</summary>
    [Range(1, 600)]
    public int TableRefreshSeconds { get; set; } = 2;

    /// <summary>Orleans membership: how long a dead silo's entry stays in the table.</summary>
    [Range(1, 100_000)]
    public int DefunctSiloExpirationMinutes { get; set; } = 10;
}
