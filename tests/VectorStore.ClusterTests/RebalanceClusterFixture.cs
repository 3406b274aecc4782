namespace VectorStoreDb.ClusterTests;

/// <summary>A cluster that moves replicas onto a joining node one second after membership settles.</summary>
public sealed class RebalanceClusterFixture : ClusterFixture
{
    protected override double RebalanceDelaySeconds => 1;
}
