using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;

namespace VectorStoreDb.ClusterTests;

/// <summary>
/// Cluster mode on PostgreSQL (<c>Clustering = AdoNet</c>) with our schema, deploy/postgres: three real server
/// processes on 127.0.0.1 and a throw-away PostgreSQL. The nodes form a cluster through the membership table, serve a
/// collection with two replicas from any node, have a killed node declared dead within seconds while reads go on, and
/// find the catalog again in PostgreSQL after every node has been restarted.
/// </summary>
public sealed class PostgresClusterTests(ITestOutputHelper output) : IDisposable
{
    private const string Database = "vectorstore";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "vs-pg-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };
    private readonly List<IDisposable> _owned = [];

    [PostgresFact]
    public async Task Nodes_cluster_through_PostgreSQL_survive_a_kill_and_find_the_catalog_after_a_full_restart()
    {
        var clock = Stopwatch.StartNew();
        var pg = await PostgresServer.StartAsync(Path.Combine(_root, "pg"));
        _owned.Add(pg);
        var membership = new ClusterMembership("AdoNet", await pg.CreateDatabaseAsync(Database));
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s PostgreSQL up on port {pg.Port}, schema applied");
        string serviceId = "pg" + Guid.NewGuid().ToString("N")[..8];
        var nodes = Enumerable.Range(1, 3)
            .Select(i => new ServerNode($"node{i}", Path.Combine(_root, $"node{i}"), membership, serviceId))
            .ToArray();
        _owned.AddRange(nodes);
        foreach (var node in nodes)
        {
            node.Start();
        }
        await Task.WhenAll(nodes.Select(n => n.WaitReadyAsync(_http, TimeSpan.FromSeconds(90))));
        foreach (var node in nodes)
        {
            await WaitAsync(async () => await ActiveNodes(node) == 3, TimeSpan.FromSeconds(60), $"three active nodes seen by {node.Name}");
        }
        // The membership GET /cluster shows is the table in PostgreSQL.
        Assert.Equal("3", await Sql(pg, $"SELECT count(*) FROM orleans_membership WHERE deployment_id = '{serviceId}' AND status = 3"));
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s three nodes active");

        using (var created = await _http.PutAsJsonAsync(new Uri(nodes[0].BaseAddress, "collections/docs"),
            new { encoder = "none", dimension = Documents.Dimension, index = "exact", shards = 2, replicas = 2 }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        var random = new Random(11);
        var docs = Enumerable.Range(0, 60).Select(i => new { id = $"doc-{i:D3}", vector = Documents.Vector(random) }).ToArray();
        using (var written = await _http.PostAsJsonAsync(new Uri(nodes[0].BaseAddress, "collections/docs/documents"), new { documents = docs }))
        {
            Assert.True(written.IsSuccessStatusCode, await written.Content.ReadAsStringAsync());
        }
        // Written through node1, read and queried through the others.
        await AssertServesAsync(nodes[1], docs[7].id, docs[7].vector, docs.Length);
        await AssertServesAsync(nodes[2], docs[42].id, docs[42].vector, docs.Length);
        Assert.Equal("1", await Sql(pg, $"SELECT count(*) FROM orleans_grain_state WHERE service_id = '{serviceId}' AND payload IS NOT NULL"));
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s collection created, {docs.Length} documents written and read back");

        // SIGKILL node3: the survivors vote it dead in the table; reads go on from the replicas they hold.
        var victim = nodes[2];
        victim.Kill();
        var sinceKill = Stopwatch.StartNew();
        await WaitAsync(async () => await Sql(pg, $"SELECT count(*) FROM orleans_membership WHERE deployment_id = '{serviceId}' AND silo_name = '{victim.Name}' AND status = 6") == "1",
            TimeSpan.FromSeconds(30), $"{victim.Name} declared dead", TimeSpan.FromMilliseconds(200));
        var deadAfter = sinceKill.Elapsed;
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s {victim.Name} declared dead {deadAfter.TotalSeconds:F1}s after SIGKILL");
        Assert.True(deadAfter < TimeSpan.FromSeconds(20), $"{victim.Name} declared dead only after {deadAfter}");
        await AssertServesAsync(nodes[0], docs[13].id, docs[13].vector, docs.Length);
        await AssertServesAsync(nodes[1], docs[50].id, docs[50].vector, docs.Length);
        var status = await Status(nodes[0]);
        Assert.Contains(status.GetProperty("nodes").EnumerateArray(),
            n => n.GetProperty("name").GetString() == victim.Name && n.GetProperty("status").GetString() == "Dead");

        // Every node down (the two survivors shut down cleanly), then all three back over the same data folders: the
        // catalog is read from PostgreSQL, so the collection and its placement are there again.
        nodes[0].Stop();
        nodes[1].Stop();
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s all nodes down");
        Assert.Equal("0", await Sql(pg, $"SELECT count(*) FROM orleans_membership WHERE deployment_id = '{serviceId}' AND status = 3"));
        foreach (var node in nodes)
        {
            node.Start();
        }
        await Task.WhenAll(nodes.Select(n => n.WaitReadyAsync(_http, TimeSpan.FromSeconds(90))));
        await WaitAsync(async () => await ActiveNodes(nodes[2]) == 3, TimeSpan.FromSeconds(60), "three active nodes after the restart");
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s all nodes restarted");
        using (var collection = await _http.GetAsync(new Uri(nodes[2].BaseAddress, "collections/docs")))
        {
            Assert.Equal(HttpStatusCode.OK, collection.StatusCode);
        }
        foreach (var (node, doc) in nodes.Zip([docs[3], docs[29], docs[59]]))
        {
            await AssertServesAsync(node, doc.id, doc.vector, docs.Length);
        }
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s catalog and documents served after the restart");
    }

    /// <summary>The node returns the document by id, finds it first for its own vector, and counts every document.</summary>
    private async Task AssertServesAsync(ServerNode node, string id, float[] vector, int count)
    {
        using (var got = await _http.GetAsync(new Uri(node.BaseAddress, $"collections/docs/documents/{id}")))
        {
            Assert.True(got.StatusCode == HttpStatusCode.OK, $"{node.Name} GET {id}: {(int)got.StatusCode} {await got.Content.ReadAsStringAsync()}");
            Assert.Equal(id, (await got.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString());
        }
        using (var queried = await _http.PostAsJsonAsync(new Uri(node.BaseAddress, "collections/docs/query"), new { vector, k = 3, exact = true }))
        {
            Assert.True(queried.StatusCode == HttpStatusCode.OK, $"{node.Name} query: {(int)queried.StatusCode} {await queried.Content.ReadAsStringAsync()}");
            var results = (await queried.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("results");
            Assert.Equal(id, results[0].GetProperty("id").GetString());
        }
        var counted = await _http.GetFromJsonAsync<JsonElement>(new Uri(node.BaseAddress, "collections/docs/count"));
        Assert.Equal(count, counted.GetProperty("count").GetInt64());
    }

    private static async Task<string> Sql(PostgresServer pg, string query) => await pg.PsqlAsync(Database, "-tAc", query);

    private async Task<int> ActiveNodes(ServerNode node) =>
        (await Status(node)).GetProperty("nodes").EnumerateArray().Count(n => n.GetProperty("status").GetString() == "Active");

    private async Task<JsonElement> Status(ServerNode node) => await _http.GetFromJsonAsync<JsonElement>(new Uri(node.BaseAddress, "cluster"));

    private static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, TimeSpan? poll = null)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < timeout, string.Create(CultureInfo.InvariantCulture, $"Timed out waiting for {what}."));
            await Task.Delay(poll ?? TimeSpan.FromMilliseconds(500));
        }
    }

    public void Dispose()
    {
        // Nodes first, PostgreSQL last: a node shutting down still talks to it.
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            owned.Dispose();
        }
        _http.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A process still closing a file; the temp folder is cleaned by the OS.
        }
    }
}
