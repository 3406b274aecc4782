using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using V1 = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.IntegrationTests.Rest;

/// <summary>
/// <c>POST …/documents/batch-get</c> and <c>POST …/documents/scroll</c> over REST, and Documents.GetBatch and
/// Documents.Scroll over raw gRPC, against the real server: the same answers both ways, refusals as 400/413/404 and
/// INVALID_ARGUMENT/RESOURCE_EXHAUSTED/NOT_FOUND naming the field, and the data intact afterwards.
/// </summary>
public class BatchGetAndScrollApiTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private HttpClient Http => server.Http;

    private V1.Documents.DocumentsClient Documents => new(server.Channel);

    private static async Task<JsonElement> Json(HttpResponseMessage response)
    {
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    private static async Task AssertProblem(HttpResponseMessage response, HttpStatusCode status, string field)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.Equal(field, problem.GetProperty("field").GetString());
    }

    private static async Task AssertStatus(StatusCode code, string field, Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(code, error.StatusCode);
        Assert.Equal(field, error.Trailers.GetValue("field"));
    }

    private Task<HttpResponseMessage> PostJson(string path, string json) =>
        Http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    private static string[] Ids(JsonElement body) =>
        [.. body.GetProperty("documents").EnumerateArray().Select(d => d.GetProperty("id").GetString()!)];

    /// <summary>
    /// 40 documents over 3 shards: price = i % 7 (ties), no price on every fifth; kind "even"/"odd"; ids p00..p39.
    /// </summary>
    private async Task<string> SeedAsync()
    {
        string name = ServerFixture.UniqueName("scroll");
        (await Http.PutAsJsonAsync($"/collections/{name}", new { encoder = "none", dimension = 2, metric = "l2", shards = 3 })).EnsureSuccessStatusCode();
        var documents = Enumerable.Range(0, 40).Select(i => new
        {
            id = $"p{i:D2}",
            vector = new[] { i, 1f },
            text = $"item {i}",
            metadata = i % 5 == 0
                ? new Dictionary<string, object> { ["kind"] = i % 2 == 0 ? "even" : "odd" }
                : new Dictionary<string, object> { ["kind"] = i % 2 == 0 ? "even" : "odd", ["price"] = i % 7 },
        });
        (await Http.PostAsJsonAsync($"/collections/{name}/documents", new { documents })).EnsureSuccessStatusCode();
        return name;
    }

    /// <summary>The order the store promises: by price, ties by id, missing prices last (ascending ids) either way.</summary>
    private static string[] Expected(bool descending, Func<int, bool>? where = null)
    {
        var all = Enumerable.Range(0, 40).Where(where ?? (_ => true)).ToList();
        var priced = all.Where(i => i % 5 != 0);
        var ordered = descending
            ? priced.OrderByDescending(i => i % 7).ThenBy(i => i)
            : priced.OrderBy(i => i % 7).ThenBy(i => i);
        return [.. ordered.Concat(all.Where(i => i % 5 == 0)).Select(i => $"p{i:D2}")];
    }

    private async Task<List<string>> RestScrollAllAsync(string name, Func<string?, string> body)
    {
        var ids = new List<string>();
        string? after = null;
        do
        {
            var page = await Json(await PostJson($"/collections/{name}/documents/scroll", body(after)));
            ids.AddRange(Ids(page));
            after = Next(page);
        }
        while (after is not null);
        return ids;
    }

    /// <summary>The page's <c>next</c> cursor; the property is left out on the last page.</summary>
    private static string? Next(JsonElement page) =>
        page.TryGetProperty("next", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;

    private static string After(string? after) => after is null ? "" : $",\"after\":\"{after}\"";

    [Fact]
    public async Task Rest_batch_get_returns_found_documents_in_request_order()
    {
        string name = await SeedAsync();

        var body = await Json(await PostJson($"/collections/{name}/documents/batch-get", """{"ids":["p07","missing","p02","p07"]}"""));

        Assert.Equal(["p07", "p02", "p07"], Ids(body));
        var p02 = body.GetProperty("documents")[1];
        Assert.Equal("item 2", p02.GetProperty("text").GetString());
        Assert.Equal(2, p02.GetProperty("metadata").GetProperty("price").GetDouble());
        Assert.False(p02.TryGetProperty("vector", out var vector) && vector.ValueKind != JsonValueKind.Null);
        var withVector = await Json(await PostJson($"/collections/{name}/documents/batch-get", """{"ids":["p03"],"includeVectors":true}"""));
        Assert.Equal([3f, 1f], withVector.GetProperty("documents")[0].GetProperty("vector").EnumerateArray().Select(v => v.GetSingle()));
        Assert.Empty(Ids(await Json(await PostJson($"/collections/{name}/documents/batch-get", """{"ids":[]}"""))));
    }

    [Fact]
    public async Task Rest_batch_get_refuses_bad_requests_and_keeps_serving()
    {
        string name = await SeedAsync();
        string tooMany = JsonSerializer.Serialize(new { ids = Enumerable.Range(0, 1001).Select(i => $"p{i}") });
        await AssertProblem(await PostJson($"/collections/{name}/documents/batch-get", tooMany), HttpStatusCode.RequestEntityTooLarge, "ids");
        await AssertProblem(await PostJson($"/collections/{name}/documents/batch-get", "{}"), HttpStatusCode.BadRequest, "ids");
        await AssertProblem(await PostJson($"/collections/{name}/documents/batch-get", """{"ids":["a",null]}"""), HttpStatusCode.BadRequest, "ids[1]");
        await AssertProblem(await PostJson($"/collections/{name}/documents/batch-get", """{"ids":["a"],"bogus":1}"""), HttpStatusCode.BadRequest, "bogus");
        await AssertProblem(await PostJson($"/collections/{ServerFixture.UniqueName("none")}/documents/batch-get", """{"ids":["a"]}"""), HttpStatusCode.NotFound, "name");
        Assert.Equal(40, (await Json(await Http.GetAsync($"/collections/{name}/count"))).GetProperty("count").GetInt64());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Rest_scroll_orders_by_a_field_and_pages_join_into_the_full_listing(bool descending)
    {
        string name = await SeedAsync();
        string order = $"\"orderBy\":{{\"field\":\"price\",\"descending\":{(descending ? "true" : "false")}}}";

        var whole = await Json(await PostJson($"/collections/{name}/documents/scroll", $"{{{order},\"limit\":1000}}"));
        Assert.Equal(Expected(descending), Ids(whole));
        Assert.Null(Next(whole));

        foreach (int limit in new[] { 1, 3, 13, 39 })
        {
            Assert.Equal(Expected(descending), await RestScrollAllAsync(name, after => $"{{{order},\"limit\":{limit}{After(after)}}}"));
        }
        Assert.Equal(Expected(descending, i => i % 2 == 1),
            await RestScrollAllAsync(name, after => $"{{\"filter\":{{\"kind\":\"odd\"}},{order},\"limit\":4{After(after)}}}"));
    }

    [Fact]
    public async Task Rest_scroll_without_an_order_walks_ids_and_filters()
    {
        string name = await SeedAsync();
        string[] all = [.. Enumerable.Range(0, 40).Select(i => $"p{i:D2}")];
        Assert.Equal(all, await RestScrollAllAsync(name, after => $"{{\"limit\":6{After(after)}}}"));
        Assert.Equal(all.Take(50), Ids(await Json(await PostJson($"/collections/{name}/documents/scroll", "{}"))));
        var cheap = await RestScrollAllAsync(name, after => $"{{\"filter\":{{\"price\":{{\"$lte\":1}}}},\"limit\":5{After(after)}}}");
        Assert.Equal(Enumerable.Range(0, 40).Where(i => i % 5 != 0 && i % 7 <= 1).Select(i => $"p{i:D2}"), cheap);
    }

    [Fact]
    public async Task Rest_scroll_refuses_bad_limits_orders_filters_and_cursors()
    {
        string name = await SeedAsync();
        string path = $"/collections/{name}/documents/scroll";
        await AssertProblem(await PostJson(path, """{"limit":0}"""), HttpStatusCode.BadRequest, "limit");
        await AssertProblem(await PostJson(path, """{"limit":1001}"""), HttpStatusCode.BadRequest, "limit");
        await AssertProblem(await PostJson(path, """{"orderBy":{"field":""}}"""), HttpStatusCode.BadRequest, "orderBy.field");
        await AssertProblem(await PostJson(path, """{"orderBy":{}}"""), HttpStatusCode.BadRequest, "orderBy.field");
        await AssertProblem(await PostJson(path, """{"filter":{"price":{"$between":[1,2]}}}"""), HttpStatusCode.BadRequest, "filter.price.$between");
        await AssertProblem(await PostJson(path, """{"after":"%%%"}"""), HttpStatusCode.BadRequest, "after");
        await AssertProblem(await PostJson(path, """{"filter":5}"""), HttpStatusCode.BadRequest, "filter");
        await AssertProblem(await PostJson(path, """{"filter":[]}"""), HttpStatusCode.BadRequest, "filter");
        await AssertProblem(await PostJson(path, """{"orderBy":"price"}"""), HttpStatusCode.BadRequest, "orderBy");
        await AssertProblem(await PostJson(path, """{"limit":"ten"}"""), HttpStatusCode.BadRequest, "limit");
        await AssertProblem(await PostJson(path, """{"order":{"field":"price"}}"""), HttpStatusCode.BadRequest, "order");
        var first = await Json(await PostJson(path, """{"orderBy":{"field":"price"},"limit":2}"""));
        string cursor = Next(first)!;
        await AssertProblem(await PostJson(path, $$"""{"after":"{{cursor}}"}"""), HttpStatusCode.BadRequest, "after");
        await AssertProblem(await PostJson(path, $$"""{"orderBy":{"field":"kind"},"after":"{{cursor}}"}"""), HttpStatusCode.BadRequest, "after");
        await AssertProblem(await PostJson($"/collections/{ServerFixture.UniqueName("none")}/documents/scroll", "{}"), HttpStatusCode.NotFound, "name");
        // Still serving, nothing changed.
        Assert.Equal(40, (await Json(await Http.GetAsync($"/collections/{name}/count"))).GetProperty("count").GetInt64());
    }

    [Fact]
    public async Task Grpc_batch_get_and_scroll_answer_as_rest_does()
    {
        string name = await SeedAsync();

        var batch = await Documents.GetBatchAsync(new V1.GetDocumentsRequest { Collection = name, Ids = { "p09", "missing", "p01" }, IncludeVectors = true });
        Assert.Equal(["p09", "p01"], batch.Documents.Select(d => d.Id));
        Assert.Equal([9f, 1f], batch.Documents[0].Vector);

        foreach (bool descending in new[] { false, true })
        {
            var ids = new List<string>();
            var request = new V1.ScrollRequest
            {
                Collection = name,
                OrderBy = new V1.ScrollOrder { Field = "price", Descending = descending },
                Limit = 6,
                Filter = new Struct { Fields = { ["kind"] = Value.ForString("even") } },
            };
            while (true)
            {
                var page = await Documents.ScrollAsync(request);
                ids.AddRange(page.Documents.Select(d => d.Id));
                if (!page.HasNext)
                {
                    break;
                }
                request.After = page.Next;
            }
            Assert.Equal(Expected(descending, i => i % 2 == 0), ids);
        }
        var byId = await Documents.ScrollAsync(new V1.ScrollRequest { Collection = name });
        Assert.Equal(Enumerable.Range(0, 40).Select(i => $"p{i:D2}"), byId.Documents.Select(d => d.Id));
        Assert.False(byId.HasNext);
    }

    [Fact]
    public async Task Grpc_refusals_name_the_field()
    {
        string name = await SeedAsync();
        await AssertStatus(StatusCode.InvalidArgument, "limit", async () => await Documents.ScrollAsync(new V1.ScrollRequest { Collection = name, Limit = 0 }));
        await AssertStatus(StatusCode.InvalidArgument, "limit", async () => await Documents.ScrollAsync(new V1.ScrollRequest { Collection = name, Limit = 1001 }));
        await AssertStatus(StatusCode.InvalidArgument, "orderBy.field", async () => await Documents.ScrollAsync(new V1.ScrollRequest { Collection = name, OrderBy = new V1.ScrollOrder() }));
        await AssertStatus(StatusCode.InvalidArgument, "after", async () => await Documents.ScrollAsync(new V1.ScrollRequest { Collection = name, After = "???" }));
        await AssertStatus(StatusCode.NotFound, "name", async () => await Documents.ScrollAsync(new V1.ScrollRequest { Collection = ServerFixture.UniqueName("none") }));
        var tooMany = new V1.GetDocumentsRequest { Collection = name };
        tooMany.Ids.Add(Enumerable.Range(0, 1001).Select(i => $"p{i}"));
        await AssertStatus(StatusCode.ResourceExhausted, "ids", async () => await Documents.GetBatchAsync(tooMany));
        await AssertStatus(StatusCode.NotFound, "name", async () => await Documents.GetBatchAsync(new V1.GetDocumentsRequest { Collection = ServerFixture.UniqueName("none"), Ids = { "a" } }));
        Assert.Equal(40, (await Documents.CountAsync(new V1.CountRequest { Collection = name })).Count);
    }
}
