using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using StatusCode = Grpc.Core.StatusCode;
using V1 = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.IntegrationTests.Security;

/// <summary>
/// What an attacker or a clumsy client sends, on every route family: each answer is a 4xx problem (gRPC: a status
/// that is neither OK nor INTERNAL), the server stays healthy and a sentinel document is untouched.
/// </summary>
public class HostileInputTests(HostileServerFixture server) : IClassFixture<HostileServerFixture>, IAsyncLifetime
{
    private string _sentinel = "";
    private string _sentinelDocument = "";
    private long _sentinelCount;

    public async Task InitializeAsync()
    {
        _sentinel = ServerFixture.UniqueName("hostile");
        await server.CreateDemoCollectionAsync(_sentinel);
        (await server.Http.PostAsJsonAsync($"/collections/{_sentinel}/documents", new
        {
            documents = new object[]
            {
                new { id = "sentinel", text = "the sentinel stays as it is", metadata = new { kind = "sentinel", n = 1 } },
                new { id = "other", text = "another document", metadata = new { kind = "other" } },
            },
        })).EnsureSuccessStatusCode();
        (await server.Http.PostAsJsonAsync($"/collections/{_sentinel}/snapshots", new { name = "snap" })).EnsureSuccessStatusCode();
        _sentinelDocument = await server.Http.GetStringAsync($"/collections/{_sentinel}/documents/sentinel?includeVector=true");
        _sentinelCount = await CountAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<long> CountAsync() =>
        (await server.Http.GetFromJsonAsync<JsonElement>($"/collections/{_sentinel}/count")).GetProperty("count").GetInt64();

    /// <summary>The server answers, the sentinel collection and document are as they were.</summary>
    private async Task AssertUnharmedAsync()
    {
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/healthz")).StatusCode);
        Assert.Equal(_sentinelDocument, await server.Http.GetStringAsync($"/collections/{_sentinel}/documents/sentinel?includeVector=true"));
        Assert.Equal(_sentinelCount, await CountAsync());
        var snapshots = await server.Http.GetFromJsonAsync<JsonElement>($"/collections/{_sentinel}/snapshots");
        Assert.Contains(snapshots.GetProperty("snapshots").EnumerateArray(), s => s.GetProperty("name").GetString() == "snap");
    }

    /// <summary>A request in the suite: <c>{c}</c> in the path stands for the sentinel collection.</summary>
    public sealed record Case(string Method, string Path, string? Body, int? Status = null, string? Field = null, string? Detail = null);

    private async Task<List<string>> RunAsync(IEnumerable<Case> cases)
    {
        var failures = new List<string>();
        foreach (var c in cases)
        {
            string path = c.Path.Replace("{c}", _sentinel, StringComparison.Ordinal);
            using var request = new HttpRequestMessage(new HttpMethod(c.Method), path);
            if (c.Body is not null)
            {
                request.Content = new StringContent(c.Body.Replace("{c}", _sentinel, StringComparison.Ordinal), Encoding.UTF8, "application/json");
                // A body the server refuses by its length alone may be answered and the connection closed while the
                // client is still writing it (a broken pipe instead of the 413); waiting for 100-continue is how an
                // HTTP client avoids sending what the server will not read.
                request.Headers.ExpectContinue = c.Body.Length > 64 * 1024;
            }
            using var response = await server.Http.SendAsync(request);
            string text = await response.Content.ReadAsStringAsync();
            string what = $"{c.Method} {c.Path} {Shorten(c.Body)} -> {(int)response.StatusCode} {Shorten(text)}";
            if ((int)response.StatusCode is < 400 or >= 500 || (c.Status is { } status && (int)response.StatusCode != status))
            {
                failures.Add($"status: {what}");
                continue;
            }
            // Under /v1 the refusal is OpenAI's error envelope (what OpenAI SDKs read), elsewhere problem details.
            bool openAi = path.StartsWith("/v1/", StringComparison.Ordinal);
            if (response.Content.Headers.ContentType?.MediaType != (openAi ? "application/json" : "application/problem+json"))
            {
                failures.Add($"not {(openAi ? "an OpenAI error" : "problem details")}: {what}");
                continue;
            }
            var problem = JsonDocument.Parse(text).RootElement;
            if (openAi && !problem.TryGetProperty("error", out problem))
            {
                failures.Add($"no error object: {what}");
                continue;
            }
            if (c.Field is not null && (!problem.TryGetProperty(openAi ? "param" : "field", out var field) || field.GetString() != c.Field))
            {
                failures.Add($"field (wanted {c.Field}): {what}");
            }
            if (c.Detail is not null && problem.GetProperty(openAi ? "message" : "detail").GetString()?.Contains(c.Detail, StringComparison.Ordinal) != true)
            {
                failures.Add($"detail (wanted '{c.Detail}'): {what}");
            }
        }
        await AssertUnharmedAsync();
        return failures;
    }

    private static string Shorten(string? s) => s is null ? "" : s.Length > 160 ? s[..160] + "…" : s;

    private static void AssertNone(List<string> failures) => Assert.True(failures.Count == 0, string.Join("\n", failures));

    // Every route that takes a JSON body, with a minimal valid body each, so cases can break one thing at a time.
    private static readonly (string Method, string Path)[] BodyRoutes =
    [
        ("PUT", "/collections/{new}"),
        ("POST", "/collections/{c}/documents"),
        ("POST", "/collections/{c}/query"),
        ("POST", "/collections/{c}/snapshots"),
        ("POST", "/collections/{c}/snapshots/snap/restore"),
        ("POST", "/collections/{c}/chat"),
        ("POST", "/v1/chat/completions"),
        ("POST", "/embed"),
        ("POST", "/v1/embeddings"),
    ];

    private static string New() => ServerFixture.UniqueName("never");

    [Fact]
    public async Task Malformed_json_is_a_400_on_every_route_with_a_body()
    {
        string[] bodies = ["{", "{\"a\":", "{} trailing", "[]", "\"text\"", "{\"a\" 1}", "{'single':'quotes'}", "{\"a\":tru}", "{\"a\":1,}", "\u0000", "{\"a\":\"unterminated}"];
        AssertNone(await RunAsync(BodyRoutes.SelectMany(r => bodies.Select(b => new Case(r.Method, r.Path.Replace("{new}", New(), StringComparison.Ordinal), b, 400)))));
    }

    [Fact]
    public async Task Wrong_types_are_a_400_naming_the_field()
    {
        AssertNone(await RunAsync(
        [
            new("PUT", $"/collections/{New()}", """{"dimension":"eight"}""", 400, "dimension"),
            new("PUT", $"/collections/{New()}", """{"metric":7,"dimension":8}""", 400, "metric"),
            new("PUT", $"/collections/{New()}", """{"dimension":8,"text":"yes"}""", 400, "text"),
            new("POST", "/collections/{c}/documents", """{"documents":"x"}""", 400, "documents"),
            new("POST", "/collections/{c}/documents", """{"documents":[{"id":5,"text":"x"}]}""", 400, "documents[0].id"),
            new("POST", "/collections/{c}/documents", """{"documents":[{"text":"x","vector":"0.1,0.2"}]}""", 400, "documents[0].vector"),
            new("POST", "/collections/{c}/documents", """{"documents":[{"text":"x","metadata":[1,2]}]}""", 400),
            new("POST", "/collections/{c}/query", """{"text":"x","k":"ten"}""", 400, "k"),
            new("POST", "/collections/{c}/query", """{"text":"x","filter":"kind=sentinel"}""", 400),
            new("POST", "/collections/{c}/query", """{"text":["x"]}""", 400, "text"),
            new("POST", "/collections/{c}/query", """{"text":"x","weights":[1,2]}""", 400, "weights"),
            new("POST", "/collections/{c}/snapshots", """{"name":1}""", 400, "name"),
            new("POST", "/collections/{c}/snapshots/snap/restore", """{"target":true}""", 400, "target"),
            new("POST", "/collections/{c}/chat", """{"question":5}""", 400, "question"),
            new("POST", "/collections/{c}/chat", """{"question":"x","messages":"hi"}""", 400, "messages"),
            new("POST", "/collections/{c}/chat", """{"question":"x","stream":"yes"}""", 400, "stream"),
            new("POST", "/v1/chat/completions", """{"model":"{c}","messages":[{"role":"user","content":5}]}""", 400, "messages[0].content"),
            new("POST", "/embed", """{"texts":"hello"}""", 400, "texts"),
            new("POST", "/embed", """{"texts":[1,2]}""", 400, "texts[0]"),
            new("POST", "/v1/embeddings", """{"model":"demo","input":{"text":"x"}}""", 400, "input"),
            new("POST", "/v1/embeddings", """{"model":"demo","input":"x","dimensions":"all"}""", 400, "dimensions"),
        ]));
    }

    [Fact]
    public async Task Invalid_utf16_anywhere_in_a_body_is_a_400_never_a_500()
    {
        const string lone = "\\ud800";
        const string low = "\\udc00";
        AssertNone(await RunAsync(
        [
            new("PUT", $"/collections/{New()}", $$$"""{"encoder":"demo{{{lone}}}"}""", 400, "encoder"),
            new("POST", "/collections/{c}/documents", $$$"""{"documents":[{"id":"x{{{lone}}}","text":"t"}]}""", 400, "documents[0].id"),
            new("POST", "/collections/{c}/documents", $$$"""{"documents":[{"id":"x","text":"t{{{low}}}"}]}""", 400, "documents[0].text"),
            new("POST", "/collections/{c}/documents", $$$"""{"documents":[{"id":"x","text":"t","metadata":{"k":"{{{lone}}}"}}]}""", 400),
            new("POST", "/collections/{c}/documents", $$$"""{"documents":[{"id":"x","text":"t","metadata":{"k{{{low}}}":"v"}}]}""", 400),
            new("POST", "/collections/{c}/documents", $$$"""{"documents":[{"id":"x","text":"t","metadata":{"k":["a","{{{lone}}}"]}}]}""", 400),
            new("POST", "/collections/{c}/query", $$$"""{"text":"q{{{lone}}}"}""", 400, "text"),
            new("POST", "/collections/{c}/query", $$$"""{"text":"q","filter":{"kind":"{{{lone}}}"}}""", 400),
            new("POST", "/collections/{c}/query", $$$"""{"text":"q","filter":{"k{{{lone}}}":"v"}}""", 400),
            new("POST", "/collections/{c}/query", $$$"""{"text":"q","mode":"{{{lone}}}"}""", 400, "mode"),
            new("POST", "/collections/{c}/snapshots", $$$"""{"name":"s{{{lone}}}"}""", 400, "name"),
            new("POST", "/collections/{c}/snapshots/snap/restore", $$$"""{"target":"t{{{low}}}"}""", 400, "target"),
            new("POST", "/collections/{c}/chat", $$$"""{"question":"why{{{lone}}}"}""", 400, "question"),
            new("POST", "/collections/{c}/chat", $$$"""{"question":"why","generator":"{{{lone}}}"}""", 400, "generator"),
            new("POST", "/collections/{c}/chat", $$$"""{"question":"why","filter":{"kind":"{{{lone}}}"}}""", 400),
            new("POST", "/collections/{c}/chat", $$$"""{"question":"why","stop":["{{{lone}}}"]}""", 400, "stop[0]"),
            new("POST", "/collections/{c}/chat", $$$"""{"q{{{lone}}}":"why"}""", 400),
            new("POST", "/v1/chat/completions", $$$"""{"model":"{c}","messages":[{"role":"user","content":"hi{{{lone}}}"}]}""", 400, "messages[0].content"),
            new("POST", "/v1/chat/completions", $$$"""{"model":"{c}{{{lone}}}","messages":[{"role":"user","content":"hi"}]}""", 400, "model"),
            new("POST", "/embed", $$$"""{"texts":["a{{{lone}}}"]}""", 400, "texts[0]"),
            new("POST", "/v1/embeddings", $$$"""{"model":"demo","input":"a{{{lone}}}"}""", 400),
            new("POST", "/v1/embeddings", $$$"""{"model":"demo","input":["ok","a{{{low}}}"]}""", 400),
        ]));
    }

    [Fact]
    public async Task Invalid_utf8_bytes_in_a_body_are_a_400()
    {
        byte[][] bodies =
        [
            [.. "{\"documents\":[{\"id\":\"x\",\"text\":\""u8, 0xC3, 0x28, .. "\"}]}"u8],
            [.. "{\"texts\":[\""u8, 0xED, 0xA0, 0x80, .. "\"]}"u8], // an encoded surrogate
            [.. "{\"question\":\""u8, 0xFF, .. "\"}"u8],
        ];
        string[] paths = [$"/collections/{_sentinel}/documents", "/embed", $"/collections/{_sentinel}/chat"];
        for (int i = 0; i < bodies.Length; i++)
        {
            using var content = new ByteArrayContent(bodies[i]);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            var response = await server.Http.PostAsync(paths[i], content);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        await AssertUnharmedAsync();
    }

    [Fact]
    public async Task Unknown_fields_are_refused_naming_them_and_nothing_is_created()
    {
        await server.AssertCreateRefusedAsync("""{"dimension":8,"quantisation":"int8"}""", "quantisation");
        await server.AssertCreateRefusedAsync("""{"dimension":8,"efConstruct":400}""", "efConstruct");
        await server.AssertCreateRefusedAsync("""{"dimension":8,"chunking":true,"chunk":{"chunkTokens":64}}""", "chunk");
        AssertNone(await RunAsync(
        [
            new("POST", "/collections/{c}/documents", """{"documents":[{"id":"x","text":"t","bogus":1}]}""", 400, "documents[0].bogus"),
            new("POST", "/collections/{c}/documents", """{"documents":[{"id":"x","text":"t"}],"upsert":true}""", 400, "upsert"),
            new("POST", "/collections/{c}/documents", """{"documents":[{"id":"x","text":"t","chunkTokens":16}]}""", 400, "documents[0].chunkTokens"),
            new("POST", "/collections/{c}/query", """{"text":"x","topK":3}""", 400, "topK"),
            new("POST", "/collections/{c}/query", """{"text":"x","weights":{"dense":1,"sparse":1}}""", 400, "weights.sparse"),
            new("POST", "/collections/{c}/snapshots", """{"nme":"x"}""", 400, "nme"),
            new("POST", "/collections/{c}/snapshots/snap/restore", """{"targt":"x"}""", 400, "targt"),
            new("POST", "/collections/{c}/chat", """{"question":"x","temprature":0.5}""", 400, "temprature"),
            new("POST", "/collections/{c}/chat", """{"question":"x","messages":[{"role":"user","content":"hi","mood":"x"}]}""", 400, "messages[0].mood"),
            new("POST", "/embed", """{"texts":["x"],"model":"demo"}""", 400, "model"),
            new("POST", "/v1/embeddings", """{"model":"demo","input":"x","encodingFormat":"float"}""", 400, "encodingFormat", "Unrecognized request argument supplied: encodingFormat"),
            new("POST", "/v1/chat/completions", """{"model":"{c}","messages":[{"role":"user","content":"hi"}],"presence_penalty":0,"frobnicate":1}""", 400, "frobnicate", "Unrecognized request argument supplied: frobnicate"),
        ]));
        // Nothing was written by the refused upserts.
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync($"/collections/{_sentinel}/documents/x")).StatusCode);
    }

