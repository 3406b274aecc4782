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
        var nodes = membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active)
            .Select(m => m.Name)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToArray();
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
