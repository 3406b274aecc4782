using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using VectorStoreDb.Client;

namespace VectorStoreDb.IntegrationTests.Cluster;

/// <summary>
/// The JSON the dashboard's cluster section reads (src/Server/Dashboard/assets/js/cluster.js), from a real server in
/// cluster mode: one node, Orleans localhost clustering, on loopback ports.
/// </summary>
public sealed class ClusterStatusJsonTests(ClusterStatusJsonTests.OneNodeCluster server) : IClassFixture<ClusterStatusJsonTests.OneNodeCluster>
{
    [Fact]
    public async Task Get_cluster_has_every_field_the_dashboard_shows()
    {
        string name = ServerFixture.UniqueName("dash");
        (await server.Http.PutAsJsonAsync($"/collections/{name}", new { encoder = "none", dimension = 2, shards = 2, replicas = 1 })).EnsureSuccessStatusCode();
        (await server.Http.PostAsJsonAsync($"/collections/{name}/documents", new
        {
            documents = Enumerable.Range(0, 10).Select(i => new { id = $"d{i}", vector = new[] { 1f, i } }),
        })).EnsureSuccessStatusCode();

        using var status = JsonDocument.Parse(await server.Http.GetStringAsync("/cluster"));
        var root = status.RootElement;
        string node = root.GetProperty("node").GetString()!;
        Assert.Equal("node-a", node);
        var member = Assert.Single(root.GetProperty("nodes").EnumerateArray());
        Assert.Equal(node, member.GetProperty("name").GetString());
        Assert.Equal("Active", member.GetProperty("status").GetString());
        Assert.Contains("127.0.0.1", member.GetProperty("address").GetString(), StringComparison.Ordinal);

        var collection = root.GetProperty("collections").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);
        Assert.Equal(1, collection.GetProperty("replicas").GetInt32());
        Assert.Equal("majority", collection.GetProperty("writeConsistency").GetString());
        var shards = collection.GetProperty("shardStates").EnumerateArray().ToList();
        Assert.Equal([0, 1], shards.Select(s => s.GetProperty("shard").GetInt32()));
        var replicas = shards.Select(s => Assert.Single(s.GetProperty("replicas").EnumerateArray())).ToList();
        Assert.All(replicas, r =>
        {
            Assert.Equal(node, r.GetProperty("node").GetString());
            Assert.True(r.GetProperty("reachable").GetBoolean());
            Assert.True(r.GetProperty("serving").GetBoolean());
            Assert.Equal(1, r.GetProperty("appliedSequence").GetInt64()); // one batch touched each shard once
            Assert.True(r.GetProperty("logFirstSequence").GetInt64() <= 1);
            Assert.False(r.TryGetProperty("error", out _)); // only a replica that did not answer has one
        });
        Assert.Equal(10, replicas.Sum(r => r.GetProperty("documents").GetInt64()));
    }

    [Fact]
    public async Task The_sdk_reads_the_same_status_over_grpc_and_refuses_a_drain_with_nowhere_to_go()
    {
        string name = ServerFixture.UniqueName("sdk");
        (await server.Http.PutAsJsonAsync($"/collections/{name}", new { encoder = "none", dimension = 2, shards = 3, replicas = 1 })).EnsureSuccessStatusCode();
        using var client = new VectorStoreGrpcClient(server.GrpcAddress);

        var status = await client.GetClusterStatusAsync();
        Assert.Equal("node-a", status.Node);
        Assert.Equal(("node-a", "Active"), (Assert.Single(status.Nodes).Name, status.Nodes[0].Status));
        var collection = status.Collections.Single(c => c.Name == name);
        Assert.Equal((3, 1, "majority"), (collection.Shards, collection.Replicas, collection.WriteConsistency));
        Assert.Equal([0, 1, 2], collection.ShardStates.Select(s => s.Shard));
        Assert.All(collection.ShardStates, s => Assert.Equal("node-a", Assert.Single(s.Replicas).Node));

        Assert.Empty(await client.RebalanceAsync()); // one node: nothing to even out
        var refused = await Assert.ThrowsAsync<VectorStoreClientException>(() => client.DrainNodeAsync("node-a"));
        Assert.Equal(VectorStoreErrorCode.FailedPrecondition, refused.Code);
        Assert.Equal(VectorStoreErrorCode.NotFound, (await Assert.ThrowsAsync<VectorStoreClientException>(() => client.DrainNodeAsync("node-z"))).Code);
        // The refused drain left the node placeable: a new collection still gets its replicas.
        (await server.Http.PutAsJsonAsync($"/collections/{name}-2", new { encoder = "none", dimension = 2, replicas = 1 })).EnsureSuccessStatusCode();
        await client.UndrainNodeAsync("node-a");
    }

    [Fact]
    public async Task The_dashboard_serves_its_cluster_section()
    {
        string page = await server.Http.GetStringAsync("/dashboard/index.html");
        Assert.Contains("id=\"cluster\"", page, StringComparison.Ordinal);
        var script = await server.Http.GetAsync("/dashboard/js/cluster.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Contains("api('/cluster')", await script.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>The real server with cluster mode on: one Orleans silo (localhost clustering) on free loopback ports.</summary>
    public sealed class OneNodeCluster : ServerFixture
    {
        private readonly int _siloPort = LoopbackPort.Free();
        private readonly int _gatewayPort = LoopbackPort.Free();

        protected override IEnumerable<string> ExtraArguments =>
        [
            "--VectorStore:Cluster:Enabled=true",
            "--VectorStore:Cluster:Clustering=Localhost",
            "--VectorStore:Cluster:NodeName=node-a",
            $"--VectorStore:Cluster:SiloPort={_siloPort}",
            $"--VectorStore:Cluster:PrimarySiloPort={_siloPort}",
            $"--VectorStore:Cluster:GatewayPort={_gatewayPort}",
            $"--VectorStore:Cluster:ServiceId=it-{_siloPort}",
            $"--VectorStore:Cluster:ClusterId=it-{_siloPort}",
            $"--VectorStore:Cluster:DataPath={Path.Combine(DataPath, "cluster")}",
            "--Logging:LogLevel:Orleans=Error",
        ];
    }
}