    [Fact]
    public async Task NaN_and_infinity_are_refused()
    {
        AssertNone(await RunAsync(
        [
            new("POST", "/collections/{c}/documents", """{"documents":[{"id":"x","vector":["NaN","NaN"]}]}""", 400),
            new("POST", "/collections/{c}/documents", """{"documents":[{"id":"x","text":"t","metadata":{"n":1e400}}]}""", 400),
            new("POST", "/collections/{c}/query", """{"vector":["Infinity","-Infinity"]}""", 400),
            new("POST", "/collections/{c}/query", """{"text":"x","weights":{"dense":"NaN"}}""", 400),
            new("PUT", $"/collections/{New()}", """{"dimension":8,"text":true,"bm25K1":"NaN"}""", 400),
            new("PUT", $"/collections/{New()}", """{"dimension":8,"text":true,"bm25B":"-Infinity"}""", 400),
            new("PUT", $"/collections/{New()}", """{"dimension":1e400}""", 400, "dimension"),
            new("POST", "/collections/{c}/chat", """{"question":"x","temperature":"NaN"}""", 400, "temperature"),
            new("POST", "/collections/{c}/chat", """{"question":"x","top_p":1e400}""", 400),
            new("POST", "/collections/{c}/chat", """{"question":"x","k":1e400}""", 400, "k"),
        ]));
    }

