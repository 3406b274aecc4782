using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using VectorStoreDb.Engine;
using V1 = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.IntegrationTests.Cluster;

/// <summary>
/// Batch get, scroll, batch queries, RAG chat and <c>/v1</c> chat through the real server in cluster mode (one node,
/// REST and gRPC) answer as a single-node server does on the same documents, and are served by the cluster (the
/// node's own engine never holds the collection). Snapshots and projection refit are refused, naming why.
/// </summary>
public sealed class ClusterRoutesTests(ClusterStatusJsonTests.OneNodeCluster cluster, ServerFixture single)
    : IClassFixture<ClusterStatusJsonTests.OneNodeCluster>, IClassFixture<ServerFixture>
{
    private static readonly string[] Topics = ["harbour", "glacier", "orchard", "volcano", "library", "meadow"];

    [Fact]
    public async Task Bulk_reads_batch_queries_and_chat_equal_a_single_node_server()
    {
        string name = await CreateOnBothAsync("routes");
        Assert.DoesNotContain(cluster.Services.GetRequiredService<VectorStoreEngine>().ListCollections(), c => c.Settings.Name == name);

        // REST: the same JSON from both servers, request for request.
        object[] bodies =
        [
            new { ids = new[] { "p-040", "missing", "p-002", "p-040", "p-077" }, includeVectors = true },
        ];
        foreach (var body in bodies)
        {
            await AssertSameJsonAsync($"/collections/{name}/documents/batch-get", body);
        }
        string? after = null;
        int pages = 0;
        do
        {
            var page = await AssertSameJsonAsync($"/collections/{name}/documents/scroll",
                new { filter = JsonNode.Parse("""{"season":{"$gte":1}}"""), orderBy = new { field = "season", descending = true }, limit = 13, after });
            after = page["next"]?.GetValue<string>();
            pages++;
        }
        while (after is not null);
        Assert.True(pages >= 4, $"{pages} pages");
        var batch = await AssertSameJsonAsync($"/collections/{name}/query/batch", new
        {
            queries = new object[]
            {
                new { text = "glacier visitors", k = 5, exact = true },
                new { text = "orchard season", k = 4, exact = true, filter = new { season = 2 } },
                new { text = "volcano note", k = 6, exact = true, mode = "hybrid" },
            },
        });
        Assert.Equal(3, batch["results"]!.AsArray().Count);
        var refused = await cluster.Http.PostAsJsonAsync($"/collections/{name}/query/batch", new { queries = new object[] { new { text = "a", k = 1 }, new { text = "b", k = 0 } } });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("queries[1].k", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Chat, plain and OpenAI-shaped: the same passages (timings differ, so only citations and the answer compare).
        var chat = new { question = "Who visits the glacier in season 2?", k = 4 };
        var chatWant = await PostJsonAsync(single.Http, $"/collections/{name}/chat", chat);
        var chatGot = await PostJsonAsync(cluster.Http, $"/collections/{name}/chat", chat);
        AssertSameJson(chatWant["citations"], chatGot["citations"]);
        Assert.Equal(chatWant["answer"]!.ToJsonString(), chatGot["answer"]!.ToJsonString());
        Assert.NotEmpty(chatGot["citations"]!.AsArray());
        var openAi = new { model = name, messages = new[] { new { role = "user", content = "What grows in the orchard?" } } };
        var completionWant = await PostJsonAsync(single.Http, "/v1/chat/completions", openAi);
        var completionGot = await PostJsonAsync(cluster.Http, "/v1/chat/completions", openAi);
        AssertSameJson(completionWant["citations"], completionGot["citations"]);
        Assert.Equal(completionWant["choices"]![0]!["message"]!.ToJsonString(), completionGot["choices"]![0]!["message"]!.ToJsonString());
        var models = await cluster.Http.GetFromJsonAsync<JsonObject>("/v1/models");
        Assert.Contains(models!["data"]!.AsArray(), m => m!["id"]!.GetValue<string>() == name);
        Assert.Equal(HttpStatusCode.OK, (await cluster.Http.GetAsync($"/v1/models/{name}")).StatusCode);

        // The dashboard's server panel counts the cluster's documents.
        var stats = await cluster.Http.GetFromJsonAsync<JsonObject>("/stats");
        Assert.True(stats!["documents"]!.GetValue<long>() >= 90);
    }

    [Fact]
    public async Task Grpc_bulk_reads_batch_queries_and_chat_equal_a_single_node_server()
    {
        string name = await CreateOnBothAsync("grpc");
        V1.Documents.DocumentsClient Documents(ServerFixture s) => new(s.Channel);
        V1.Search.SearchClient Search(ServerFixture s) => new(s.Channel);

        var get = new V1.GetDocumentsRequest { Collection = name, Ids = { "p-011", "nope", "p-089", "p-011" }, IncludeVectors = true };
        var gotDocs = await Documents(cluster).GetBatchAsync(get);
        Assert.Equal(await Documents(single).GetBatchAsync(get), gotDocs);
        Assert.Equal(["p-011", "p-089", "p-011"], gotDocs.Documents.Select(d => d.Id));

        var scroll = new V1.ScrollRequest { Collection = name, Limit = 20, Filter = Struct.Parser.ParseJson("""{"season":{"$lte":2}}""") };
        int seen = 0;
        while (true)
        {
            var want = await Documents(single).ScrollAsync(scroll);
            var got = await Documents(cluster).ScrollAsync(scroll);
            Assert.Equal(want, got);
            seen += got.Documents.Count;
            if (!got.HasNext)
            {
                break;
            }
            scroll.After = got.Next;
        }
        Assert.Equal(Enumerable.Range(0, 90).Count(i => i % 4 <= 2), seen);

        var batch = new V1.QueryBatchRequest
        {
            Collection = name,
            Queries =
            {
                new V1.QueryRequest { Text = "meadow", K = 5, Exact = true },
                new V1.QueryRequest { Text = "harbour note", K = 7, Exact = true, Filter = Struct.Parser.ParseJson("""{"season":3}""") },
                new V1.QueryRequest { Text = "library volcano", K = 4, Mode = "hybrid", Exact = true },
            },
        };
        var batchWant = await Search(single).QueryBatchAsync(batch);
        var batchGot = await Search(cluster).QueryBatchAsync(batch);
        Assert.Equal(batchWant.Responses.Select(r => r.Results.Select(h => (h.Id, h.Text))), batchGot.Responses.Select(r => r.Results.Select(h => (h.Id, h.Text))));
        Assert.Equal(batchWant.Responses.SelectMany(r => r.Results.Select(h => h.Score)), batchGot.Responses.SelectMany(r => r.Results.Select(h => h.Score)),
            (a, b) => Math.Abs(a - b) <= 1e-5f);
        batch.Queries[1].K = 0;
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await Search(cluster).QueryBatchAsync(batch));
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Contains("queries[1].k", refused.Status.Detail, StringComparison.Ordinal);

        var chat = new V1.ChatRequest { Collection = name, Question = "meadow visitors", K = 3 };
        Assert.Equal(await CitationsAsync(single, chat), await CitationsAsync(cluster, chat));
        Assert.NotEmpty(await CitationsAsync(cluster, chat));
    }

    [Fact]
    public async Task Snapshots_and_refit_are_refused_in_cluster_mode_naming_why()
    {
        string name = ServerFixture.UniqueName("refuse");
        (await cluster.Http.PutAsJsonAsync($"/collections/{name}", new { encoder = "none", dimension = 2, replicas = 1 })).EnsureSuccessStatusCode();

        foreach (var response in new[]
        {
            await cluster.Http.PostAsync($"/collections/{name}/snapshots", null),
            await cluster.Http.GetAsync($"/collections/{name}/snapshots"),
            await cluster.Http.GetAsync($"/collections/{name}/snapshots/any"),
            await cluster.Http.DeleteAsync($"/collections/{name}/snapshots/any"),
            await cluster.Http.PostAsJsonAsync($"/collections/{name}/snapshots/any/restore", new { target = "copy" }),
            await cluster.Http.PostAsync($"/collections/{name}/projection/refit", null),
        })
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
            var problem = await response.Content.ReadFromJsonAsync<JsonObject>();
            Assert.Contains("cluster mode", problem!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Contains("Nothing was changed", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        }
        // An unknown collection is still NotFound for the refit, as on one node.
        Assert.Equal(HttpStatusCode.NotFound, (await cluster.Http.PostAsync("/collections/no-such-collection/projection/refit", null)).StatusCode);
        Assert.Empty(cluster.Services.GetRequiredService<VectorStoreEngine>().ListSnapshots(name));

        var snapshots = new V1.Snapshots.SnapshotsClient(cluster.Channel);
        var create = await Assert.ThrowsAsync<RpcException>(async () => await snapshots.CreateAsync(new V1.CreateSnapshotRequest { Collection = name }));
        Assert.Equal(StatusCode.FailedPrecondition, create.StatusCode);
        Assert.Contains("cluster mode", create.Status.Detail, StringComparison.Ordinal);
        var list = await Assert.ThrowsAsync<RpcException>(async () => await snapshots.ListAsync(new V1.ListSnapshotsRequest { Collection = name }));
        Assert.Equal(StatusCode.FailedPrecondition, list.StatusCode);
    }

    /// <summary>The same 90 texts (demo encoder, 3 shards) on both servers.</summary>
    private async Task<string> CreateOnBothAsync(string prefix)
    {
        string name = ServerFixture.UniqueName(prefix);
        var documents = Enumerable.Range(0, 90).Select(i => new
        {
            id = $"p-{i:D3}",
            text = $"The {Topics[i % Topics.Length]} note {i}: visitors to the {Topics[(i * 7) % Topics.Length]} come in season {i % 4}.",
            metadata = new { season = i % 4 },
        }).ToArray();
        foreach (var server in new[] { single, cluster })
        {
            // No text options: the BM25 index is on by default for an encoder collection, in cluster mode as on one node.
            object create = server == cluster ? new { shards = 3, replicas = 1 } : new { shards = 3 };
            (await server.Http.PutAsJsonAsync($"/collections/{name}", create)).EnsureSuccessStatusCode();
            (await server.Http.PostAsJsonAsync($"/collections/{name}/documents", new { documents })).EnsureSuccessStatusCode();
        }
        return name;
    }

    private async Task<JsonNode> AssertSameJsonAsync(string path, object body)
    {
        var want = await PostJsonAsync(single.Http, path, body);
        var got = await PostJsonAsync(cluster.Http, path, body);
        AssertSameJson(want, got);
        return got;
    }

    /// <summary>Equal JSON, scores to 1e-5 (BM25 sums the shards' statistics in another order than one node does).</summary>
    private static void AssertSameJson(JsonNode? want, JsonNode? got, string at = "$")
    {
        switch (want)
        {
            case JsonObject o:
                var other = Assert.IsType<JsonObject>(got);
                Assert.Equal(o.Select(p => p.Key), other.Select(p => p.Key));
                foreach (var (key, value) in o)
                {
                    AssertSameJson(value, other[key], $"{at}.{key}");
                }
                break;
            case JsonArray a:
                var array = Assert.IsType<JsonArray>(got);
                Assert.True(a.Count == array.Count, $"{at}: {a.Count} vs {array.Count} items");
                for (int i = 0; i < a.Count; i++)
                {
                    AssertSameJson(a[i], array[i], $"{at}[{i}]");
                }
                break;
            case JsonValue v when v.GetValueKind() == JsonValueKind.Number:
                double x = v.GetValue<double>(), y = got!.GetValue<double>();
                Assert.True(Math.Abs(x - y) <= 1e-5 * Math.Max(1, Math.Abs(x)), $"{at}: {x} vs {y}");
                break;
            default:
                Assert.True(want?.ToJsonString() == got?.ToJsonString(), $"{at}: {want?.ToJsonString()} vs {got?.ToJsonString()}");
                break;
        }
    }

    private static async Task<JsonNode> PostJsonAsync(HttpClient http, string path, object body)
    {
        var response = await http.PostAsJsonAsync(path, body);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    private static async Task<List<string>> CitationsAsync(ServerFixture server, V1.ChatRequest request)
    {
        using var call = new V1.Rag.RagClient(server.Channel).Chat(request);
        var citations = new List<string>();
        await foreach (var e in call.ResponseStream.ReadAllAsync())
        {
            if (e.Citations is { } c)
            {
                citations.AddRange(c.Citations.Select(x => $"{x.DocumentId}/{x.Chunk}/{x.Text}"));
            }
        }
        return citations;
    }
}
