namespace VectorStoreDb.ClusterTests;

/// <summary>
/// Replica logs of 16 operations (a replica that missed more needs a snapshot) and 1 KiB snapshot chunks, so every
/// snapshot transfer is dozens of messages.
/// </summary>
public sealed class SmallChunkClusterFixture : ClusterFixture
{
    protected override int ReplicaLogOperations => 16;

    protected override int SnapshotChunkBytes => 1024;

    /// <summary>No automatic moves: the tests move replicas themselves.</summary>
    protected override double RebalanceDelaySeconds => 3600;
}