    [Fact]
    public async Task Deep_nesting_is_refused()
    {
        static string Nested(int depth, string inner) => string.Concat(Enumerable.Repeat("{\"a\":", depth)) + inner + new string('}', depth);
        static string NestedFilter(int depth) => string.Concat(Enumerable.Repeat("{\"$and\":[", depth)) + "{\"kind\":\"x\"}" + string.Concat(Enumerable.Repeat("]}", depth));
        AssertNone(await RunAsync(
        [
            new("POST", "/collections/{c}/documents", $$$"""{"documents":[{"id":"x","text":"t","metadata":{{{Nested(200, "1")}}}}]}""", 400),
            new("POST", "/collections/{c}/documents", $$$"""{"documents":[{"id":"x","text":"t","metadata":{"deep":{{{Nested(20, "1")}}}}}]}""", 400),
            new("POST", "/collections/{c}/query", $$$"""{"text":"x","filter":{{{NestedFilter(500)}}}}""", 400),
            new("POST", "/collections/{c}/chat", $$$"""{"question":"x","filter":{{{NestedFilter(500)}}}}""", 400),
            new("POST", "/v1/embeddings", $$$"""{"model":"demo","input":{{{string.Concat(Enumerable.Repeat("[", 5000))}}}}""", 400),
            new("POST", "/embed", $$$"""{"texts":{{{string.Concat(Enumerable.Repeat("[", 100_000))}}}}""", 400),
        ]));
    }

