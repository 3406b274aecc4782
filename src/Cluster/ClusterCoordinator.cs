using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VectorStoreDb.Cluster.Catalog;
using VectorStoreDb.Cluster.Diagnostics;
using VectorStoreDb.Cluster.Replication;
using VectorStoreDb.Cluster.Wire;
using VectorStoreDb.Engine;
using VectorStoreDb.Engine.Diagnostics;
using VectorStoreDb.Engine.Operations;
using VectorStoreDb.Engine.Text;
using VectorStoreDb.Index;

namespace VectorStoreDb.Cluster;

/// <summary>
/// The cluster as one store: what a node's REST and gRPC endpoints call in cluster mode. Writes go to each shard's
/// sequencer; reads fan out to one serving replica of every shard (this node's own first) and merge. Refusals come
/// back as <see cref="VectorStoreException"/> with the engine's codes; a shard that cannot answer is
/// <see cref="ErrorCode.Unavailable"/>, never a partial result presented as whole.
/// </summary>
public sealed class ClusterCoordinator(
    IGrainFactory grains,
    IClusterMembershipService membership,
    NodeStore node,
    LocalReplicas localReplicas,
    IOptions<ClusterOptions> options,
    ILogger<ClusterCoordinator> logger)
{
    private LiveSet _live = new(-1, []);

    private static readonly TimeSpan CatalogCacheTtl = TimeSpan.FromSeconds(2);
    private readonly ConcurrentDictionary<string, CachedEntry> _catalog = new(StringComparer.Ordinal);

    private ClusterOptions Options => options.Value;

    private TimeSpan Timeout => TimeSpan.FromSeconds(Options.ReplicaTimeoutSeconds);

    private ICatalogGrain Catalog => grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key);

    /// <summary>Creates a collection whose shards have <paramref name="replicas"/> replicas on distinct nodes.</summary>
    public async Task<CollectionInfo> CreateCollectionAsync(CreateCollectionRequest request, int? replicas = null, string? writeConsistency = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        int count = replicas ?? Options.DefaultReplicas;
        if (count < 1 || count > 16)
        {
            throw new VectorStoreException(ErrorCode.InvalidArgument, $"replicas: must be between 1 and 16, was {count}.", "replicas");
        }
        int shards = request.Shards ?? node.Engine.Options.DefaultShards;
        if (shards < 1 || shards > 256)
        {
            throw new VectorStoreException(ErrorCode.InvalidArgument, $"shards: must be between 1 and 256, was {shards}.", "shards");
        }
        string rule = WriteQuorum.Validate(writeConsistency ?? Options.WriteConsistency, count);
        string requestJson = JsonSerializer.Serialize(request, WireMapping.Json);
        var entry = await Call(() => Catalog.CreateAsync(request.Name, requestJson, shards, count, rule), cancellationToken);
        var cached = Cache(entry);
        return new CollectionInfo(cached.Settings, 0);
    }

    public async Task<IReadOnlyList<CollectionInfo>> ListCollectionsAsync(CancellationToken cancellationToken = default)
    {
        var entries = await Call(() => Catalog.ListAsync(), cancellationToken);
        var infos = new List<CollectionInfo>(entries.Length);
        foreach (var entry in entries)
        {
            var cached = Cache(entry);
            infos.Add(new CollectionInfo(cached.Settings, await CountAsync(cached, cancellationToken)));
        }
        return infos;
    }

    public async Task<CollectionInfo> GetCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        var cached = await FindAsync(name, cancellationToken, fresh: true);
        return new CollectionInfo(cached.Settings, await CountAsync(cached, cancellationToken));
    }

    public async Task DeleteCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        await Call(async () =>
        {
            await Catalog.DeleteAsync(name);
            return true;
        }, cancellationToken);
        _catalog.TryRemove(name, out _);
        ClusterTelemetry.Forget(name);
    }

    public async Task<IReadOnlyList<string>> UpsertAsync(string collection, IReadOnlyList<DocumentInput> documents, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documents);
        var cached = await FindAsync(collection, cancellationToken);
        var ids = node.Engine.ValidateUpsert(cached.Settings, documents);
        var perShard = new List<ReplicaDocument>?[cached.Entry.Shards];
        for (int i = 0; i < documents.Count; i++)
        {
            (perShard[ShardOf(ids[i], cached.Entry.Shards)] ??= []).Add(WireMapping.ToWire(documents[i], ids[i]));
        }
        // Refuse before writing anything when a shard cannot meet its consistency rule now, so a batch is not cut in half
        // by a node that is already known to be down.
        var live = LiveNodes();
        for (int s = 0; s < perShard.Length; s++)
        {
            if (perShard[s] is not null)
            {
                int liveReplicas = cached.Entry.Placement[s].Count(live.Contains);
                if (liveReplicas < WriteQuorum.Required(cached.Entry.WriteConsistency, cached.Entry.Replicas, liveReplicas))
                {
                    ClusterTelemetry.RecordWriteUnavailable(node.NodeName, collection, s);
                    throw new VectorStoreException(ErrorCode.Unavailable,
                        $"Shard {s} of collection '{collection}' has {liveReplicas} of {cached.Entry.Replicas} replicas live; writeConsistency '{cached.Entry.WriteConsistency}' cannot be met. Nothing was written.");
                }
            }
        }
        var writes = perShard
            .Select((docs, s) => docs is null ? Task.FromResult<ApplyResult?>(null) : WriteShardAsync(cached, s, [.. docs], null, cancellationToken))
            .ToArray();
        await WhenAllOrFirstError(writes);
        return ids;
    }

    public async Task DeleteDocumentAsync(string collection, string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        var cached = await FindAsync(collection, cancellationToken);
        var result = await WriteShardAsync(cached, ShardOf(id, cached.Entry.Shards), null, id, cancellationToken);
        if (result is { Existed: false })
        {
            throw new VectorStoreException(ErrorCode.NotFound, $"Document '{id}' does not exist in collection '{collection}'.", "id");
        }
    }

    public async Task<Document> GetDocumentAsync(string collection, string id, bool includeVector = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        var cached = await FindAsync(collection, cancellationToken);
        int shard = ShardOf(id, cached.Entry.Shards);
        var found = await ReadShardAsync(cached, shard, r => r.GetAsync(id, includeVector), cancellationToken);
        return found is null
            ? throw new VectorStoreException(ErrorCode.NotFound, $"Document '{id}' does not exist in collection '{collection}'.", "id")
            : WireMapping.ToEngine(found);
    }

    public async Task<long> CountAsync(string collection, CancellationToken cancellationToken = default) =>
        await CountAsync(await FindAsync(collection, cancellationToken), cancellationToken);

    /// <summary>
    /// Runs the query on one replica of every shard in parallel and merges the shards' top k. The filter travels as
    /// its JSON (<see cref="Engine.Filtering.MetadataFilter.Json"/>) and each replica compiles it again. Text and
    /// hybrid queries first sum every shard's BM25 statistics and score with the sums, so a document's score does not
    /// depend on which shard holds it; hybrid fusion runs here over the merged dense and text candidates, exactly as a
    /// single collection fuses its shards' candidates.
    /// </summary>
    public async Task<IReadOnlyList<QueryHit>> QueryAsync(string collection, QueryRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var cached = await FindAsync(collection, cancellationToken);
        node.Engine.ValidateQuery(request);
        return await QueryAsync(cached, request, cancellationToken);
    }

    /// <summary>
    /// Many queries; result i answers query i, and each equals what <see cref="QueryAsync(string, QueryRequest, CancellationToken)"/>
    /// answers for it. Queries that need no collection-wide statistics (dense, and requests the replicas refuse) go to
    /// every shard as one batch, so each replica searches them together as a single node does; text and hybrid
    /// queries run one by one (each needs its own statistics round), in parallel. A refusal names the query
    /// (<c>queries[i].k</c>), the lowest such i when several are refused.
    /// </summary>
    public async Task<IReadOnlyList<IReadOnlyList<QueryHit>>> QueryBatchAsync(string collection, IReadOnlyList<QueryRequest> queries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queries);
        var cached = await FindAsync(collection, cancellationToken);
        node.Engine.ValidateQueryBatch(queries);
        var results = new IReadOnlyList<QueryHit>[queries.Count];
        var modes = queries.Select(q => EffectiveMode(cached.Settings, q)).ToArray();
        var plain = Enumerable.Range(0, queries.Count).Where(i => IsPlain(cached.Settings, queries[i], modes[i])).ToArray();
        var failures = new VectorStoreException?[queries.Count];
        var batch = plain.Length > 0 ? PlainBatchAsync(cached, queries, modes, plain, results, failures, cancellationToken) : Task.CompletedTask;
        var singles = Enumerable.Range(0, queries.Count).Except(plain).Select(async i =>
        {
            try
            {
                results[i] = await QueryAsync(cached, queries[i], cancellationToken);
            }
            catch (VectorStoreException e) when (e.Code != ErrorCode.Unavailable)
            {
                failures[i] = e;
            }
        });
        await Task.WhenAll([batch, .. singles]);
        for (int i = 0; i < failures.Length; i++)
        {
            if (failures[i] is { } failure)
            {
                throw VectorStoreException.InBatch(i, failure);
            }
        }
        return results;
    }

    /// <summary>
    /// The plain queries of a batch as one batch call per shard, merged per query. When a replica refuses the batch
    /// (one query is bad), they run again one by one, so the refusal names the query's index in the whole batch.
    /// </summary>
    private async Task PlainBatchAsync(CachedEntry cached, IReadOnlyList<QueryRequest> queries, string[] modes, int[] plain,
        IReadOnlyList<QueryHit>[] results, VectorStoreException?[] failures, CancellationToken cancellationToken)
    {
        var wire = plain.Select(i => WireMapping.ToWire(queries[i])).ToArray();
        QueryRequest[] requests = [.. plain.Select(i => queries[i])];
        IReadOnlyList<IReadOnlyList<QueryHit>>[] perShard;
        using (ClusterTelemetry.StartFanOut(cached.Entry.Name, "query-batch", cached.Entry.Shards))
        {
            try
            {
                perShard = await Task.WhenAll(Enumerable.Range(0, cached.Entry.Shards)
                    .Select(s => TracedReadShardAsync<IReadOnlyList<IReadOnlyList<QueryHit>>>(cached, s, "query-batch",
                        async r => [.. (await r.QueryBatchAsync(wire)).Select(ToEngine)], cancellationToken, hits => hits.Sum(h => h.Count),
                        local => node.Engine.QueryBatchAsync(local, requests, cancellationToken))));
            }
            catch (VectorStoreException e) when (e.Code != ErrorCode.Unavailable)
            {
                perShard = [];
            }
        }
        if (perShard.Length == 0)
        {
            await Task.WhenAll(plain.Select(async i =>
            {
                try
                {
                    results[i] = await QueryAsync(cached, queries[i], cancellationToken);
                }
                catch (VectorStoreException e) when (e.Code != ErrorCode.Unavailable)
                {
                    failures[i] = e;
                }
            }));
            return;
        }
        for (int j = 0; j < plain.Length; j++)
        {
            int i = plain[j];
            var hits = Merge([.. perShard.Select(shard => shard[j])], queries[i].K, HigherIsBetter(cached.Settings, modes[i]));
            results[i] = RankDenseExplanations(queries[i], modes[i], hits);
        }
    }

    private async Task<IReadOnlyList<QueryHit>> QueryAsync(CachedEntry cached, QueryRequest request, CancellationToken cancellationToken)
    {
        string mode = EffectiveMode(cached.Settings, request);
        using var span = ClusterTelemetry.StartFanOut(cached.Entry.Name, "query", cached.Entry.Shards, mode);
        if (IsPlain(cached.Settings, request, mode))
        {
            // Dense, or a request the replicas refuse with the engine's own message (unknown mode, no text index, no text).
            return RankDenseExplanations(request, mode, await FanOutAsync(cached, request, HigherIsBetter(cached.Settings, mode), cancellationToken));
        }
        // Not plain, so the request has a text (IsPlain checked it).
        string queryText = request.Text!;
        var statistics = await Task.WhenAll(Enumerable.Range(0, cached.Entry.Shards)
            .Select(s => TracedReadShardAsync(cached, s, "statistics", r => r.GetTextStatisticsAsync(queryText), cancellationToken,
                local: local => Task.FromResult(WireMapping.ToWire(node.Engine.GetTextStatistics(local, queryText))))));
        request = request with { TextStatistics = TextStatistics.Sum(statistics.Select(WireMapping.ToEngine)) };
        if (mode == QueryModes.Text)
        {
            var hits = await FanOutAsync(cached, request with { Explain = false }, higherIsBetter: true, cancellationToken);
            return request.Explain ? [.. hits.Select((h, i) => h with { Explanation = new HitExplanation(null, null, i + 1, h.Score) })] : hits;
        }
        int prefetch = HybridFusion.Prefetch(request);
        int maxK = node.Engine.Options.Limits.MaxK;
        if (prefetch > maxK)
        {
            throw new VectorStoreException(ErrorCode.InvalidArgument,
                $"prefetch: in cluster mode each shard returns at most k = {maxK} candidates, so prefetch must be at most {maxK}, was {prefetch}.", "prefetch");
        }
        var candidates = request with { K = prefetch, Explain = false };
        var dense = FanOutAsync(cached, candidates with { Mode = QueryModes.Dense, Ef = request.Ef is { } ef ? Math.Max(ef, prefetch) : null, TextStatistics = null },
            cached.Settings.Metric.HigherIsBetter(), cancellationToken);
        var text = FanOutAsync(cached, candidates with { Mode = QueryModes.Text }, higherIsBetter: true, cancellationToken);
        return HybridFusion.Fuse(request, cached.Settings.Metric.HigherIsBetter(), await dense, await text);
    }

    private async Task<List<QueryHit>> FanOutAsync(CachedEntry cached, QueryRequest request, bool higherIsBetter, CancellationToken cancellationToken)
    {
        var query = WireMapping.ToWire(request);
        var perShard = await Task.WhenAll(Enumerable.Range(0, cached.Entry.Shards)
            .Select(s => TracedReadShardAsync<IReadOnlyList<QueryHit>>(cached, s, "query", async r => ToEngine(await r.QueryAsync(query)), cancellationToken, hits => hits.Count,
                local => node.Engine.QueryAsync(local, request, cancellationToken))));
        long started = Stopwatch.GetTimestamp();
        var merged = Merge(perShard, request.K, higherIsBetter);
        var mergeTime = Stopwatch.GetElapsedTime(started);
        ClusterTelemetry.RecordMerge(cached.Entry.Name, mergeTime);
        logger.LogTrace("Merged {Shards} shards in {Elapsed}", perShard.Length, mergeTime);
        return merged;
    }

    /// <summary>
    /// The documents under <paramref name="ids"/> in request order, ids with no document left out and an id asked for
    /// twice returned twice, as the engine's batch get: each shard is asked once for its ids, in parallel.
    /// </summary>
    public async Task<IReadOnlyList<Document>> GetDocumentsAsync(string collection, IReadOnlyList<string> ids, bool includeVectors = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var cached = await FindAsync(collection, cancellationToken);
        node.Engine.ValidateGetMany(ids);
        var perShard = new HashSet<string>?[cached.Entry.Shards];
        foreach (string id in ids)
        {
            (perShard[ShardOf(id, cached.Entry.Shards)] ??= new HashSet<string>(StringComparer.Ordinal)).Add(id);
        }
        using var span = ClusterTelemetry.StartFanOut(cached.Entry.Name, "get", cached.Entry.Shards);
        var found = await Task.WhenAll(perShard.Select((shardIds, s) => shardIds is null
            ? Task.FromResult(Array.Empty<ShardDocument>())
            : TracedReadShardAsync(cached, s, "get", r => r.GetManyAsync([.. shardIds], includeVectors), cancellationToken, docs => docs.Length)));
        var byId = found.SelectMany(d => d).ToDictionary(d => d.Id, WireMapping.ToEngine, StringComparer.Ordinal);
        return [.. ids.Where(byId.ContainsKey).Select(id => byId[id])];
    }

    /// <summary>
    /// A page of a filtered scroll (id order or by a metadata field), equal to the single-node engine's page on the
    /// same documents: every shard answers the same request (filter, order, limit, cursor) and the engine merges the
    /// pages (<see cref="ScrollMerge"/>), so the cursor is the engine's own and every shard resumes from it.
    /// </summary>
    public async Task<ScrollPage> ScrollAsync(string collection, ScrollRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        VectorStoreEngine.ValidateScroll(request);
        var cached = await FindAsync(collection, cancellationToken);
        var scroll = WireMapping.ToWire(request);
        using var span = ClusterTelemetry.StartFanOut(cached.Entry.Name, "scroll", cached.Entry.Shards);
        var pages = await Task.WhenAll(Enumerable.Range(0, cached.Entry.Shards)
            .Select(s => TracedReadShardAsync(cached, s, "scroll", r => r.ScrollAsync(scroll), cancellationToken, page => page.Documents.Length)));
        return ScrollMerge.Merge(request, [.. pages.Select(WireMapping.ToEngine)]);
    }

    /// <summary>A collection's resolved settings (from the catalog, cached for a moment): no count, so no fan-out.</summary>
    public async Task<CollectionSettings> GetSettingsAsync(string name, CancellationToken cancellationToken = default) =>
        (await FindAsync(name, cancellationToken)).Settings;

    /// <summary>Every collection's resolved settings, without counting documents.</summary>
    public async Task<IReadOnlyList<CollectionSettings>> ListSettingsAsync(CancellationToken cancellationToken = default)
    {
        var entries = await Call(() => Catalog.ListAsync(), cancellationToken);
        return [.. entries.Select(e => Cache(e).Settings)];
    }

    /// <summary>Pages through the collection in ordinal id order across shards, exactly as the single-node engine does.</summary>
    public async Task<DocumentPage> ListDocumentsAsync(string collection, int offset = 0, int limit = 50, string? after = null, bool includeVectors = false, CancellationToken cancellationToken = default)
    {
        if (offset < 0)
        {
            throw new VectorStoreException(ErrorCode.InvalidArgument, "offset: must be 0 or more.", "offset");
        }
        if (limit < 1 || limit > VectorStoreEngine.MaxListLimit)
        {
            throw new VectorStoreException(ErrorCode.InvalidArgument, $"limit: must be between 1 and {VectorStoreEngine.MaxListLimit}.", "limit");
        }
        var cached = await FindAsync(collection, cancellationToken);
        int wanted = (int)Math.Min(int.MaxValue - 1L, (long)offset + limit);
        using var span = ClusterTelemetry.StartFanOut(cached.Entry.Name, "list", cached.Entry.Shards);
        var perShard = await Task.WhenAll(Enumerable.Range(0, cached.Entry.Shards)
            .Select(s => TracedReadShardAsync(cached, s, "list", r => ListShardAsync(r, after, wanted + 1, includeVectors), cancellationToken, docs => docs.Length)));
        long total = await CountAsync(cached, cancellationToken);
        var candidates = perShard.SelectMany(d => d).ToList();
        candidates.Sort(static (a, b) => string.CompareOrdinal(a.Id, b.Id));
        if (candidates.Count <= offset)
        {
            return new DocumentPage([], total, offset, limit, after, NextAfter: null);
        }
        int end = Math.Min(candidates.Count, wanted);
        var page = candidates.Skip(offset).Take(end - offset).Select(WireMapping.ToEngine).ToList();
        string? next = candidates.Count > wanted ? candidates[end - 1].Id : null;
        return new DocumentPage(page, total, offset, limit, after, next);
    }

    /// <summary>
    /// Moves replicas until every active, non-draining node holds an even share (within one) and no draining node
    /// holds any; one move at a time, writes and reads going on. Returns the moves made.
    /// </summary>
    public async Task<IReadOnlyList<ReplicaMove>> RebalanceAsync(CancellationToken cancellationToken = default)
    {
        var plan = await Call(() => Catalog.PlanRebalanceAsync(), cancellationToken);
        var done = new List<ReplicaMove>();
        foreach (var move in plan)
        {
            // A move copies a whole shard: allow it the snapshot's time, not one replica call's.
            if (await Call(() => Catalog.MoveReplicaAsync(move), cancellationToken, Timeout * 12))
            {
                done.Add(move);
            }
        }
        if (done.Count > 0)
        {
            _catalog.Clear();
        }
        return done;
    }

    /// <summary>Marks <paramref name="nodeName"/> as draining and moves every replica off it; it then holds none and can be removed.</summary>
    public async Task<IReadOnlyList<ReplicaMove>> DrainAsync(string nodeName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(nodeName);
        if (!membership.CurrentSnapshot.Members.Values.Any(m => m.Name == nodeName))
        {
            throw new VectorStoreException(ErrorCode.NotFound, $"Node '{nodeName}' is not a member of this cluster.", "id");
        }
        await Call(async () =>
        {
            await Catalog.SetDrainingAsync(nodeName, true);
            return true;
        }, cancellationToken);
        try
        {
            return await RebalanceAsync(cancellationToken);
        }
        catch (VectorStoreException ex) when (ex.Code == ErrorCode.FailedPrecondition)
        {
            // Nothing can take its replicas: the node is not draining after all.
            await Call(async () =>
            {
                await Catalog.SetDrainingAsync(nodeName, false);
                return true;
            }, cancellationToken);
            throw;
        }
    }

    /// <summary>Lets a drained node hold replicas again (the next rebalance gives it its share).</summary>
    public Task UndrainAsync(string nodeName, CancellationToken cancellationToken = default) =>
        Call(async () =>
        {
            await Catalog.SetDrainingAsync(nodeName, false);
            return true;
        }, cancellationToken);

    /// <summary>Nodes, and every shard's replicas with their positions; replicas that do not answer are shown as unreachable.</summary>
    public async Task<ClusterStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        var members = membership.CurrentSnapshot.Members.Values
            .OrderBy(m => m.Name, StringComparer.Ordinal)
            .Select(m => new ClusterNodeStatus(m.Name, m.SiloAddress.ToString(), m.Status.ToString()))
            .ToList();
        var live = LiveNodes();
        var entries = await Call(() => Catalog.ListAsync(), cancellationToken);
        var collections = new List<ClusterCollectionStatus>();
        foreach (var entry in entries)
        {
            var shards = await Task.WhenAll(entry.Placement.Select(async (nodes, shard) =>
            {
                var replicas = await Task.WhenAll(nodes.Select(async n =>
                {
                    if (!live.Contains(n))
                    {
                        return new ClusterReplicaStatus(n, false, 0, 0, false, 0, "node is not active");
                    }
                    try
                    {
                        var state = await grains.GetGrain<IReplicaGrain>(new ShardKey(entry.Name, entry.Incarnation, shard).OnNode(n).ToString())
                            .GetStateAsync().WaitAsync(Timeout, cancellationToken);
                        return new ClusterReplicaStatus(n, true, state.AppliedSequence, state.LogFirstSequence, state.Serving, state.Documents, null);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        return new ClusterReplicaStatus(n, false, 0, 0, false, 0, ex.Message);
                    }
                }));
                return new ClusterShardStatus(shard, replicas);
            }));
            collections.Add(new ClusterCollectionStatus(entry.Name, entry.Shards, entry.Replicas, entry.WriteConsistency, shards));
        }
        return new ClusterStatus(node.NodeName, members, collections);
    }

    /// <summary>The engine's shard function (XxHash32 of the UTF-8 id, modulo the shard count), so a cluster splits ids as a single node does.</summary>
    public static int ShardOf(string id, int shards)
    {
        if (shards == 1)
        {
            return 0;
        }
        int max = Encoding.UTF8.GetMaxByteCount(id.Length);
        Span<byte> utf8 = max <= 1024 ? stackalloc byte[max] : new byte[max];
        int n = Encoding.UTF8.GetBytes(id, utf8);
        return (int)(XxHash32.HashToUInt32(utf8[..n]) % (uint)shards);
    }

    /// <summary>The k best of the shards' hits by score (descending, or ascending for a distance), ties by id.</summary>
    internal static List<QueryHit> Merge(IReadOnlyList<QueryHit>[] perShard, int k, bool higherIsBetter)
    {
        int total = 0;
        foreach (var hits in perShard)
        {
            total += hits.Count;
        }
        var all = new List<QueryHit>(total);
        foreach (var hits in perShard)
        {
            all.AddRange(hits);
        }
        all.Sort(higherIsBetter ? HigherFirst : LowerFirst);
        if (all.Count > k)
        {
            all.RemoveRange(k, all.Count - k);
        }
        return all;
    }

    private static readonly Comparison<QueryHit> HigherFirst = static (a, b) =>
        b.Score.CompareTo(a.Score) is var c and not 0 ? c : string.CompareOrdinal(a.Id, b.Id);

    private static readonly Comparison<QueryHit> LowerFirst = static (a, b) =>
        a.Score.CompareTo(b.Score) is var c and not 0 ? c : string.CompareOrdinal(a.Id, b.Id);

    private static QueryHit[] ToEngine(ShardHit[] hits)
    {
        var converted = new QueryHit[hits.Length];
        for (int i = 0; i < hits.Length; i++)
        {
            converted[i] = WireMapping.ToEngine(hits[i]);
        }
        return converted;
    }

    /// <summary>The mode the engine will run: the request's, else the collection's default, but dense for a vector-only query.</summary>
    private static string EffectiveMode(CollectionSettings settings, QueryRequest request)
    {
        // A collection whose default is text or hybrid still runs a vector-only query in dense mode.
        if (request.Mode is null && string.IsNullOrWhiteSpace(request.Text) && request.Vector is not null)
        {
            return QueryModes.Dense;
        }
        return request.Mode?.Trim().ToLowerInvariant() ?? settings.DefaultMode;
    }

    /// <summary>Queries answered by one fan-out and a merge: all but text and hybrid queries that can use collection-wide statistics.</summary>
    private static bool IsPlain(CollectionSettings settings, QueryRequest request, string mode) =>
        mode is not (QueryModes.Text or QueryModes.Hybrid) || settings.TextIndex is null || string.IsNullOrWhiteSpace(request.Text) || request.Chunks;

    /// <summary>
    /// A dense query's explanation ranks each hit in the answer; every shard ranked its own hits, so the merged list
    /// is ranked again, as the engine ranks its merged shards.
    /// </summary>
    private static List<QueryHit> RankDenseExplanations(QueryRequest request, string mode, List<QueryHit> hits)
    {
        if (request.Explain && mode == QueryModes.Dense)
        {
            for (int i = 0; i < hits.Count; i++)
            {
                hits[i] = hits[i] with { Explanation = new HitExplanation(i + 1, hits[i].Score, null, null) };
            }
        }
        return hits;
    }

    private static bool HigherIsBetter(CollectionSettings settings, string mode) => mode != QueryModes.Dense || settings.Metric.HigherIsBetter();

    private static async Task<ShardDocument[]> ListShardAsync(IReplicaGrain replica, string? after, int wanted, bool includeVectors)
    {
        var collected = new List<ShardDocument>();
        string? cursor = after;
        while (collected.Count < wanted)
        {
            int take = Math.Min(wanted - collected.Count, VectorStoreEngine.MaxListLimit);
            var page = await replica.ListAsync(cursor, take, includeVectors);
            collected.AddRange(page);
            if (page.Length < take)
            {
                break;
            }
            cursor = page[^1].Id;
        }
        return [.. collected];
    }

    private async Task<long> CountAsync(CachedEntry cached, CancellationToken cancellationToken)
    {
        using var span = ClusterTelemetry.StartFanOut(cached.Entry.Name, "count", cached.Entry.Shards);
        var counts = await Task.WhenAll(Enumerable.Range(0, cached.Entry.Shards)
            .Select(s => TracedReadShardAsync(cached, s, "count", r => r.CountAsync(), cancellationToken,
                local: local => Task.FromResult(node.Engine.Count(local)))));
        return counts.Sum();
    }

    private async Task<ApplyResult?> WriteShardAsync(CachedEntry cached, int shard, ReplicaDocument[]? upserts, string? deleteId, CancellationToken cancellationToken)
    {
        var sequencer = grains.GetGrain<IShardGrain>(new ShardKey(cached.Entry.Name, cached.Entry.Incarnation, shard).ToString());
        ApplyResult result;
        try
        {
            result = await Call(() => sequencer.WriteAsync(upserts, deleteId), cancellationToken, Timeout * 3);
        }
        catch (VectorStoreException ex) when (ex.Code == ErrorCode.Unavailable)
        {
            ClusterTelemetry.RecordWriteUnavailable(node.NodeName, cached.Entry.Name, shard);
            throw;
        }
        ClusterTelemetry.RecordAcknowledged(node.NodeName, cached.Entry.Name, shard, result.AppliedSequence);
        if (result.RefusedCode is { } code)
        {
            throw new VectorStoreException((ErrorCode)code, result.RefusedMessage ?? "Refused.", result.RefusedField);
        }
        return result;
    }

    /// <summary>One shard's part of a fan-out, as a child span of the fan-out span (collection, shard, replica node, hits).</summary>
    private async Task<T> TracedReadShardAsync<T>(CachedEntry cached, int shard, string operation, Func<IReplicaGrain, Task<T>> read,
        CancellationToken cancellationToken, Func<T, int>? hits = null, Func<string, Task<T>>? local = null)
    {
        using var span = ClusterTelemetry.StartShard(cached.Entry.Name, shard, operation);
        var answer = await ReadShardAsync(cached, shard, read, cancellationToken, local);
        if (span is not null && hits is not null)
        {
            span.SetTag(VectorStoreTelemetry.Tags.Hits, hits(answer));
        }
        return answer;
    }

    /// <summary>
    /// Asks the replicas of a shard in turn (this node's own first, then the others in random order) until one answers.
    /// A <paramref name="local"/> read (given the replica's engine collection) is used instead of the grain call when
    /// the replica on this node is active and serving (<see cref="LocalReplicas"/>): the same engine call without the
    /// message, the copies and the activation's queue.
    /// </summary>
    private async Task<T> ReadShardAsync<T>(CachedEntry cached, int shard, Func<IReplicaGrain, Task<T>> read, CancellationToken cancellationToken,
        Func<string, Task<T>>? local = null, bool retried = false)
    {
        var live = LiveNodes();
        var nodes = cached.Entry.Placement[shard].Where(live.Contains).ToArray();
        Random.Shared.Shuffle(nodes);
        int self = Array.IndexOf(nodes, node.NodeName);
        if (self > 0)
        {
            (nodes[0], nodes[self]) = (nodes[self], nodes[0]);
        }
        var shardKey = new ShardKey(cached.Entry.Name, cached.Entry.Incarnation, shard);
        var errors = new List<string>();
        foreach (string n in nodes)
        {
            string key = shardKey.OnNode(n).ToString();
            if (local is not null && n == node.NodeName && localReplicas.IsServing(key))
            {
                try
                {
                    long started = Stopwatch.GetTimestamp();
                    var answer = await local(shardKey.LocalCollection);
                    ClusterTelemetry.RecordShardCall(cached.Entry.Name, shard, n, Stopwatch.GetElapsedTime(started), direct: true);
                    return answer;
                }
                catch (VectorStoreException ex) when (ex.Code is ErrorCode.Unavailable || (ex.Code is ErrorCode.NotFound && ex.Field == "name"))
                {
                    // Dropped or moved off this node between the check and the read (or damaged): the grain knows why
                    // and answers for it, catching up or refusing.
                    logger.LogDebug(ex, "Local replica of shard {Shard} of {Collection} could not be read directly", shard, cached.Entry.Name);
                }
            }
            var replica = grains.GetGrain<IReplicaGrain>(key);
            try
            {
                long started = Stopwatch.GetTimestamp();
                var answer = await read(replica).WaitAsync(Timeout, cancellationToken);
                ClusterTelemetry.RecordShardCall(cached.Entry.Name, shard, n, Stopwatch.GetElapsedTime(started));
                return answer;
            }
            catch (ClusterException ex) when (ex.Code is not ErrorCode.Unavailable)
            {
                if (ex.Code == ErrorCode.NotFound && ex.Field == "name")
                {
                    _catalog.TryRemove(cached.Entry.Name, out _);
                }
                throw ex.ToEngineException();
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                logger.LogDebug(ex, "Replica of shard {Shard} of {Collection} on {Node} did not answer", shard, cached.Entry.Name, n);
                errors.Add($"{n}: {ex.Message}");
            }
        }
        if (!retried)
        {
            // The shard may have moved since this node cached the catalog: ask the catalog and try its replicas once.
            var fresh = await FindAsync(cached.Entry.Name, cancellationToken, fresh: true);
            if (fresh.Entry.Incarnation == cached.Entry.Incarnation && fresh.Entry.Version != cached.Entry.Version)
            {
                return await ReadShardAsync(fresh, shard, read, cancellationToken, local, retried: true);
            }
        }
        throw new VectorStoreException(ErrorCode.Unavailable,
            $"Shard {shard} of collection '{cached.Entry.Name}' has no replica that can answer now ({(errors.Count == 0 ? "no replica node is live" : string.Join("; ", errors))}).");
    }

    /// <summary>Names of the active nodes, computed once per membership version (every shard read asks).</summary>
    private HashSet<string> LiveNodes()
    {
        var snapshot = membership.CurrentSnapshot;
        var known = _live;
        if (known.Version == snapshot.Version.Value)
        {
            return known.Nodes;
        }
        var nodes = snapshot.ActiveNodeNames();
        _live = new LiveSet(snapshot.Version.Value, nodes);
        return nodes;
    }

    private async Task<CachedEntry> FindAsync(string name, CancellationToken cancellationToken, bool fresh = false)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!fresh && _catalog.TryGetValue(name, out var cached) && Stopwatch.GetElapsedTime(cached.FetchedAt) < CatalogCacheTtl)
        {
            return cached;
        }
        var entry = await Call(() => Catalog.GetAsync(name), cancellationToken)
            ?? throw new VectorStoreException(ErrorCode.NotFound, $"Collection '{name}' does not exist.", "name");
        return Cache(entry);
    }

    private CachedEntry Cache(CollectionEntry entry)
    {
        var settings = JsonSerializer.Deserialize<CollectionSettings>(entry.SettingsJson, WireMapping.Json)!
            with { Name = entry.Name, Shards = entry.Shards };
        var cached = new CachedEntry(entry, settings, Stopwatch.GetTimestamp());
        _catalog[entry.Name] = cached;
        return cached;
    }

    /// <summary>Calls a grain, turning cluster refusals back into engine refusals and silence into Unavailable.</summary>
    private async Task<T> Call<T>(Func<Task<T>> call, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        try
        {
            return await call().WaitAsync(timeout ?? Timeout, cancellationToken);
        }
        catch (ClusterException ex)
        {
            throw ex.ToEngineException();
        }
        catch (TimeoutException ex)
        {
            throw new VectorStoreException(ErrorCode.Unavailable, $"The cluster did not answer in time: {ex.Message}");
        }
        catch (Exception ex) when (ex is not VectorStoreException and not OperationCanceledException and not ArgumentException)
        {
            throw new VectorStoreException(ErrorCode.Unavailable, $"The cluster could not carry out the request: {ex.Message}");
        }
    }

    private static async Task WhenAllOrFirstError(Task<ApplyResult?>[] writes)
    {
        try
        {
            await Task.WhenAll(writes);
        }
        catch
        {
            var refused = writes.Where(w => w.IsFaulted).Select(w => w.Exception!.InnerException).OfType<VectorStoreException>().FirstOrDefault();
            if (refused is { Code: ErrorCode.Unavailable } && writes.Any(w => w.IsCompletedSuccessfully))
            {
                throw new VectorStoreException(ErrorCode.Unavailable,
                    $"{refused.Message} Other shards of this batch were written; retry the batch (upserts are idempotent).");
            }
            throw refused ?? writes.First(w => w.IsFaulted).Exception!.InnerException!;
        }
    }

    /// <summary>Active node names at one membership version; read-only once made, so readers share it.</summary>
    private sealed record LiveSet(long Version, HashSet<string> Nodes);

    private sealed record CachedEntry(CollectionEntry Entry, CollectionSettings Settings, long FetchedAt);
}
