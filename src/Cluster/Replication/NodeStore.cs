using VectorStoreDb.Engine;

namespace VectorStoreDb.Cluster.Replication;

/// <summary>
/// This node's share of the cluster's data: its own engine (each replica is a one-shard local collection in it, with
/// its FASTER log, checkpoints and index on this node's disk), the folder of replica logs beside it, and the spool
/// folder where snapshots received from peers are assembled and verified before they replace a replica.
/// </summary>
public sealed class NodeStore : IDisposable
{
    private long _chunksReceived;
    private long _bytesReceived;
    private long _transfersRejected;

    public NodeStore(string nodeName, VectorStoreEngine engine, string logPath, string? spoolPath = null)
    {
        NodeName = nodeName;
        Engine = engine;
        LogPath = logPath;
        Directory.CreateDirectory(logPath);
        SpoolPath = spoolPath ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(logPath))!, "snapshot-spool");
        Directory.CreateDirectory(SpoolPath);
        // A transfer is spooled into a delete-on-close file; only a process that died mid-transfer leaves one behind.
        foreach (string stale in Directory.EnumerateFiles(SpoolPath))
        {
            File.Delete(stale);
        }
    }

    public string NodeName { get; }

    public VectorStoreEngine Engine { get; }

    /// <summary>Folder of the replica logs (one file per replica).</summary>
    public string LogPath { get; }

    /// <summary>Folder of snapshot transfers in progress (each a file deleted when its transfer ends, well or not).</summary>
    public string SpoolPath { get; }

    /// <summary>Snapshot chunks this node received from peers since it started.</summary>
    public long SnapshotChunksReceived => Interlocked.Read(ref _chunksReceived);

    /// <summary>Snapshot bytes this node received from peers since it started (refused transfers included).</summary>
    public long SnapshotBytesReceived => Interlocked.Read(ref _bytesReceived);

    /// <summary>Snapshot transfers this node received and refused (checksum mismatch, truncated, or aborted by the peer).</summary>
    public long SnapshotTransfersRejected => Interlocked.Read(ref _transfersRejected);

    /// <summary>Tests only: sees (and may replace or refuse) every received chunk: (attempt, offset, bytes) → bytes spooled.</summary>
    internal Func<int, long, byte[], byte[]>? ReceivedChunkFault { get; set; }

    /// <summary>Tests only: awaited by a shard's sequencer (shard key, sequence number) before it sends a write to the replicas.</summary>
    internal Func<string, long, Task>? BeforeSequencerWrite { get; set; }

    internal void CountChunk(int bytes)
    {
        Interlocked.Increment(ref _chunksReceived);
        Interlocked.Add(ref _bytesReceived, bytes);
    }

    internal void CountRejected() => Interlocked.Increment(ref _transfersRejected);

    public void Dispose() => Engine.Dispose();
}
