using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using VectorStoreDb.Client;
using VectorStoreDb.Client.Embedded;
using V1 = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.IntegrationTests.Rest;

/// <summary>A server only the hybrid tests use, so restarting it disturbs no other test class.</summary>
public sealed class HybridServerFixture : ServerFixture;

public class HybridSearchApiTests(HybridServerFixture server) : IClassFixture<HybridServerFixture>
{
    private HttpClient Http => server.Http;

    // "paraphrase" shares only word prefixes (elect-, trans-, commu-) and a stop word with the query, which the demo
    // encoder sees and BM25 does not; "code" holds the part number only BM25 weighs highly.
    private static readonly object[] Catalogue =
    [
        new { id = "code", text = "Order spare part XJ-4471 today", metadata = new { kind = "part" } },
        new { id = "paraphrase", text = "electronic transit for commuters", metadata = new { kind = "guide" } },
        new { id = "bread", text = "a guide to baking sourdough bread at home", metadata = new { kind = "guide" } },
        new { id = "rome", text = "the history of the roman empire", metadata = new { kind = "guide" } },
        new { id = "ocean", text = "ocean waves and tides explained", metadata = new { kind = "guide" } },
        new { id = "garden", text = "growing fresh vegetables in a small garden", metadata = new { kind = "guide" } },
    ];

    private const string Query = "XJ-4471 electric transport for community";

