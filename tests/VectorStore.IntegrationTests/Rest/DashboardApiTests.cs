using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace VectorStoreDb.IntegrationTests.Rest;

/// <summary>The REST pieces the dashboard adds: document listing, /stats, and the embedded page itself.</summary>
public class DashboardApiTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private HttpClient Http => server.Http;

    private static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Fact]
    public async Task Documents_are_listed_in_id_order_with_paging_and_total()
    {
        string name = ServerFixture.UniqueName();
        await server.CreateDemoCollectionAsync(name);
        var documents = Enumerable.Range(0, 12).Reverse().Select(i => new { id = $"doc-{i:D2}", text = $"text {i}", metadata = new { n = i } });
        (await Http.PostAsJsonAsync($"/collections/{name}/documents", new { documents })).EnsureSuccessStatusCode();

        var first = await Json(await Http.GetAsync($"/collections/{name}/documents?limit=5"));
        Assert.Equal(12, first.GetProperty("total").GetInt64());
        Assert.Equal(["doc-00", "doc-01", "doc-02", "doc-03", "doc-04"], first.GetProperty("documents").EnumerateArray().Select(d => d.GetProperty("id").GetString()));
        var doc = first.GetProperty("documents")[0];
        Assert.Equal("text 0", doc.GetProperty("text").GetString());
        Assert.Equal(0, doc.GetProperty("metadata").GetProperty("n").GetInt32());
        Assert.False(doc.TryGetProperty("vector", out _));

        var last = await Json(await Http.GetAsync($"/collections/{name}/documents?offset=10&limit=5"));
        Assert.Equal(["doc-10", "doc-11"], last.GetProperty("documents").EnumerateArray().Select(d => d.GetProperty("id").GetString()));
        Assert.Equal(10, last.GetProperty("offset").GetInt32());

        var byDefault = await Json(await Http.GetAsync($"/collections/{name}/documents"));
        Assert.Equal(12, byDefault.GetProperty("documents").GetArrayLength());
        Assert.Equal(50, byDefault.GetProperty("limit").GetInt32());
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("offset=-1", "offset")]
    public async Task Bad_paging_is_a_400_problem_naming_the_field(string query, string field)
    {
        string name = ServerFixture.UniqueName();
        await server.CreateDemoCollectionAsync(name);
        var response = await Http.GetAsync($"/collections/{name}/documents?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(field, (await Json(response)).GetProperty("field").GetString());
    }

    [Fact]
    public async Task Listing_an_unknown_collection_is_404()
    {
        var response = await Http.GetAsync("/collections/nope-missing/documents");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Stats_report_version_uptime_memory_and_recent_queries()
    {
        string name = ServerFixture.UniqueName();
        await server.CreateDemoCollectionAsync(name);
        (await Http.PostAsJsonAsync($"/collections/{name}/documents", new { documents = new[] { new { id = "a", text = "cats" } } })).EnsureSuccessStatusCode();
        var before = (await Json(await Http.GetAsync("/stats"))).GetProperty("requests").GetProperty("totalQueries").GetInt64();
        for (int i = 0; i < 4; i++)
        {
            (await Http.PostAsJsonAsync($"/collections/{name}/query", new { text = "cats", k = 1 })).EnsureSuccessStatusCode();
        }

        var stats = await Json(await Http.GetAsync("/stats"));
        Assert.Equal("ready", stats.GetProperty("status").GetString());
        Assert.False(string.IsNullOrEmpty(stats.GetProperty("version").GetString()));
        Assert.True(stats.GetProperty("uptimeSeconds").GetDouble() > 0);
        Assert.True(stats.GetProperty("collections").GetInt32() >= 1);
        Assert.True(stats.GetProperty("documents").GetInt64() >= 1);
        var requests = stats.GetProperty("requests");
        Assert.Equal(before + 4, requests.GetProperty("totalQueries").GetInt64());
        Assert.True(requests.GetProperty("queries").GetInt32() >= 4);
        Assert.True(requests.GetProperty("queriesPerSecond").GetDouble() > 0);
        var latency = requests.GetProperty("queryLatency");
        Assert.True(latency.GetProperty("p50Ms").GetDouble() > 0);
        Assert.True(latency.GetProperty("p99Ms").GetDouble() >= latency.GetProperty("p50Ms").GetDouble());
        Assert.True(stats.GetProperty("memory").GetProperty("workingSetBytes").GetInt64() > 0);
        var ingest = stats.GetProperty("ingest");
        Assert.True(ingest.GetProperty("documents").GetInt64() >= 1);
        Assert.True(ingest.GetProperty("documentsPerSecond").GetDouble() > 0);

        // The dashboard's own polling does not count as traffic.
        long total = requests.GetProperty("totalRequests").GetInt64();
        await Http.GetAsync("/stats");
        await Http.GetAsync("/dashboard/");
        Assert.Equal(total, (await Json(await Http.GetAsync("/stats"))).GetProperty("requests").GetProperty("totalRequests").GetInt64());
    }

    [Fact]
    public async Task Stats_count_documents_acknowledged_over_rest_and_grpc_and_not_refused_ones()
    {
        string name = ServerFixture.UniqueName();
        await server.CreateDemoCollectionAsync(name);
        long before = (await Json(await Http.GetAsync("/stats"))).GetProperty("ingest").GetProperty("totalDocuments").GetInt64();

        var three = Enumerable.Range(0, 3).Select(i => new { id = $"r{i}", text = $"rest {i}" });
        (await Http.PostAsJsonAsync($"/collections/{name}/documents", new { documents = three })).EnsureSuccessStatusCode();
        var documents = new VectorStoreDb.Contracts.V1.Documents.DocumentsClient(server.Channel);
        await documents.UpsertAsync(new VectorStoreDb.Contracts.V1.UpsertRequest
        {
            Collection = name,
            Documents = { new VectorStoreDb.Contracts.V1.DocumentInput { Id = "g0", Text = "grpc 0" }, new VectorStoreDb.Contracts.V1.DocumentInput { Id = "g1", Text = "grpc 1" } },
        });
        var refused = await Http.PostAsJsonAsync($"/collections/{name}/documents", new { documents = new[] { new { id = "bad", vector = new[] { 1f } } } });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);

        var ingest = (await Json(await Http.GetAsync("/stats?window=3600"))).GetProperty("ingest");
        Assert.Equal(before + 5, ingest.GetProperty("totalDocuments").GetInt64());
        Assert.True(ingest.GetProperty("documents").GetInt64() >= 5);
    }

    [Fact]
    public async Task Dashboard_is_served_from_the_assembly_with_etag_and_a_strict_policy()
    {
        using var noRedirect = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = server.RestAddress };
        var redirect = await noRedirect.GetAsync("/dashboard");
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.Equal("/dashboard/", redirect.Headers.Location?.OriginalString);

        var page = await Http.GetAsync("/dashboard/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<title>VectorStore dashboard</title>", await page.Content.ReadAsStringAsync());
        Assert.Contains("default-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());

        var script = await Http.GetAsync("/dashboard/js/main.js");
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        var etag = script.Headers.ETag;
        Assert.NotNull(etag);
        using var conditional = new HttpRequestMessage(HttpMethod.Get, "/dashboard/js/main.js");
        conditional.Headers.IfNoneMatch.Add(etag);
        Assert.Equal(HttpStatusCode.NotModified, (await Http.SendAsync(conditional)).StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync("/dashboard/nope.js")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync("/dashboard/../appsettings.json")).StatusCode);
    }
}
