namespace VectorStoreDb.ClusterTests;

/// <summary>A cluster whose replica logs keep only 16 operations, so a replica that missed more needs a snapshot.</summary>
public sealed class SmallLogClusterFixture : ClusterFixture
{
    protected override int ReplicaLogOperations => 16;
}
