using VectorStoreDb.Engine;

namespace VectorStoreDb.Cluster.Replication;

/// <summary>
/// This node's share of the cluster's data: its own engine (each replica is a one-shard local collection in it, with
/// its FASTER log, checkpoints and index on this node's disk) and the folder of replica logs beside it.
/// </summary>
public sealed class NodeStore : IDisposable
{
    public NodeStore(string nodeName, VectorStoreEngine engine, string logPath)
    {
        NodeName = nodeName;
        Engine = engine;
        LogPath = logPath;
        Directory.CreateDirectory(logPath);
    }

    public string NodeName { get; }

    public VectorStoreEngine Engine { get; }

    /// <summary>Folder of the replica logs (one file per replica).</summary>
    public string LogPath { get; }

    public void Dispose() => Engine.Dispose();
}