    [Fact]
    public async Task Oversize_requests_are_refused()
    {
        string big = new('x', 1_200_000);
        AssertNone(await RunAsync(
        [
            new("POST", "/collections/{c}/documents", $$$"""{"documents":[{"id":"x","text":"{{{big}}}"}]}""", 413),
            new("POST", "/embed", $$$"""{"texts":["{{{big}}}"]}""", 413),
            new("POST", "/collections/{c}/chat", $$$"""{"question":"{{{big}}}"}""", 413),
            new("POST", "/v1/chat/completions", $$$"""{"model":"{c}","messages":[{"role":"user","content":"{{{big}}}"}]}""", 413),
            new("POST", "/collections/{c}/documents", $$$"""{"documents":[{"id":"{{{new string('i', 10_000)}}}","text":"t"}]}""", 400),
            new("POST", "/collections/{c}/query", """{"text":"x","k":2147483647}""", 400, "k"),
            new("POST", "/collections/{c}/query", """{"text":"x","k":-1}""", 400, "k"),
            new("GET", "/collections/{c}/documents?limit=100000000", null, 400),
        ]));
    }

    [Theory]
    [InlineData("DELETE", "/collections/{c}/snapshots/..")]
    [InlineData("DELETE", "/collections/{c}/snapshots/.")]
    [InlineData("DELETE", "/collections/{c}/snapshots/%2E%2E")]
    [InlineData("DELETE", "/collections/{c}/snapshots/%2e%2e")]
    [InlineData("DELETE", "/collections/{c}/snapshots/.%2E")]
    [InlineData("DELETE", "/collections/{c}/snapshots/%2e.")]
    [InlineData("DELETE", "/collections/{c}/documents/..")]
    [InlineData("DELETE", "/collections/{c}/documents/%2E%2E")]
    [InlineData("DELETE", "/collections/{c}/documents/%2E")]
    [InlineData("DELETE", "/collections/{c}/documents/sentinel/..")]
    [InlineData("DELETE", "/collections/{c}/documents/../documents/sentinel")]
    [InlineData("DELETE", "/collections/{c}/documents/%2E%2E/%2E%2E")]
    [InlineData("GET", "/collections/{c}/documents/.")]
    [InlineData("GET", "/collections/{c}/documents/..?includeVector=true")]
    [InlineData("DELETE", "/collections/{c}/./")]
    [InlineData("DELETE", "/collections/x/../{c}")]
    [InlineData("DELETE", "/collections/x/%2E%2E/{c}")]
    [InlineData("POST", "/collections/{c}/snapshots/snap/../../documents")]
    [InlineData("POST", "/collections/{c}/snapshots/%2E%2E/restore")]
    [InlineData("DELETE", "/collections/%2E%2E")]
    [InlineData("PUT", "/collections/%2E")]
    [InlineData("DELETE", "/collections/{c}/documents/a%2Fb")]
    [InlineData("DELETE", "/collections/{c}/documents/a%2fb")]
    [InlineData("DELETE", "/collections/{c}/documents/a%5Cb")]
    [InlineData("DELETE", "/collections/{c}/snapshots/snap%2F..")]
    [InlineData("PUT", "/collections/a%0Ab")]
    [InlineData("PUT", "/collections/a%0D%0ASet-Cookie:%20x=1")]
    [InlineData("PUT", "/collections/a%00b")]
    [InlineData("PUT", "/collections/a%7Fb")]
    [InlineData("PUT", "/collections/a%C2%85b")]
    [InlineData("DELETE", "/collections/{c}/documents/x%09")]
    [InlineData("GET", "/collections/{c}/documents/%C0%AE%C0%AE")]
    [InlineData("GET", "/collections/{c}/documents/%ED%A0%80")]
    [InlineData("GET", "/collections/{c}/documents/%zz")]
    public async Task Dot_segments_encoded_slashes_and_control_characters_in_the_path_are_refused_before_routing(string method, string target)
    {
        var response = await RawHttp.SendAsync(server.RestAddress, method, target.Replace("{c}", _sentinel, StringComparison.Ordinal),
            method is "PUT" or "POST" ? "{}" : null);
        Assert.Equal(400, response.Status);
        // Kestrel itself refuses some targets (a NUL byte) before the application runs, with an empty 400; every
        // other refusal is problem details.
        Assert.True(response.ContentType.StartsWith("application/problem+json", StringComparison.Ordinal) || (response.ContentType.Length == 0 && target.Contains("%00", StringComparison.Ordinal)),
            $"{response.Status} {response.ContentType} {response.Body}");
        await AssertUnharmedAsync();
        var collections = await server.Http.GetFromJsonAsync<JsonElement>("/collections");
        Assert.DoesNotContain(collections.GetProperty("collections").EnumerateArray(), c => c.GetProperty("name").GetString()!.Any(char.IsControl));
    }

