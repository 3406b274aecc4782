using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Net.Client;
using V1 = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.ClusterTests;

/// <summary>
/// Three real server processes on 127.0.0.1 with Redis membership. A writer streams documents while one node is
/// killed with SIGKILL and later restarted; afterwards every acknowledged id is on every replica, and every query
/// during the outage got a full answer or a clear 503. <c>VECTORSTORE_CLUSTER_SOAK=1</c> makes it run longer.
/// </summary>
public sealed class MultiProcessTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "vs-mp-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };
    private readonly List<IDisposable> _owned = [];

    private static bool Soak => Environment.GetEnvironmentVariable("VECTORSTORE_CLUSTER_SOAK") == "1";

    [RedisFact]
    public async Task Kill_minus_9_during_writes_loses_no_acknowledged_write()
    {
        var redis = await RedisServer.StartAsync(Path.Combine(_root, "redis"));
        _owned.Add(redis);
        string serviceId = "vs" + Guid.NewGuid().ToString("N")[..8];
        var nodes = Enumerable.Range(1, 3)
            .Select(i => new ServerNode($"node{i}", Path.Combine(_root, $"node{i}"), redis.Membership, serviceId))
            .ToArray();
        _owned.AddRange(nodes);
        foreach (var node in nodes)
        {
            node.Start();
        }
        await Task.WhenAll(nodes.Select(n => n.WaitReadyAsync(_http, TimeSpan.FromSeconds(90))));
        await WaitAsync(async () => (await Status(nodes[0])).GetProperty("nodes").EnumerateArray().Count(n => n.GetProperty("status").GetString() == "Active") == 3,
            TimeSpan.FromSeconds(60), "three active nodes");

        using (var created = await _http.PutAsJsonAsync(new Uri(nodes[0].BaseAddress, "collections/stream"),
            new { encoder = "none", dimension = Documents.Dimension, index = "exact", shards = 3, replicas = 3 }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var acknowledged = new ConcurrentBag<string>();
        var victim = nodes[2];
        var live = new[] { nodes[0], nodes[1] };
        using var stop = new CancellationTokenSource();
        int refusedWrites = 0, answeredQueries = 0, unavailableQueries = 0;
        var clock = Stopwatch.StartNew();
        // Each batch's outcome and when it ended, for the failure message: a missing id is then placed against the kill.
        var journal = new ConcurrentQueue<string>();
        var writer = Task.Run(async () =>
        {
            var random = new Random(17);
            for (int batch = 0; !stop.IsCancellationRequested; batch++)
            {
                var docs = Enumerable.Range(0, 20).Select(i => new { id = $"b{batch:D5}-{i:D2}", vector = Documents.Vector(random) }).ToArray();
                using var response = await _http.PostAsJsonAsync(new Uri(live[batch % 2].BaseAddress, "collections/stream/documents"), new { documents = docs });
                journal.Enqueue($"{clock.Elapsed.TotalSeconds:F2}s b{batch:D5} via {live[batch % 2].Name}: {(int)response.StatusCode}");
                if (response.IsSuccessStatusCode)
                {
                    foreach (var doc in docs)
                    {
                        acknowledged.Add(doc.id);
                    }
                }
                else
                {
                    Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                    Interlocked.Increment(ref refusedWrites);
                }
            }
        });
        var reader = Task.Run(async () =>
        {
            var random = new Random(3);
            while (!stop.IsCancellationRequested)
            {
                int before = acknowledged.Count;
                using var response = await _http.PostAsJsonAsync(new Uri(nodes[0].BaseAddress, "collections/stream/query"),
                    new { vector = Documents.Vector(random), k = 1000, exact = true });
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    Interlocked.Increment(ref unavailableQueries);
                    continue;
                }
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                var results = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("results").GetArrayLength();
                // A whole answer holds at least every document acknowledged before the query was sent (up to k).
                Assert.True(results >= Math.Min(before, 1000), $"a query answered {results} hits with {before} documents acknowledged");
                Interlocked.Increment(ref answeredQueries);
            }
        });

        await Task.Delay(TimeSpan.FromSeconds(Soak ? 20 : 3));
        journal.Enqueue($"{clock.Elapsed.TotalSeconds:F2}s kill {victim.Name}");
        victim.Kill();
        await Task.Delay(TimeSpan.FromSeconds(Soak ? 40 : 8));
        victim.Start();
        await victim.WaitReadyAsync(_http, TimeSpan.FromSeconds(90));
        await Task.Delay(TimeSpan.FromSeconds(Soak ? 30 : 4));
        await stop.CancelAsync();
        await Task.WhenAll(writer, reader);

        Assert.True(acknowledged.Count > 0, "no write was acknowledged");
        Assert.True(answeredQueries > 0, $"no query was answered ({unavailableQueries} were 503)");
        var expected = acknowledged.Order(StringComparer.Ordinal).ToArray();

        // Each node prefers its own replicas, and with three replicas of every shard each node holds one of each: its
        // listing is its own copy. Every node, the restarted one included, lists exactly the acknowledged ids (an
        // unacknowledged batch may also have landed, so extra ids from refused batches are allowed).
        foreach (var node in nodes)
        {
            var ids = await ListAllAsync(node);
            var missing = expected.Except(ids).ToArray();
            Assert.True(missing.Length == 0,
                $"{node.Name} lists {ids.Count} ids and lacks {missing.Length} acknowledged ones: {string.Join(", ", missing.Take(20))}\n" +
                $"cluster: {await StatusText(nodes[0])}\nwrites:\n{string.Join('\n', journal)}\n{node.Name} said:\n{node.RecentOutput}");
        }
        await WaitAsync(async () =>
        {
            var shards = (await Status(nodes[0])).GetProperty("collections")[0].GetProperty("shardStates").EnumerateArray();
            return shards.All(s => s.GetProperty("replicas").EnumerateArray()
                .Select(r => (r.GetProperty("appliedSequence").GetInt64(), r.GetProperty("documents").GetInt64())).Distinct().Count() == 1);
        }, TimeSpan.FromSeconds(30), "every shard's replicas at the same position with the same documents");

        // gRPC Cluster.Status is the twin of GET /cluster, answered by the restarted node as well.
        using var channel = GrpcChannel.ForAddress(victim.GrpcAddress);
        var status = await new V1.Cluster.ClusterClient(channel).StatusAsync(new V1.ClusterStatusRequest());
        Assert.Equal(victim.Name, status.Node);
        Assert.Equal(3, status.Nodes.Count(n => n.Status == "Active"));
        var collection = Assert.Single(status.Collections);
        Assert.Equal(3, collection.ShardStates.Count);
        Assert.All(collection.ShardStates, s => Assert.Equal(3, s.Replicas.Select(r => r.Node).Distinct().Count()));
    }

    private async Task<HashSet<string>> ListAllAsync(ServerNode node)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        string? after = null;
        do
        {
            string query = after is null ? "?limit=1000" : $"?limit=1000&after={Uri.EscapeDataString(after)}";
            var page = await _http.GetFromJsonAsync<JsonElement>(new Uri(node.BaseAddress, "collections/stream/documents" + query));
            foreach (var doc in page.GetProperty("documents").EnumerateArray())
            {
                ids.Add(doc.GetProperty("id").GetString()!);
            }
            after = page.TryGetProperty("nextAfter", out var next) ? next.GetString() : null;
        }
        while (after is not null);
        return ids;
    }

    private async Task<string> StatusText(ServerNode node)
    {
        try
        {
            return await _http.GetStringAsync(new Uri(node.BaseAddress, "cluster"));
        }
        catch (HttpRequestException ex)
        {
            return ex.Message;
        }
    }

    private async Task<JsonElement> Status(ServerNode node) => await _http.GetFromJsonAsync<JsonElement>(new Uri(node.BaseAddress, "cluster"));

    private static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < timeout, $"Timed out waiting for {what}.");
            await Task.Delay(500);
        }
    }

    public void Dispose()
    {
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }
        _http.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A process still closing a file; the temp folder is cleaned by the OS.
        }
    }
}
