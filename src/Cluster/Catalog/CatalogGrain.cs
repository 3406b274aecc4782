using System.IO.Hashing;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using VectorStoreDb.Cluster.Replication;
using VectorStoreDb.Cluster.Wire;
using VectorStoreDb.Engine;

namespace VectorStoreDb.Cluster.Catalog;

/// <summary>
/// Keeps the catalog in Orleans grain storage (Redis, ADO.NET, or a file on one machine), so it survives every node
/// restart. Changes are serialized by the grain's turn model; reads interleave.
/// </summary>
internal sealed partial class CatalogGrain(
    [PersistentState("catalog", ClusterHosting.CatalogStorage)] IPersistentState<CatalogState> state,
    IClusterMembershipService membership,
    IGrainFactory grains,
    ILogger<CatalogGrain> logger) : Grain, ICatalogGrain
{
    public async Task<CollectionEntry> CreateAsync(string name, string requestJson, int shards, int replicas, string writeConsistency)
    {
        try
        {
            return await CreateCoreAsync(name, requestJson, shards, replicas, writeConsistency);
        }
        catch (VectorStoreException ex)
        {
            throw ClusterException.From(ex);
        }
    }

    private async Task<CollectionEntry> CreateCoreAsync(string name, string requestJson, int shards, int replicas, string writeConsistency)
    {
        if (!CollectionName().IsMatch(name))
        {
            throw new VectorStoreException(ErrorCode.InvalidArgument, "name: collection names are 1-64 characters of a-z, 0-9, '_' and '-'.", "name");
        }
        if (state.State.Collections.ContainsKey(name))
        {
            throw new VectorStoreException(ErrorCode.AlreadyExists, $"Collection '{name}' already exists.", "name");
        }
        var nodes = PlaceableNodes();
        if (replicas > nodes.Length)
        {
            throw new VectorStoreException(ErrorCode.FailedPrecondition,
                $"replicas: {replicas} replicas need as many live nodes; the cluster has {nodes.Length}.", "replicas");
        }
        string incarnation = Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.Next()));
        var placement = Place(name, nodes, shards, replicas);

        // The first replica validates the request with the engine's own rules; only then do the others follow.
        var first = grains.GetGrain<IReplicaGrain>(new ShardKey(name, incarnation, 0).OnNode(placement[0][0]).ToString());
        string settingsJson = await first.CreateAsync(requestJson);
        var others = new List<IReplicaGrain>();
        for (int s = 0; s < shards; s++)
        {
            foreach (string node in placement[s])
            {
                if (s != 0 || node != placement[0][0])
                {
                    others.Add(grains.GetGrain<IReplicaGrain>(new ShardKey(name, incarnation, s).OnNode(node).ToString()));
                }
            }
        }
        try
        {
            await Task.WhenAll(others.Select(r => r.CreateAsync(requestJson)));
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Creating the replicas of collection {Collection} failed; removing those created", name);
            await Task.WhenAll(others.Append(first).Select(DropQuietly));
            throw new VectorStoreException(ErrorCode.Unavailable, $"Collection '{name}' could not be created on every replica node: {ex.Message}");
        }

        var entry = new CollectionEntry
        {
            Name = name,
            Incarnation = incarnation,
            RequestJson = requestJson,
            SettingsJson = settingsJson,
            Shards = shards,
            Replicas = replicas,
            WriteConsistency = writeConsistency,
            Placement = placement,
            Version = state.State.Version + 1,
        };
        state.State.Collections[name] = entry;
        state.State.Version = entry.Version;
        await state.WriteStateAsync();
        logger.LogInformation("Created cluster collection {Collection}: {Shards} shards × {Replicas} replicas over {Nodes} nodes", name, shards, replicas, nodes.Length);
        return entry;
    }

    public async Task DeleteAsync(string name)
    {
        if (!state.State.Collections.Remove(name, out var entry))
        {
            throw ClusterException.From(new VectorStoreException(ErrorCode.NotFound, $"Collection '{name}' does not exist.", "name"));
        }
        state.State.Version++;
        await state.WriteStateAsync();
        // The catalog no longer names these replicas, so a node that is down now keeps orphaned files until it is cleaned.
        var replicas = entry.Placement.SelectMany((nodes, shard) => nodes.Select(node => new ShardKey(name, entry.Incarnation, shard).OnNode(node)));
        await Task.WhenAll(replicas.Select(key => DropQuietly(grains.GetGrain<IReplicaGrain>(key.ToString()))));
        logger.LogInformation("Deleted cluster collection {Collection}", name);
    }

    public Task<CollectionEntry?> GetAsync(string name) =>
        Task.FromResult(state.State.Collections.GetValueOrDefault(name));

    public Task<CollectionEntry[]> ListAsync() =>
        Task.FromResult(state.State.Collections.Values.OrderBy(c => c.Name, StringComparer.Ordinal).ToArray());

    public Task<ReplicaMove[]> PlanRebalanceAsync()
    {
        try
        {
            return Task.FromResult(Plan(state.State.Collections.Values, PlaceableNodes(), state.State.Draining));
        }
        catch (VectorStoreException ex)
        {
            throw ClusterException.From(ex);
        }
    }

    public async Task<bool> MoveReplicaAsync(ReplicaMove move)
    {
        ArgumentNullException.ThrowIfNull(move);
        if (!state.State.Collections.TryGetValue(move.Collection, out var entry) || move.Shard >= entry.Shards
            || !entry.Placement[move.Shard].Contains(move.From) || entry.Placement[move.Shard].Contains(move.To)
            || !PlaceableNodes().Contains(move.To))
        {
            return false;
        }
        var key = new ShardKey(entry.Name, entry.Incarnation, move.Shard);
        var target = grains.GetGrain<IReplicaGrain>(key.OnNode(move.To).ToString());
        var source = grains.GetGrain<IReplicaGrain>(key.OnNode(move.From).ToString());
        var sequencer = grains.GetGrain<IShardGrain>(key.ToString());

        // 1. The target copies a live replica (snapshot + log) while writes go on to the current replicas.
        await target.JoinAsync();
        // 2. The target joins the writes; the few it missed since the copy it takes from a peer's log on its first
        //    write or read. From here every write needs it too (all live replicas acknowledge).
        entry = await SetPlacementAsync(entry, move.Shard, [.. entry.Placement[move.Shard], move.To]);
        await sequencer.RefreshAsync();
        // 3. The source stops serving reads (coordinators move on to the next replica), then leaves the writes.
        await source.RetireAsync();
        await SetPlacementAsync(entry, move.Shard, [.. entry.Placement[move.Shard].Where(n => n != move.From)]);
        await sequencer.RefreshAsync();
        logger.LogInformation("Moved shard {Shard} of {Collection} from {From} to {To}", move.Shard, move.Collection, move.From, move.To);
        return true;
    }

    public async Task SetDrainingAsync(string node, bool draining)
    {
        if (draining ? state.State.Draining.Add(node) : state.State.Draining.Remove(node))
        {
            state.State.Version++;
            await state.WriteStateAsync();
        }
    }

    public Task<string[]> GetDrainingAsync() => Task.FromResult(state.State.Draining.Order(StringComparer.Ordinal).ToArray());

    private async Task<CollectionEntry> SetPlacementAsync(CollectionEntry entry, int shard, string[] nodes)
    {
        var placement = entry.Placement.ToArray();
        placement[shard] = nodes;
        var updated = entry with { Placement = placement, Version = state.State.Version + 1 };
        state.State.Collections[entry.Name] = updated;
        state.State.Version = updated.Version;
        await state.WriteStateAsync();
        return updated;
    }

    /// <summary>Active nodes that are not draining, sorted: where replicas may be placed.</summary>
    private string[] PlaceableNodes() => [.. membership.CurrentSnapshot.Members.Values
        .Where(m => m.Status == SiloStatus.Active && !state.State.Draining.Contains(m.Name))
        .Select(m => m.Name)
        .Distinct(StringComparer.Ordinal)
        .Order(StringComparer.Ordinal)];

    /// <summary>
    /// Every replica on a draining node goes to the least-loaded placeable node that does not hold its shard; then,
    /// while the most-loaded placeable node holds two replicas more than the least-loaded, one of its shards that
    /// the least-loaded lacks moves there. Replicas on nodes that are down are left where they are (they come back
    /// and catch up; drain a node to move its replicas away for good).
    /// </summary>
    internal static ReplicaMove[] Plan(IEnumerable<CollectionEntry> entries, IReadOnlyList<string> placeable, IReadOnlySet<string> draining)
    {
        var shards = entries.OrderBy(e => e.Name, StringComparer.Ordinal)
            .SelectMany(e => e.Placement.Select((nodes, s) => (e.Name, Shard: s, Nodes: nodes.ToList())))
            .ToList();
        var load = placeable.ToDictionary(n => n, _ => 0, StringComparer.Ordinal);
        foreach (var shard in shards)
        {
            foreach (string n in shard.Nodes.Where(load.ContainsKey))
            {
                load[n]++;
            }
        }
        var moves = new List<ReplicaMove>();
        void Move((string Name, int Shard, List<string> Nodes) shard, string from, string to)
        {
            moves.Add(new ReplicaMove(shard.Name, shard.Shard, from, to));
            shard.Nodes[shard.Nodes.IndexOf(from)] = to;
            if (load.ContainsKey(from))
            {
                load[from]--;
            }
            load[to]++;
        }
        foreach (var shard in shards)
        {
            foreach (string from in shard.Nodes.Where(draining.Contains).ToArray())
            {
                string to = load.Keys.Where(n => !shard.Nodes.Contains(n)).OrderBy(n => load[n]).ThenBy(n => n, StringComparer.Ordinal).FirstOrDefault()
                    ?? throw new VectorStoreException(ErrorCode.FailedPrecondition,
                        $"Shard {shard.Shard} of collection '{shard.Name}' has {shard.Nodes.Count} replicas and no other active node can take the one on '{from}'; add a node first.");
                Move(shard, from, to);
            }
        }
        while (load.Count > 1)
        {
            string most = load.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).First().Key;
            string least = load.OrderBy(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).First().Key;
            if (load[most] - load[least] <= 1)
            {
                break;
            }
            var candidate = shards.FirstOrDefault(s => s.Nodes.Contains(most) && !s.Nodes.Contains(least));
            if (candidate.Nodes is null)
            {
                break;
            }
            Move(candidate, most, least);
        }
        return [.. moves];
    }

    /// <summary>
    /// Shard s gets <paramref name="replicas"/> consecutive nodes of the sorted ring starting at hash(name) + s, so
    /// replicas are distinct and the shards of many collections spread evenly over the nodes.
    /// </summary>
    internal static string[][] Place(string name, IReadOnlyList<string> nodes, int shards, int replicas)
    {
        uint start = XxHash32.HashToUInt32(Encoding.UTF8.GetBytes(name));
        var placement = new string[shards][];
        for (int s = 0; s < shards; s++)
        {
            placement[s] = new string[replicas];
            for (int r = 0; r < replicas; r++)
            {
                placement[s][r] = nodes[(int)((start + (uint)s + (uint)r) % (uint)nodes.Count)];
            }
        }
        return placement;
    }

    private async Task DropQuietly(IReplicaGrain replica)
    {
        try
        {
            await replica.DropAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "A replica could not be dropped now; its node keeps the files");
        }
    }

    [GeneratedRegex("^[a-z0-9_-]{1,64}$")]
    private static partial Regex CollectionName();
}
