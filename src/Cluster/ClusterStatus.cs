namespace VectorStoreDb.Cluster;

/// <summary>What <c>GET /cluster</c> and gRPC <c>Cluster.Status</c> report.</summary>
public sealed record ClusterStatus(string Node, IReadOnlyList<ClusterNodeStatus> Nodes, IReadOnlyList<ClusterCollectionStatus> Collections);

/// <summary>A silo as Orleans membership sees it: <c>Active</c>, <c>Joining</c>, <c>ShuttingDown</c>, <c>Dead</c>...</summary>
public sealed record ClusterNodeStatus(string Name, string Address, string Status);

public sealed record ClusterCollectionStatus(string Name, int Shards, int Replicas, string WriteConsistency, IReadOnlyList<ClusterShardStatus> ShardStates);

public sealed record ClusterShardStatus(int Shard, IReadOnlyList<ClusterReplicaStatus> Replicas);

/// <summary>One replica: its node, whether it answered, its applied sequence number, the first it can still serve a peer, and whether it serves reads.</summary>
public sealed record ClusterReplicaStatus(string Node, bool Reachable, long AppliedSequence, long LogFirstSequence, bool Serving, long Documents, string? Error);
