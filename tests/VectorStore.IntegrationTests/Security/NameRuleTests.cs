using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using StatusCode = Grpc.Core.StatusCode;
using V1 = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.IntegrationTests.Security;

/// <summary>
/// One rule for every name and id (collections, snapshots, documents): no "." or "..", no control characters, no
/// '/' or '\', no unpaired surrogates, bounded length. Names that travel in the body (ids in an upsert, snapshot
/// names, restore targets, gRPC fields) reach the engine's rule, which refuses them before anything is written.
/// </summary>
public class NameRuleTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    // Each breaks the rule once; as JSON string literals (escapes kept) so the server decodes them.
    public static TheoryData<string> BadNames => new()
    {
        ".", "..", "a/b", "a\\\\b", "/", "a\\nb", "a\\r\\nb", "\\u0000", "a\\u0007", "a\\u007f", "a\\u0085b", new string('n', 5000),
    };

    private static string Decoded(string jsonLiteral) => JsonSerializer.Deserialize<string>($"\"{jsonLiteral}\"")!;

    [Theory]
    [MemberData(nameof(BadNames))]
    public async Task Document_ids_that_break_the_rule_are_refused_and_nothing_is_written(string id)
    {
        string name = ServerFixture.UniqueName("ids");
        await server.CreateDemoCollectionAsync(name);
        var response = await server.Http.PostAsync($"/collections/{name}/documents",
            new StringContent($$"""{"documents":[{"id":"ok","text":"fine"},{"id":"{{id}}","text":"t"}]}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("documents[1].id", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        Assert.Equal(0, (await server.Http.GetFromJsonAsync<JsonElement>($"/collections/{name}/count")).GetProperty("count").GetInt64());

        var grpc = await Assert.ThrowsAsync<RpcException>(() => new V1.Documents.DocumentsClient(server.Channel).UpsertAsync(new V1.UpsertRequest
        {
            Collection = name,
            Documents = { new V1.DocumentInput { Id = Decoded(id), Text = "t" } },
        }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, grpc.StatusCode);
    }

    [Theory]
    [MemberData(nameof(BadNames))]
    public async Task Snapshot_names_and_restore_targets_that_break_the_rule_are_refused(string bad)
    {
        string name = ServerFixture.UniqueName("snaps");
        await server.CreateDemoCollectionAsync(name);
        var create = await server.Http.PostAsync($"/collections/{name}/snapshots",
            new StringContent($$"""{"name":"{{bad}}"}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, create.StatusCode);
        Assert.Empty((await server.Http.GetFromJsonAsync<JsonElement>($"/collections/{name}/snapshots")).GetProperty("snapshots").EnumerateArray());

        (await server.Http.PostAsJsonAsync($"/collections/{name}/snapshots", new { name = "good" })).EnsureSuccessStatusCode();
        int before = (await server.Http.GetFromJsonAsync<JsonElement>("/collections")).GetProperty("collections").GetArrayLength();
        var restore = await server.Http.PostAsync($"/collections/{name}/snapshots/good/restore",
            new StringContent($$"""{"target":"{{bad}}"}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, restore.StatusCode);
        Assert.Equal(before, (await server.Http.GetFromJsonAsync<JsonElement>("/collections")).GetProperty("collections").GetArrayLength());
    }

    [Theory]
    [MemberData(nameof(BadNames))]
    public async Task Collection_names_that_break_the_rule_are_refused_over_grpc(string bad)
    {
        var collections = new V1.Collections.CollectionsClient(server.Channel);
        var error = await Assert.ThrowsAsync<RpcException>(() => collections.CreateAsync(new V1.CreateCollectionRequest { Name = Decoded(bad), Encoder = "demo" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.DoesNotContain((await collections.ListAsync(new V1.ListCollectionsRequest())).Collections, c => c.Name == Decoded(bad));
    }

    [Fact]
    public async Task A_create_whose_name_holds_a_newline_is_refused_up_front_over_both_apis()
    {
        var rest = await RawHttp.SendAsync(server.RestAddress, "PUT", "/collections/evil%0D%0ALocation:%20http://x", "{}");
        Assert.Equal(400, rest.Status);
        var grpc = await Assert.ThrowsAsync<RpcException>(() => new V1.Collections.CollectionsClient(server.Channel)
            .CreateAsync(new V1.CreateCollectionRequest { Name = "evil\r\nLocation: http://x", Encoder = "demo" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, grpc.StatusCode);
        var list = await server.Http.GetFromJsonAsync<JsonElement>("/collections");
        Assert.DoesNotContain(list.GetProperty("collections").EnumerateArray(), c => c.GetProperty("name").GetString()!.StartsWith("evil", StringComparison.Ordinal));
    }
}
