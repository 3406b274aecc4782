using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using V1 = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.IntegrationTests.Rest;

/// <summary>
/// Batch queries through the real server: REST <c>POST /collections/{name}/query/batch</c> and gRPC
/// <c>Search.QueryBatch</c> answer each query exactly as the single query endpoint does (exact, HNSW, filtered,
/// text, two shards), and refuse bad batches naming the query at fault while the server keeps serving.
/// </summary>
public class QueryBatchApiTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const int Dimension = 8;

    private static float[][] Vectors(int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, Dimension).Select(_ => (float)random.NextDouble() * 2 - 1).ToArray())];
    }

    private async Task<string> CreateVectorCollectionAsync()
    {
        string name = ServerFixture.UniqueName("qb");
        Assert.Equal(HttpStatusCode.Created, (await server.Http.PutAsJsonAsync($"/collections/{name}", new { encoder = "none", dimension = Dimension, metric = "l2", shards = 2 })).StatusCode);
        var documents = Vectors(300, 7).Select((v, i) => new { id = $"d{i}", vector = v, metadata = new Dictionary<string, object> { ["kind"] = i % 3 == 0 ? "a" : "b" } });
        Assert.Equal(HttpStatusCode.OK, (await server.Http.PostAsJsonAsync($"/collections/{name}/documents", new { documents })).StatusCode);
        return name;
    }

    private Task<HttpResponseMessage> PostJson(string path, string json) =>
        server.Http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    private static async Task AssertProblem(HttpResponseMessage response, HttpStatusCode status, string? field)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        if (field is not null)
        {
            Assert.Equal(field, problem.GetProperty("field").GetString());
        }
    }

    private static List<(string Id, float Score)> Hits(JsonElement response) =>
        [.. response.GetProperty("results").EnumerateArray().Select(h => (h.GetProperty("id").GetString()!, h.GetProperty("score").GetSingle()))];

    /// <summary>
    /// The same documents in the same order; scores equal up to float rounding, since a batched exact scan sums each
    /// distance in another order than the one-query kernel.
    /// </summary>
    internal static void AssertSameHits(IReadOnlyList<(string Id, float Score)> expected, IReadOnlyList<(string Id, float Score)> actual)
    {
        Assert.Equal(expected.Select(h => h.Id), actual.Select(h => h.Id));
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Score, actual[i].Score, 1e-5f * Math.Max(1f, Math.Abs(expected[i].Score)));
        }
    }

    [Fact]
    public async Task Rest_batch_answers_each_query_as_the_single_query_endpoint_does()
    {
        string name = await CreateVectorCollectionAsync();
        var queries = Vectors(40, 11);
        // Exact and HNSW groups of different k, a filtered query (run on its own) and one with vectors included.
        var bodies = queries.Select(object (q, i) => (i % 4) switch
        {
            0 => new { vector = q, k = 5, exact = true },
            1 => new { vector = q, k = 7, ef = 40 },
            2 => new { vector = q, k = 3, filter = new { kind = "a" } },
            _ => new { vector = q, k = 4, exact = true, includeVectors = true },
        }).ToList();

        var response = await server.Http.PostAsJsonAsync($"/collections/{name}/query/batch", new { queries = bodies });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("results").EnumerateArray().ToList();

        Assert.Equal(bodies.Count, results.Count);
        for (int i = 0; i < bodies.Count; i++)
        {
            var single = await (await server.Http.PostAsJsonAsync($"/collections/{name}/query", bodies[i])).Content.ReadFromJsonAsync<JsonElement>();
            var expected = Hits(single);
            Assert.Equal(new[] { 5, 7, 3, 4 }[i % 4], expected.Count);
            AssertSameHits(expected, Hits(results[i]));
            if (i % 4 == 3)
            {
                Assert.Equal(Dimension, results[i].GetProperty("results")[0].GetProperty("vector").GetArrayLength());
            }
        }
    }

    [Fact]
    public async Task Rest_batch_of_texts_embeds_them_and_ranks_like_single_queries()
    {
        string name = ServerFixture.UniqueName("qbt");
        Assert.Equal(HttpStatusCode.Created, (await server.Http.PutAsJsonAsync($"/collections/{name}", new { encoder = "demo", text = true })).StatusCode);
        string[] texts = ["the cat sat on the mat", "dogs bark at night", "stock markets fell sharply", "a kitten chased a mouse"];
        var documents = texts.Select((t, i) => new { id = $"t{i}", text = t });
        Assert.Equal(HttpStatusCode.OK, (await server.Http.PostAsJsonAsync($"/collections/{name}/documents", new { documents })).StatusCode);

        var batch = await (await server.Http.PostAsJsonAsync($"/collections/{name}/query/batch",
            new { queries = new object[] { new { text = "cat on a mat", k = 2 }, new { text = "markets fell", k = 1 }, new { text = "cat", mode = "text", k = 1 } } }))
            .Content.ReadFromJsonAsync<JsonElement>();

        var results = batch.GetProperty("results");
        Assert.Equal(3, results.GetArrayLength());
        Assert.Equal("t0", results[0].GetProperty("results")[0].GetProperty("id").GetString());
        Assert.Equal("t2", results[1].GetProperty("results")[0].GetProperty("id").GetString());
        Assert.Equal("t0", results[2].GetProperty("results")[0].GetProperty("id").GetString());
        var single = await (await server.Http.PostAsJsonAsync($"/collections/{name}/query", new { text = "cat on a mat", k = 2 })).Content.ReadFromJsonAsync<JsonElement>();
        AssertSameHits(Hits(single), Hits(results[0]));
    }

    [Fact]
    public async Task Rest_bad_batches_are_refused_naming_the_query_and_change_nothing()
    {
        string name = await CreateVectorCollectionAsync();
        string ok = "[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]";
        string path = $"/collections/{name}/query/batch";

        await AssertProblem(await PostJson(path, "{}"), HttpStatusCode.BadRequest, "queries");
        await AssertProblem(await PostJson(path, """{"queries":[]}"""), HttpStatusCode.BadRequest, "queries");
        await AssertProblem(await PostJson(path, $$"""{"queries":[{"vector":{{ok}}},null]}"""), HttpStatusCode.BadRequest, "queries[1]");
        await AssertProblem(await PostJson(path, $$"""{"queries":[{"vector":{{ok}}},{"vector":[1,2,3]}]}"""), HttpStatusCode.BadRequest, "queries[1].vector");
        await AssertProblem(await PostJson(path, $$"""{"queries":[{"vector":{{ok}},"k":0}]}"""), HttpStatusCode.BadRequest, "queries[0].k");
        await AssertProblem(await PostJson(path, $$"""{"queries":[{"vector":{{ok}}},{"vector":{{ok}},"k":5,"ef":2}]}"""), HttpStatusCode.BadRequest, "queries[1].ef");
        await AssertProblem(await PostJson(path, "{\"queries\":[{\"vector\":" + ok + "},{\"vector\":" + ok + ",\"filter\":{\"kind\":{\"$regex\":\"a\"}}}]}"), HttpStatusCode.BadRequest, "queries[1].filter.kind.$regex");
        await AssertProblem(await PostJson(path, $$"""{"queries":[{"vector":{{ok}},"mode":"sideways"}]}"""), HttpStatusCode.BadRequest, "queries[0].mode");
        await AssertProblem(await PostJson(path, """{"queries":[{"text":"no encoder here"}]}"""), HttpStatusCode.BadRequest, "queries[0].vector");
        await AssertProblem(await PostJson(path, $$"""{"queries":[{"vector":{{ok}},"colour":"red"}]}"""), HttpStatusCode.BadRequest, null);
        await AssertProblem(await PostJson(path, """{"queries":"""), HttpStatusCode.BadRequest, null);
        await AssertProblem(await PostJson($"/collections/{ServerFixture.UniqueName("missing")}/query/batch", $$"""{"queries":[{"vector":{{ok}}}]}"""), HttpStatusCode.NotFound, "name");

        var after = await PostJson(path, $$"""{"queries":[{"vector":{{ok}},"k":2}]}""");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(2, (await after.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("results")[0].GetProperty("results").GetArrayLength());
        Assert.Equal(300, (await server.Http.GetFromJsonAsync<JsonElement>($"/collections/{name}/count")).GetProperty("count").GetInt64());
    }

    [Fact]
    public async Task Grpc_batch_matches_single_queries_and_refuses_bad_batches()
    {
        string name = await CreateVectorCollectionAsync();
        var search = new V1.Search.SearchClient(server.Channel);
        var request = new V1.QueryBatchRequest { Collection = name };
        var queries = Vectors(20, 5);
        for (int i = 0; i < queries.Length; i++)
        {
            var query = new V1.QueryRequest { Vector = { queries[i] }, K = 6, Exact = i % 2 == 0 };
            if (i % 5 == 4)
            {
                query.Filter = new Struct { Fields = { ["kind"] = Value.ForString("b") } };
            }
            // Naming the batch's own collection again is allowed.
            if (i == 3)
            {
                query.Collection = name;
            }
            request.Queries.Add(query);
        }

        var response = await search.QueryBatchAsync(request);

        Assert.Equal(queries.Length, response.Responses.Count);
        for (int i = 0; i < queries.Length; i++)
        {
            var single = request.Queries[i].Clone();
            single.Collection = name;
            var expected = await search.QueryAsync(single);
            Assert.Equal(6, expected.Results.Count);
            AssertSameHits([.. expected.Results.Select(r => (r.Id, r.Score))], [.. response.Responses[i].Results.Select(r => (r.Id, r.Score))]);
        }

        async Task Refused(StatusCode code, string field, V1.QueryBatchRequest bad)
        {
            var error = await Assert.ThrowsAsync<RpcException>(async () => await search.QueryBatchAsync(bad));
            Assert.Equal(code, error.StatusCode);
            Assert.Equal(field, error.Trailers.GetValue("field"));
        }
        await Refused(StatusCode.InvalidArgument, "queries", new V1.QueryBatchRequest { Collection = name });
        await Refused(StatusCode.InvalidArgument, "queries[1].collection",
            new V1.QueryBatchRequest { Collection = name, Queries = { new V1.QueryRequest { Vector = { queries[0] } }, new V1.QueryRequest { Collection = "other", Vector = { queries[0] } } } });
        await Refused(StatusCode.InvalidArgument, "queries[0].k",
            new V1.QueryBatchRequest { Collection = name, Queries = { new V1.QueryRequest { Vector = { queries[0] }, K = 100_000 } } });
        await Refused(StatusCode.InvalidArgument, "queries[1].vector",
            new V1.QueryBatchRequest { Collection = name, Queries = { new V1.QueryRequest { Vector = { queries[0] } }, new V1.QueryRequest { Vector = { float.NaN, 1, 2, 3, 4, 5, 6, 7 } } } });
        await Refused(StatusCode.NotFound, "name",
            new V1.QueryBatchRequest { Collection = ServerFixture.UniqueName("missing"), Queries = { new V1.QueryRequest { Vector = { queries[0] } } } });

        var again = await search.QueryBatchAsync(new V1.QueryBatchRequest { Collection = name, Queries = { new V1.QueryRequest { Vector = { queries[0] }, K = 2 } } });
        Assert.Equal(2, Assert.Single(again.Responses).Results.Count);
    }
}