    [Fact]
    public async Task Grpc_hostile_messages_get_a_status_that_is_neither_ok_nor_internal()
    {
        var documents = new V1.Documents.DocumentsClient(server.Channel);
        var search = new V1.Search.SearchClient(server.Channel);
        var collections = new V1.Collections.CollectionsClient(server.Channel);
        var snapshots = new V1.Snapshots.SnapshotsClient(server.Channel);
        var embeddings = new V1.Embeddings.EmbeddingsClient(server.Channel);
        static Struct Deep(int depth)
        {
            var value = new Struct { Fields = { ["leaf"] = Value.ForNumber(1) } };
            for (int i = 0; i < depth; i++)
            {
                value = new Struct { Fields = { ["a"] = Value.ForStruct(value) } };
            }
            return value;
        }
        var calls = new List<(string Name, Func<Task> Call)>
        {
            ("upsert NaN vector", () => documents.UpsertAsync(new V1.UpsertRequest { Collection = _sentinel, Documents = { new V1.DocumentInput { Id = "x", Vector = { float.NaN, 1 } } } }).ResponseAsync),
            ("upsert infinite vector", () => documents.UpsertAsync(new V1.UpsertRequest { Collection = _sentinel, Documents = { new V1.DocumentInput { Id = "x", Vector = { float.PositiveInfinity, 1 } } } }).ResponseAsync),
            ("upsert deep metadata", () => documents.UpsertAsync(new V1.UpsertRequest { Collection = _sentinel, Documents = { new V1.DocumentInput { Id = "x", Text = "t", Metadata = Deep(80) } } }).ResponseAsync),
            ("upsert huge id", () => documents.UpsertAsync(new V1.UpsertRequest { Collection = _sentinel, Documents = { new V1.DocumentInput { Id = new string('i', 10_000), Text = "t" } } }).ResponseAsync),
            ("query deep filter", () => search.QueryAsync(new V1.QueryRequest { Collection = _sentinel, Text = "x", Filter = Deep(80) }).ResponseAsync),
            ("query bad operator", () => search.QueryAsync(new V1.QueryRequest { Collection = _sentinel, Text = "x", Filter = new Struct { Fields = { ["kind"] = Value.ForStruct(new Struct { Fields = { ["$regex"] = Value.ForString(".*") } }) } } }).ResponseAsync),
            ("query negative k", () => search.QueryAsync(new V1.QueryRequest { Collection = _sentinel, Text = "x", K = -1 }).ResponseAsync),
            ("query NaN vector", () => search.QueryAsync(new V1.QueryRequest { Collection = _sentinel, Vector = { float.NaN, float.NaN } }).ResponseAsync),
            ("create NaN bm25", () => collections.CreateAsync(new V1.CreateCollectionRequest { Name = ServerFixture.UniqueName("g"), Dimension = 4, Text = true, Bm25K1 = float.NaN }).ResponseAsync),
            ("create existing", () => collections.CreateAsync(new V1.CreateCollectionRequest { Name = _sentinel, Dimension = 4 }).ResponseAsync),
            ("get missing collection", () => collections.GetAsync(new V1.GetCollectionRequest { Name = ServerFixture.UniqueName("missing") }).ResponseAsync),
            ("restore over existing", () => snapshots.RestoreAsync(new V1.RestoreSnapshotRequest { Collection = _sentinel, Name = "snap", Target = _sentinel }).ResponseAsync),
            ("download missing snapshot", async () =>
            {
                using var call = snapshots.Download(new V1.DownloadSnapshotRequest { Collection = _sentinel, Name = "missing" });
                await call.ResponseStream.MoveNext(CancellationToken.None);
            }),
            ("embed unknown encoder", () => embeddings.EmbedAsync(new V1.EmbedRequest { Texts = { "x" }, Encoder = "no-such-encoder" }).ResponseAsync),
        };
        var failures = new List<string>();
        foreach (var (name, call) in calls)
        {
            try
            {
                await call();
                failures.Add($"{name}: OK");
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Internal)
            {
                failures.Add($"{name}: INTERNAL {e.Status.Detail}");
            }
            catch (RpcException)
            {
            }
        }
        AssertNone(failures);
        await AssertUnharmedAsync();
    }
}
