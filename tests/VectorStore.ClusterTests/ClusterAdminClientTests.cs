using System.Net;
using System.Net.Http.Json;
using VectorStoreDb.Client;

namespace VectorStoreDb.ClusterTests;

/// <summary>
/// Drain, undrain, rebalance and status through the .NET SDK over gRPC, against two real server processes on
/// 127.0.0.1 (Orleans localhost clustering, the catalog in a shared folder): the moves the answers list are the moves
/// made, documents stay where the cluster can read them, and refusals carry their codes.
/// </summary>
public sealed class ClusterAdminClientTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "vs-adm-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };
    private readonly List<IDisposable> _owned = [];

    [Fact]
    public async Task Drain_undrain_and_rebalance_move_replicas_through_the_sdk()
    {
        string serviceId = "adm" + Guid.NewGuid().ToString("N")[..8];
        string catalog = Path.Combine(_root, "catalog");
        // Joins rebalance only by hand here, so every move is one the test asked for.
        var settings = new Dictionary<string, string> { ["VectorStore__Cluster__AutoRebalance"] = "false" };
        var first = new ServerNode("n1", Path.Combine(_root, "n1"), null, serviceId, catalogPath: catalog, settings: settings);
        var second = new ServerNode("n2", Path.Combine(_root, "n2"), null, serviceId, primary: first, catalogPath: catalog, settings: settings);
        _owned.Add(first);
        _owned.Add(second);
        first.Start();
        second.Start();
        await Task.WhenAll(first.WaitReadyAsync(_http, TimeSpan.FromSeconds(90)), second.WaitReadyAsync(_http, TimeSpan.FromSeconds(90)));
        using var client = new VectorStoreGrpcClient([first.GrpcAddress, second.GrpcAddress]);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while ((await client.GetClusterStatusAsync()).Nodes.Count(n => n.Status == "Active") < 2)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "two active nodes");
            await Task.Delay(250);
        }

        using (var created = await _http.PutAsJsonAsync(new Uri(first.BaseAddress, "collections/moving"),
            new { encoder = "none", dimension = Documents.Dimension, index = "exact", shards = 4, replicas = 1 }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        var random = new Random(3);
        await client.UpsertAsync("moving", Enumerable.Range(0, 40).Select(i => new DocumentWrite { Id = $"d{i:D2}", Vector = Documents.Vector(random) }));
        var onSecond = Placement(await client.GetClusterStatusAsync()).Where(p => p.Node == "n2").Select(p => p.Shard).ToArray();
        Assert.NotEmpty(onSecond); // 4 shards over 2 nodes: 2 each

        var drained = await client.DrainNodeAsync("n2");
        Assert.Equal(onSecond.Order(), drained.Select(m => m.Shard).Order());
        Assert.All(drained, m => Assert.Equal(("moving", "n2", "n1"), (m.Collection, m.From, m.To)));
        var afterDrain = Placement(await client.GetClusterStatusAsync());
        Assert.All(afterDrain, p => Assert.Equal("n1", p.Node));
        Assert.Equal(40, afterDrain.Sum(p => p.Documents));
        Assert.Equal(40, await client.CountAsync("moving"));

        // n2 is draining, so n1's replicas have nowhere to go: refused, and n1 is not left draining.
        var refused = await Assert.ThrowsAsync<VectorStoreClientException>(() => client.DrainNodeAsync("n1"));
        Assert.Equal(VectorStoreErrorCode.FailedPrecondition, refused.Code);
        var unknown = await Assert.ThrowsAsync<VectorStoreClientException>(() => client.DrainNodeAsync("n9"));
        Assert.Equal(VectorStoreErrorCode.NotFound, unknown.Code);
        Assert.Empty(await client.RebalanceAsync()); // n2 still draining: nothing to even out

        await client.UndrainNodeAsync("n2");
        var back = await client.RebalanceAsync();
        Assert.Equal(2, back.Count);
        Assert.All(back, m => Assert.Equal(("n1", "n2"), (m.From, m.To)));
        var placement = Placement(await client.GetClusterStatusAsync());
        Assert.Equal(2, placement.Count(p => p.Node == "n2"));
        Assert.Equal(40, placement.Sum(p => p.Documents));
        Assert.Equal(40, await client.CountAsync("moving"));
        var listed = await client.ListDocumentsAsync("moving", limit: 100);
        Assert.Equal(Enumerable.Range(0, 40).Select(i => $"d{i:D2}"), listed.Documents.Select(d => d.Id));
    }

    private static List<(int Shard, string Node, bool Serving, long Documents)> Placement(ClusterStatusDescription status) =>
        [.. status.Collections.Single(c => c.Name == "moving").ShardStates.SelectMany(s => s.Replicas.Select(r => (s.Shard, r.Node, r.Serving, r.Documents)))];

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
            // A process still closing its files; the temp folder is cleaned by the OS.
        }
    }
}
