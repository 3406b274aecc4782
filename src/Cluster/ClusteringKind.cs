namespace VectorStoreDb.Cluster;

/// <summary>Where the silos find each other (the Orleans membership table).</summary>
public enum ClusteringKind
{
    /// <summary>Orleans development clustering on one machine: the node named by <see cref="ClusterOptions.PrimarySiloPort"/> holds the table. Tests and a one-machine demo only.</summary>
    Localhost,
    /// <summary>A Redis server holds the membership table and the catalog (<see cref="ClusterOptions.ConnectionString"/>).</summary>
    Redis,
    /// <summary>A SQL database (PostgreSQL through Npgsql by default) holds the membership table and the catalog.</summary>
    AdoNet,
    /// <summary>Redis membership plus Orleans' Kubernetes hosting (pod name, namespace and labels from the downward API).</summary>
    Kubernetes,
}
