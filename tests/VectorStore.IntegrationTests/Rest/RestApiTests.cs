using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace VectorStoreDb.IntegrationTests.Rest;

public class RestApiTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private HttpClient Http => server.Http;

    private static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    private async Task<JsonElement> AssertProblem(HttpResponseMessage response, HttpStatusCode status, string? field = null)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await Json(response);
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("title").GetString()));
        if (field is not null)
        {
            Assert.Equal(field, problem.GetProperty("field").GetString());
        }
        return problem;
    }

    private Task<HttpResponseMessage> PostJson(string path, string json) =>
        Http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    [Fact]
    public async Task Collection_lifecycle_create_get_list_delete()
    {
        string name = ServerFixture.UniqueName();
        var created = await Http.PutAsJsonAsync($"/collections/{name}", new { metric = "dot", encoder = "demo" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal($"/collections/{name}", created.Headers.Location?.OriginalString);
        var body = await Json(created);
        Assert.Equal("dot", body.GetProperty("metric").GetString());
        Assert.Equal(256, body.GetProperty("dimension").GetInt32());

        var got = await Json(await Http.GetAsync($"/collections/{name}"));
        Assert.Equal(0, got.GetProperty("documentCount").GetInt64());
        Assert.Equal("demo", got.GetProperty("encoder").GetString());

        var list = await Json(await Http.GetAsync("/collections"));
        Assert.Contains(list.GetProperty("collections").EnumerateArray(), c => c.GetProperty("name").GetString() == name);

        Assert.Equal(HttpStatusCode.NoContent, (await Http.DeleteAsync($"/collections/{name}")).StatusCode);
        await AssertProblem(await Http.GetAsync($"/collections/{name}"), HttpStatusCode.NotFound, "name");
        await AssertProblem(await Http.DeleteAsync($"/collections/{name}"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Create_without_body_uses_defaults_and_duplicate_is_409()
    {
        string name = ServerFixture.UniqueName();
        var created = await Http.PutAsync($"/collections/{name}", null);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("cosine", (await Json(created)).GetProperty("metric").GetString());
        await AssertProblem(await Http.PutAsJsonAsync($"/collections/{name}", new { metric = "l2" }), HttpStatusCode.Conflict, "name");
    }

    [Theory]
    [InlineData("Bad Name")]
    [InlineData("UPPER")]
    [InlineData("a.b")]
    public async Task Invalid_collection_names_are_400(string name)
    {
        await AssertProblem(await Http.PutAsync($"/collections/{Uri.EscapeDataString(name)}", null), HttpStatusCode.BadRequest, "name");
    }

    [Fact]
    public async Task Invalid_collection_settings_are_400_naming_the_field()
    {
        await AssertProblem(await PostPut(new { metric = "hamming" }), HttpStatusCode.BadRequest, "metric");
        await AssertProblem(await PostPut(new { encoder = "no-such-model" }), HttpStatusCode.BadRequest, "encoder");
        await AssertProblem(await PostPut(new { encoder = "none" }), HttpStatusCode.BadRequest, "dimension");
        await AssertProblem(await PostPut(new { dimension = 0 }), HttpStatusCode.BadRequest, "dimension");
        await AssertProblem(await PostPut(new { dimension = 1_000_000 }), HttpStatusCode.BadRequest, "dimension");
        await AssertProblem(await PostPut(new { encoder = "demo", dimension = 3 }), HttpStatusCode.BadRequest, "dimension");
        await AssertProblem(await PostPut(new { dimension = 3, index = "ivf" }), HttpStatusCode.BadRequest, "index");

        Task<HttpResponseMessage> PostPut(object body) => Http.PutAsJsonAsync($"/collections/{ServerFixture.UniqueName()}", body);
    }

    [Fact]
    public async Task Quantization_is_set_on_create_shown_by_get_and_refused_where_it_does_not_apply()
    {
        string name = ServerFixture.UniqueName();
        var created = await Http.PutAsJsonAsync($"/collections/{name}", new { encoder = "none", dimension = 16, index = "exact", quantization = "binary", oversampling = 6, onDisk = true });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var info = await Json(await Http.GetAsync($"/collections/{name}"));
        Assert.Equal("binary", info.GetProperty("quantization").GetString());
        Assert.Equal(6f, info.GetProperty("oversampling").GetSingle());
        Assert.True(info.GetProperty("rescore").GetBoolean());
        Assert.True(info.GetProperty("onDisk").GetBoolean());
        string plain = ServerFixture.UniqueName();
        Assert.Equal(HttpStatusCode.Created, (await Http.PutAsJsonAsync($"/collections/{plain}", new { encoder = "none", dimension = 16, index = "exact" })).StatusCode);
        var plainInfo = await Json(await Http.GetAsync($"/collections/{plain}"));
        Assert.Equal("none", plainInfo.GetProperty("quantization").GetString());
        Assert.False(plainInfo.GetProperty("rescore").GetBoolean());
        Assert.False(plainInfo.GetProperty("onDisk").GetBoolean());

        // HNSW walks int8 codes (the default index), but not sign bits.
        string graph = ServerFixture.UniqueName();
        Assert.Equal(HttpStatusCode.Created, (await Http.PutAsJsonAsync($"/collections/{graph}", new { encoder = "none", dimension = 16, quantization = "int8" })).StatusCode);
        var graphInfo = await Json(await Http.GetAsync($"/collections/{graph}"));
        Assert.Equal(("hnsw", "int8", 3f, true), (graphInfo.GetProperty("index").GetString(), graphInfo.GetProperty("quantization").GetString(),
            graphInfo.GetProperty("oversampling").GetSingle(), graphInfo.GetProperty("rescore").GetBoolean()));
        await AssertProblem(await PostPut(new { encoder = "none", dimension = 16, quantization = "binary" }), HttpStatusCode.BadRequest, "quantization");
        await AssertProblem(await PostPut(new { encoder = "none", dimension = 16, index = "exact", quantization = "int4" }), HttpStatusCode.BadRequest, "quantization");
        await AssertProblem(await PostPut(new { encoder = "none", dimension = 16, index = "exact", oversampling = 2 }), HttpStatusCode.BadRequest, "oversampling");
        await AssertProblem(await PostPut(new { encoder = "none", dimension = 16, index = "exact", quantization = "int8", oversampling = 101 }), HttpStatusCode.BadRequest, "oversampling");

        Task<HttpResponseMessage> PostPut(object body) => Http.PutAsJsonAsync($"/collections/{ServerFixture.UniqueName()}", body);
    }

    [Fact]
    public async Task Documents_upsert_get_replace_delete_and_count()
    {
        string name = ServerFixture.UniqueName();
        await server.CreateDemoCollectionAsync(name);
        var upsert = await PostJson($"/collections/{name}/documents", """
            {"documents":[
              {"id":"cat","text":"cats are small furry pets","metadata":{"kind":"pet","year":2021,"tags":["cute","small"],"indoor":true}},
              {"text":"the stock market fell sharply","metadata":{"kind":"finance"}}
            ]}
            """);
        Assert.Equal(HttpStatusCode.OK, upsert.StatusCode);
        var ids = (await Json(upsert)).GetProperty("ids").EnumerateArray().Select(i => i.GetString()!).ToArray();
        Assert.Equal("cat", ids[0]);
        Assert.True(Guid.TryParse(ids[1], out _), "a generated id is a GUID");

        var cat = await Json(await Http.GetAsync($"/collections/{name}/documents/cat"));
        Assert.Equal("cats are small furry pets", cat.GetProperty("text").GetString());
        Assert.Equal(2021, cat.GetProperty("metadata").GetProperty("year").GetDouble());
        Assert.Equal("small", cat.GetProperty("metadata").GetProperty("tags")[1].GetString());
        Assert.True(cat.GetProperty("metadata").GetProperty("indoor").GetBoolean());
        Assert.False(cat.TryGetProperty("vector", out _));

        var withVector = await Json(await Http.GetAsync($"/collections/{name}/documents/cat?includeVector=true"));
        Assert.Equal(256, withVector.GetProperty("vector").GetArrayLength());

        await PostJson($"/collections/{name}/documents", """{"documents":[{"id":"cat","text":"a replaced text","metadata":{"kind":"other"}}]}""");
        var replaced = await Json(await Http.GetAsync($"/collections/{name}/documents/cat"));
        Assert.Equal("a replaced text", replaced.GetProperty("text").GetString());
        Assert.Equal(2, (await Json(await Http.GetAsync($"/collections/{name}/count"))).GetProperty("count").GetInt64());

        Assert.Equal(HttpStatusCode.NoContent, (await Http.DeleteAsync($"/collections/{name}/documents/cat")).StatusCode);
        await AssertProblem(await Http.GetAsync($"/collections/{name}/documents/cat"), HttpStatusCode.NotFound, "id");
        await AssertProblem(await Http.DeleteAsync($"/collections/{name}/documents/cat"), HttpStatusCode.NotFound, "id");
        Assert.Equal(1, (await Json(await Http.GetAsync($"/collections/{name}"))).GetProperty("documentCount").GetInt64());
    }

    [Fact]
    public async Task Query_by_text_ranks_shared_words_first_and_filters_apply()
    {
        string name = ServerFixture.UniqueName();
        await server.CreateDemoCollectionAsync(name);
        await PostJson($"/collections/{name}/documents", """
            {"documents":[
              {"id":"pet1","text":"cats are small furry pets","metadata":{"kind":"pet","year":2021}},
              {"id":"pet2","text":"dogs are loyal pets that bark","metadata":{"kind":"pet","year":2018}},
              {"id":"fin","text":"the stock market fell sharply today","metadata":{"kind":"finance","year":2023}},
              {"id":"food","text":"a chocolate cake recipe with cream","metadata":{"kind":"food","year":2022}}
            ]}
            """);
        var results = (await Json(await PostJson($"/collections/{name}/query", """{"text":"furry cats","k":4}""")))
            .GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(4, results.Length);
        Assert.Equal("pet1", results[0].GetProperty("id").GetString());
        Assert.Equal("cats are small furry pets", results[0].GetProperty("text").GetString());
        var scores = results.Select(r => r.GetProperty("score").GetSingle()).ToArray();
        Assert.Equal(scores.OrderDescending(), scores);

        var filtered = (await Json(await PostJson($"/collections/{name}/query", """{"text":"furry cats","k":10,"filter":{"year":{"$gte":2021}}}""")))
            .GetProperty("results").EnumerateArray().Select(r => r.GetProperty("id").GetString()).ToHashSet();
        Assert.Equal(["pet1", "fin", "food"], filtered);

        var complex = (await Json(await PostJson($"/collections/{name}/query",
            """{"text":"pets","k":10,"exact":true,"filter":{"$or":[{"kind":"food"},{"$and":[{"kind":"pet"},{"$not":{"year":{"$lt":2020}}}]}]}}""")))
            .GetProperty("results").EnumerateArray().Select(r => r.GetProperty("id").GetString()).ToHashSet();
        Assert.Equal(["pet1", "food"], complex);

        var inList = (await Json(await PostJson($"/collections/{name}/query", """{"text":"pets","k":10,"filter":{"kind":{"$in":["finance","food"]}}}""")))
            .GetProperty("results").EnumerateArray().Select(r => r.GetProperty("id").GetString()).ToHashSet();
        Assert.Equal(["fin", "food"], inList);
    }

    [Fact]
    public async Task Raw_vector_collection_with_l2_returns_distances_ascending()
    {
        string name = ServerFixture.UniqueName();
        Assert.Equal(HttpStatusCode.Created, (await Http.PutAsJsonAsync($"/collections/{name}", new { metric = "l2", dimension = 3 })).StatusCode);
        await PostJson($"/collections/{name}/documents", """
            {"documents":[{"id":"o","vector":[0,0,0]},{"id":"x","vector":[3,4,0]},{"id":"y","vector":[1,0,0]}]}
            """);
        var results = (await Json(await PostJson($"/collections/{name}/query", """{"vector":[0,0,0],"k":3}""")))
            .GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(["o", "y", "x"], results.Select(r => r.GetProperty("id").GetString()));
        Assert.Equal([0f, 1f, 5f], results.Select(r => r.GetProperty("score").GetSingle()));
        // Text needs an encoder: a raw-vector collection says so.
        await AssertProblem(await PostJson($"/collections/{name}/documents", """{"documents":[{"text":"hello"}]}"""), HttpStatusCode.BadRequest, "documents[0].vector");
        await AssertProblem(await PostJson($"/collections/{name}/query", """{"text":"hello"}"""), HttpStatusCode.BadRequest, "vector");
    }

    [Fact]
    public async Task Bad_documents_are_400_naming_the_field_and_change_nothing()
    {
        string name = ServerFixture.UniqueName();
        await server.CreateDemoCollectionAsync(name);
        await PostJson($"/collections/{name}/documents", """{"documents":[{"id":"keep","text":"original text"}]}""");
        var zeros = string.Join(",", Enumerable.Repeat("0", 255));

        await AssertProblem(await PostJson($"/collections/{name}/documents", """{"documents":[{"id":"new","text":"fine"},{"id":"keep","vector":[1,2,3]}]}"""),
            HttpStatusCode.BadRequest, "documents[1].vector");
        await AssertProblem(await PostJson($"/collections/{name}/documents", $$"""{"documents":[{"id":"keep","vector":["NaN",{{zeros}}]}]}"""),
            HttpStatusCode.BadRequest, "documents[0].vector");
        await AssertProblem(await PostJson($"/collections/{name}/documents", $$"""{"documents":[{"id":"keep","vector":["Infinity",{{zeros}}]}]}"""),
            HttpStatusCode.BadRequest, "documents[0].vector");
        await AssertProblem(await PostJson($"/collections/{name}/documents", """{"documents":[{"id":"keep","text":"  "}]}"""),
            HttpStatusCode.BadRequest, "documents[0].text");
        await AssertProblem(await PostJson($"/collections/{name}/documents", """{"documents":[{"id":"keep","text":"x","metadata":{"nested":{"a":1}}}]}"""),
            HttpStatusCode.BadRequest, "documents[0].metadata.nested");
        await AssertProblem(await PostJson($"/collections/{name}/documents", """{"documents":[{"id":"a/b","text":"x"}]}"""),
            HttpStatusCode.BadRequest, "documents[0].id");
        await AssertProblem(await PostJson($"/collections/{name}/documents", """{"documents":[]}"""), HttpStatusCode.BadRequest, "documents");
        await AssertProblem(await PostJson($"/collections/{name}/documents", """{"documents":[{"text":"x"}"""), HttpStatusCode.BadRequest);
        await AssertProblem(await PostJson("/collections/no-such-collection/documents", """{"documents":[{"text":"x"}]}"""), HttpStatusCode.NotFound);

        var tooMany = new JsonObject { ["documents"] = new JsonArray([.. Enumerable.Range(0, 1001).Select(i => (JsonNode)new JsonObject { ["text"] = $"doc {i}" })]) };
        await AssertProblem(await PostJson($"/collections/{name}/documents", tooMany.ToJsonString()), HttpStatusCode.RequestEntityTooLarge, "documents");

        var collection = await Json(await Http.GetAsync($"/collections/{name}"));
        Assert.Equal(1, collection.GetProperty("documentCount").GetInt64());
        Assert.Equal("original text", (await Json(await Http.GetAsync($"/collections/{name}/documents/keep"))).GetProperty("text").GetString());
        await AssertProblem(await Http.GetAsync($"/collections/{name}/documents/new"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Bad_queries_are_400_naming_the_field()
    {
        string name = ServerFixture.UniqueName();
        await server.CreateDemoCollectionAsync(name);
        await PostJson($"/collections/{name}/documents", """{"documents":[{"text":"hello world"}]}""");
        await AssertProblem(await PostJson($"/collections/{name}/query", """{"text":"x","k":0}"""), HttpStatusCode.BadRequest, "k");
        await AssertProblem(await PostJson($"/collections/{name}/query", """{"text":"x","k":1001}"""), HttpStatusCode.BadRequest, "k");
        await AssertProblem(await PostJson($"/collections/{name}/query", """{"text":"x","k":5,"ef":2}"""), HttpStatusCode.BadRequest, "ef");
        await AssertProblem(await PostJson($"/collections/{name}/query", """{"k":5}"""), HttpStatusCode.BadRequest, "text");
        await AssertProblem(await PostJson($"/collections/{name}/query", """{"vector":[1,2]}"""), HttpStatusCode.BadRequest, "vector");
        await AssertProblem(await PostJson($"/collections/{name}/query", """{"text":"x","filter":{"year":{"$regex":"a"}}}"""), HttpStatusCode.BadRequest, "filter.year.$regex");
        await AssertProblem(await PostJson($"/collections/{name}/query", """{"text":"x","filter":[1]}"""), HttpStatusCode.BadRequest, "filter");
        await AssertProblem(await PostJson($"/collections/{name}/query", """{"text":"x","k":"ten"}"""), HttpStatusCode.BadRequest);
        await AssertProblem(await PostJson($"/collections/{name}/query", "not json"), HttpStatusCode.BadRequest);
        await AssertProblem(await PostJson("/collections/missing/query", """{"text":"x"}"""), HttpStatusCode.NotFound, "name");
        // The server keeps serving after all of that.
        Assert.Single((await Json(await PostJson($"/collections/{name}/query", """{"text":"hello"}"""))).GetProperty("results").EnumerateArray());
    }

    [Fact]
    public async Task Embed_returns_unit_vectors_and_lists_models()
    {
        var response = await Json(await PostJson("/embed", """{"texts":["hello world","vector database"],"encoder":"demo"}"""));
        var embeddings = response.GetProperty("embeddings").EnumerateArray().ToArray();
        Assert.Equal(2, embeddings.Length);
        foreach (var embedding in embeddings)
        {
            var v = embedding.EnumerateArray().Select(x => x.GetDouble()).ToArray();
            Assert.Equal(256, v.Length);
            Assert.Equal(1.0, Math.Sqrt(v.Sum(x => x * x)), 1e-4);
        }
        await AssertProblem(await PostJson("/embed", """{"texts":[]}"""), HttpStatusCode.BadRequest, "texts");
        await AssertProblem(await PostJson("/embed", """{"texts":["x"],"encoder":"nope"}"""), HttpStatusCode.BadRequest, "encoder");
        var models = await Json(await Http.GetAsync("/models"));
        Assert.Contains(models.GetProperty("models").EnumerateArray(), m => m.GetProperty("name").GetString() == "demo" && m.GetProperty("dimension").GetInt32() == 256);
        // The test server pins its default to demo (VectorStore:DefaultEncoder), and /models says so.
        Assert.Equal("demo", models.GetProperty("defaultEncoder").GetString());
    }

    [Fact]
    public async Task Health_and_openapi_are_served()
    {
        Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync("/readyz")).StatusCode);
        var openApi = await Json(await Http.GetAsync("/openapi/v1.json"));
        var paths = openApi.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/collections/{name}/query", out _));
        Assert.True(paths.TryGetProperty("/collections/{name}/documents", out _));
        Assert.True(paths.TryGetProperty("/embed", out _));
    }

    [Fact]
    public async Task Documents_page_by_cursor_with_vectors_on_request_and_bad_paging_is_a_problem()
    {
        string name = ServerFixture.UniqueName();
        Assert.True((await Http.PutAsJsonAsync($"/collections/{name}", new { metric = "l2", encoder = "none", dimension = 2 })).IsSuccessStatusCode);
        var docs = Enumerable.Range(0, 7).Select(i => new { id = $"k{6 - i}", vector = new[] { i, 1f } }).ToArray();
        Assert.True((await Http.PostAsJsonAsync($"/collections/{name}/documents", new { documents = docs })).IsSuccessStatusCode);

        var seen = new List<string>();
        string? after = null;
        int pages = 0;
        do
        {
            var page = await Json(await Http.GetAsync($"/collections/{name}/documents?limit=3&includeVectors=true{(after is null ? "" : "&after=" + Uri.EscapeDataString(after))}"));
            Assert.Equal(7, page.GetProperty("total").GetInt64());
            foreach (var document in page.GetProperty("documents").EnumerateArray())
            {
                seen.Add(document.GetProperty("id").GetString()!);
                Assert.Equal(2, document.GetProperty("vector").GetArrayLength());
            }
            // Null members are left out of responses: the last page has no nextAfter.
            after = page.TryGetProperty("nextAfter", out var next) ? next.GetString() : null;
            pages++;
        }
        while (after is not null);
        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"k{i}"), seen);

        var withoutVectors = await Json(await Http.GetAsync($"/collections/{name}/documents?after=k4"));
        Assert.Equal(["k5", "k6"], withoutVectors.GetProperty("documents").EnumerateArray().Select(d => d.GetProperty("id").GetString()));
        Assert.All(withoutVectors.GetProperty("documents").EnumerateArray(), d => Assert.False(d.TryGetProperty("vector", out _)));
        Assert.False(withoutVectors.TryGetProperty("nextAfter", out _));

        await AssertProblem(await Http.GetAsync($"/collections/{name}/documents?limit=0"), HttpStatusCode.BadRequest, "limit");
        await AssertProblem(await Http.GetAsync($"/collections/{name}/documents?limit=1001"), HttpStatusCode.BadRequest, "limit");
        await AssertProblem(await Http.GetAsync($"/collections/{ServerFixture.UniqueName()}/documents?after=x"), HttpStatusCode.NotFound, "name");
    }
}

public class RequestLimitTests(SmallLimitServerFixture server) : IClassFixture<SmallLimitServerFixture>
{
    [Fact]
    public async Task Body_over_the_limit_is_413_and_nothing_is_written()
    {
        string name = ServerFixture.UniqueName();
        await server.CreateDemoCollectionAsync(name);
        string big = $$"""{"documents":[{"text":"{{new string('a', 2 * 1024 * 1024)}}"}]}""";
        // Expect: 100-continue lets the server refuse before the client sends the body; without it the early 413
        // races the upload and the client may only see a broken pipe.
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/collections/{name}/documents") { Content = new StringContent(big, Encoding.UTF8, "application/json") };
        request.Headers.ExpectContinue = true;
        var response = await server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var count = JsonDocument.Parse(await server.Http.GetStringAsync($"/collections/{name}/count")).RootElement.GetProperty("count").GetInt64();
        Assert.Equal(0, count);
    }
}
