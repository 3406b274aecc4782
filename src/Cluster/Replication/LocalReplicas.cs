using System.Collections.Concurrent;

namespace VectorStoreDb.Cluster.Replication;

/// <summary>
/// The replicas active on this silo and whether each serves reads right now. This node's coordinator reads a serving
/// local replica straight from the engine instead of through a grain call: the grain call would only copy the query
/// and the hits and queue the read on the activation, and the answer is the same engine call either way. A replica
/// that is not active here, is catching up or has been retired is not listed as serving, so those reads still go
/// through the grain, which does the catching up or refuses.
/// </summary>
public sealed class LocalReplicas
{
    private readonly ConcurrentDictionary<string, ReplicaReadState> _active = new(StringComparer.Ordinal);

    /// <summary>True when the replica with this key (<see cref="ReplicaKey"/>) is active here and serves reads.</summary>
    public bool IsServing(string replicaKey) => _active.TryGetValue(replicaKey, out var state) && state.Serving && !state.Retired;

    internal void Register(string replicaKey, ReplicaReadState state) => _active[replicaKey] = state;

    internal void Unregister(string replicaKey, ReplicaReadState state) => _active.TryRemove(new KeyValuePair<string, ReplicaReadState>(replicaKey, state));
}

/// <summary>A replica grain's read state, shared with <see cref="LocalReplicas"/>; written by the grain only.</summary>
internal sealed class ReplicaReadState
{
    private volatile bool _serving;
    private volatile bool _retired;

    public bool Serving
    {
        get => _serving;
        set => _serving = value;
    }

    public bool Retired
    {
        get => _retired;
        set => _retired = value;
    }
}