    private static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    private Task<HttpResponseMessage> PostJson(string path, string json) =>
        Http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    private async Task<string> CreateTextCollectionAsync()
    {
        string name = ServerFixture.UniqueName("h");
        // No text options: a collection with an encoder gets the BM25 index by default.
        var created = await Http.PutAsJsonAsync($"/collections/{name}", new { encoder = "demo" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await Json(created);
        Assert.Equal("english", body.GetProperty("text").GetProperty("language").GetString());
        Assert.Equal(1.2f, body.GetProperty("text").GetProperty("bm25K1").GetSingle());
        (await Http.PostAsJsonAsync($"/collections/{name}/documents", new { documents = Catalogue })).EnsureSuccessStatusCode();
        return name;
    }

    private static string[] Ids(JsonElement response) =>
        [.. response.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("id").GetString()!)];

    [Fact]
    public async Task Rest_text_and_hybrid_modes_with_explain_weights_and_filter()
    {
        string name = await CreateTextCollectionAsync();

        var text = await Json(await PostJson($"/collections/{name}/query", $$"""{"text":"{{Query}}","mode":"text","explain":true}"""));
        var first = text.GetProperty("results")[0];
        Assert.Equal("code", first.GetProperty("id").GetString());
        Assert.True(first.GetProperty("score").GetSingle() > 0);
        Assert.Equal(1, first.GetProperty("textRank").GetInt32());
        Assert.False(first.TryGetProperty("denseRank", out _));
        Assert.DoesNotContain("paraphrase", Ids(text));

        var hybrid = await Json(await PostJson($"/collections/{name}/query",
            $$"""{"text":"{{Query}}","mode":"hybrid","k":2,"prefetch":50,"rrfK":60,"weights":{"dense":1,"text":1},"explain":true}"""));
        Assert.Equal(["code", "paraphrase"], Ids(hybrid).Order());
        var paraphrase = hybrid.GetProperty("results").EnumerateArray().Single(r => r.GetProperty("id").GetString() == "paraphrase");
        Assert.True(paraphrase.TryGetProperty("denseRank", out _));
        Assert.False(paraphrase.TryGetProperty("textRank", out _));

        var dbsf = await Json(await PostJson($"/collections/{name}/query", $$"""{"text":"{{Query}}","mode":"hybrid","fusion":"dbsf","k":2}"""));
        Assert.Equal(["code", "paraphrase"], Ids(dbsf).Order());

        foreach (string mode in new[] { "dense", "text", "hybrid" })
        {
            var filtered = await Json(await PostJson($"/collections/{name}/query", $$$"""{"text":"{{{Query}}} history","mode":"{{{mode}}}","k":6,"filter":{"kind":"guide"}}"""));
            Assert.NotEmpty(Ids(filtered));
            Assert.DoesNotContain("code", Ids(filtered));
        }
    }

    [Theory]
    [InlineData("""{"text":"apple","mode":"sparse"}""", "mode", true)]
    [InlineData("""{"text":"apple","mode":"text"}""", "mode", false)]
    [InlineData("""{"text":"apple","mode":"hybrid"}""", "mode", false)]
    [InlineData("""{"text":"","mode":"text"}""", "text", true)]
    [InlineData("""{"vector":[],"mode":"hybrid"}""", "text", true)]
    [InlineData("""{"text":"apple","mode":"hybrid","fusion":"max"}""", "fusion", true)]
    [InlineData("""{"text":"apple","mode":"hybrid","weights":{"dense":-1}}""", "weights.dense", true)]
    public async Task Rest_bad_input_is_400_naming_the_field(string body, string field, bool textCollection)
    {
        string name = textCollection ? await CreateTextCollectionAsync() : ServerFixture.UniqueName("p");
        if (!textCollection)
        {
            // Turned off at creation: text and hybrid queries are refused with 400 naming "mode".
            (await Http.PutAsJsonAsync($"/collections/{name}", new { encoder = "demo", text = false })).EnsureSuccessStatusCode();
        }
        var response = await PostJson($"/collections/{name}/query", body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await Json(response);
        Assert.Equal(field, problem.GetProperty("field").GetString());
        Assert.Contains(field, problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Grpc_hybrid_query_with_explain_and_text_settings()
    {
        var collections = new V1.Collections.CollectionsClient(server.Channel);
        var documents = new V1.Documents.DocumentsClient(server.Channel);
        var search = new V1.Search.SearchClient(server.Channel);
        string name = ServerFixture.UniqueName("g");
        var info = await collections.CreateAsync(new V1.CreateCollectionRequest { Name = name, Text = true, TextLanguage = "english", Bm25K1 = 0.9f, Bm25B = 0.4f });
        Assert.True(info.Text);
        Assert.Equal(0.9f, info.Bm25K1);
        Assert.Equal("dense", info.DefaultMode);
        var upsert = new V1.UpsertRequest { Collection = name };
        upsert.Documents.Add(new V1.DocumentInput { Id = "code", Text = "Order spare part XJ-4471 today" });
        upsert.Documents.Add(new V1.DocumentInput { Id = "paraphrase", Text = "electronic transit for commuters" });
        upsert.Documents.Add(new V1.DocumentInput { Id = "rome", Text = "the history of the roman empire" });
        await documents.UpsertAsync(upsert);

        var response = await search.QueryAsync(new V1.QueryRequest { Collection = name, Text = Query, Mode = "hybrid", K = 2, Fusion = "rrf", RrfK = 10, TextWeight = 2, Explain = true });
        Assert.Equal("code", response.Results[0].Id);
        Assert.True(response.Results[0].HasTextRank);
        Assert.Equal(1, response.Results[0].TextRank);
        Assert.Equal("paraphrase", response.Results[1].Id);
        Assert.False(response.Results[1].HasTextRank);
        Assert.True(response.Results[1].HasDenseRank);

        var error = await Assert.ThrowsAsync<RpcException>(async () => await search.QueryAsync(new V1.QueryRequest { Collection = name, Text = "x", Mode = "bogus" }));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("mode", error.Trailers.GetValue("field"));

        // Unset text is the default (on, with an encoder); text = false keeps the collection without one.
        Assert.True((await collections.CreateAsync(new V1.CreateCollectionRequest { Name = ServerFixture.UniqueName("g"), Encoder = "demo" })).Text);
        string off = ServerFixture.UniqueName("g");
        Assert.False((await collections.CreateAsync(new V1.CreateCollectionRequest { Name = off, Encoder = "demo", Text = false })).Text);
        error = await Assert.ThrowsAsync<RpcException>(async () => await search.QueryAsync(new V1.QueryRequest { Collection = off, Text = Query, Mode = "hybrid" }));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("mode", error.Trailers.GetValue("field"));
        Assert.Contains("no text index", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sdk_clients_remote_and_embedded_run_hybrid_queries_alike()
    {
        using var folder = new TempFolder();
        using var remote = new VectorStoreGrpcClient(server.GrpcAddress);
        using var embedded = EmbeddedVectorStore.Open(folder.Path);
        foreach (IVectorStoreClient client in new IVectorStoreClient[] { remote, embedded })
        {
            string name = ServerFixture.UniqueName("s");
            var description = await client.CreateCollectionAsync(name, new CollectionOptions { DefaultMode = SearchMode.Hybrid });
            Assert.Equal("english", description.TextIndex!.Language);
            Assert.Equal(SearchMode.Hybrid, description.DefaultMode);
            await client.UpsertAsync(name,
            [
                new DocumentWrite { Id = "code", Text = "Order spare part XJ-4471 today" },
                new DocumentWrite { Id = "paraphrase", Text = "electronic transit for commuters" },
                new DocumentWrite { Id = "rome", Text = "the history of the roman empire" },
            ]);

            var hits = await client.QueryAsync(name, new SearchQuery { Text = Query, K = 2, Fusion = FusionMethod.Dbsf, Explain = true });
            Assert.Equal(["code", "paraphrase"], hits.Select(h => h.Id).Order());
            Assert.Equal(1, hits.Single(h => h.Id == "code").Explanation!.TextRank);

            var text = await client.QueryAsync(name, new SearchQuery { Text = "roman", Mode = SearchMode.Text });
            Assert.Equal("rome", Assert.Single(text).Id);

            var error = await Assert.ThrowsAsync<VectorStoreClientException>(() => client.QueryAsync(name, new SearchQuery { Text = " ", Mode = SearchMode.Text }));
            Assert.Equal(VectorStoreErrorCode.InvalidArgument, error.Code);
            Assert.Equal("text", error.Field);
        }
    }

    [Fact]
    public async Task Text_index_is_rebuilt_after_a_restart()
    {
        string name = await CreateTextCollectionAsync();
        (await Http.DeleteAsync($"/collections/{name}/documents/rome")).EnsureSuccessStatusCode();
        string before = await (await PostJson($"/collections/{name}/query", $$"""{"text":"{{Query}} history garden","mode":"text","explain":true}""")).Content.ReadAsStringAsync();

        await server.RestartAsync();

        var info = await Json(await Http.GetAsync($"/collections/{name}"));
        Assert.Equal("english", info.GetProperty("text").GetProperty("language").GetString());
        string after = await (await PostJson($"/collections/{name}/query", $$"""{"text":"{{Query}} history garden","mode":"text","explain":true}""")).Content.ReadAsStringAsync();
        Assert.Equal(before, after);
        Assert.Equal(["code", "garden"], Ids(JsonDocument.Parse(after).RootElement));
    }
}
