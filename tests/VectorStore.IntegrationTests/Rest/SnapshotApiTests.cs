using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using V1 = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.IntegrationTests.Rest;

/// <summary>Snapshots over REST and gRPC on the real server.</summary>
public class SnapshotApiTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private async Task<string> CreateWithDocumentsAsync()
    {
        string name = ServerFixture.UniqueName("s");
        await server.CreateDemoCollectionAsync(name);
        var upsert = await server.Http.PostAsJsonAsync($"/collections/{name}/documents", new
        {
            documents = Enumerable.Range(0, 30).Select(i => new { id = $"d{i}", text = $"document number {i} about {(i % 2 == 0 ? "cats" : "engines")}" }),
        });
        upsert.EnsureSuccessStatusCode();
        return name;
    }

    private async Task<string[]> QueryAsync(string collection) =>
        [.. JsonDocument.Parse(await (await server.Http.PostAsJsonAsync($"/collections/{collection}/query", new { text = "cats", k = 5 })).Content.ReadAsStringAsync())
            .RootElement.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("id").GetString()!)];

    [Fact]
    public async Task Rest_snapshot_create_list_download_restore_delete()
    {
        var http = server.Http;
        string name = await CreateWithDocumentsAsync();
        var created = await http.PostAsJsonAsync($"/collections/{name}/snapshots", new { name = "snap1" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal($"/collections/{name}/snapshots/snap1", created.Headers.Location?.OriginalString);

        var list = JsonDocument.Parse(await http.GetStringAsync($"/collections/{name}/snapshots")).RootElement.GetProperty("snapshots");
        Assert.Equal("snap1", Assert.Single(list.EnumerateArray()).GetProperty("name").GetString());

        var download = await http.GetAsync($"/collections/{name}/snapshots/snap1");
        Assert.Equal("application/octet-stream", download.Content.Headers.ContentType?.MediaType);
        Assert.True((await download.Content.ReadAsByteArrayAsync()).Length > 30 * 4);

        string target = ServerFixture.UniqueName("r");
        var restored = await http.PostAsJsonAsync($"/collections/{name}/snapshots/snap1/restore", new { target });
        Assert.Equal(HttpStatusCode.Created, restored.StatusCode);
        Assert.Equal(await QueryAsync(name), await QueryAsync(target));
        Assert.Equal(HttpStatusCode.Conflict, (await http.PostAsJsonAsync($"/collections/{name}/snapshots/snap1/restore", new { target })).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/collections/{name}/snapshots/snap1")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/collections/{name}/snapshots/snap1")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsJsonAsync($"/collections/{name}/snapshots", new { name = "../etc" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);
    }

    [Fact]
    public async Task Grpc_snapshot_create_download_restore()
    {
        var client = new V1.Snapshots.SnapshotsClient(server.Channel);
        string name = await CreateWithDocumentsAsync();
        var info = await client.CreateAsync(new V1.CreateSnapshotRequest { Collection = name });
        Assert.StartsWith(name, info.Name, StringComparison.Ordinal);
        Assert.Single((await client.ListAsync(new V1.ListSnapshotsRequest { Collection = name })).Snapshots);

        long bytes = 0;
        using (var call = client.Download(new V1.DownloadSnapshotRequest { Collection = name, Name = info.Name }))
        {
            await foreach (var chunk in call.ResponseStream.ReadAllAsync())
            {
                bytes += chunk.Data.Length;
            }
        }
        Assert.Equal(info.SizeBytes, bytes);

        string target = ServerFixture.UniqueName("r");
        var restored = await client.RestoreAsync(new V1.RestoreSnapshotRequest { Collection = name, Name = info.Name, Target = target });
        Assert.Equal(30, restored.DocumentCount);
        Assert.Equal(await QueryAsync(name), await QueryAsync(target));

        await client.DeleteAsync(new V1.DeleteSnapshotRequest { Collection = name, Name = info.Name });
        var error = await Assert.ThrowsAsync<RpcException>(async () => await client.DeleteAsync(new V1.DeleteSnapshotRequest { Collection = name, Name = info.Name }));
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }
}
