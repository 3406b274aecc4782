using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace VectorStoreDb.IntegrationTests.ApiDocument;

/// <summary>
/// <c>/openapi/v1.json</c> tells the truth: every route is called for real, and each request body sent and each
/// response received (successes and refusals) is validated against the schema the document gives for it (JSON Schema
/// 2020-12, as OpenAPI 3.1 uses). A route of the document that this test does not call fails it, so a new route is
/// checked as soon as it is documented.
/// </summary>
public sealed class OpenApiConformanceTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const string DocumentUri = "https://vectorstore.test/openapi/v1.json";
    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch", "head", "options"];

    /// <summary>POST routes that are actions on their path and take no body.</summary>
    private static readonly string[] BodilessActions = ["/refit", "/rebalance", "/drain"];

    private readonly EvaluationOptions _options = new() { OutputFormat = OutputFormat.List };
    private readonly HashSet<string> _called = [];
    private readonly List<string> _failures = [];
    private JsonNode _document = null!;

    [Fact]
    public async Task Every_route_answers_what_the_document_says()
    {
        await LoadDocumentAsync();
        string c = ServerFixture.UniqueName();
        string missing = ServerFixture.UniqueName("missing");

        await Call("GET", "/healthz", "/healthz", null, 200);
        await Call("GET", "/readyz", "/readyz", null, 200);

        await Call("PUT", "/collections/{name}", $"/collections/{c}", new { metric = "cosine", encoder = "demo", text = true }, 201);
        await Call("PUT", "/collections/{name}", $"/collections/{c}", new { metric = "cosine" }, 409);
        await Call("PUT", "/collections/{name}", $"/collections/{missing}", new { metric = "nope" }, 400);
        await Call("GET", "/collections", "/collections", null, 200);
        await Call("GET", "/collections/{name}", $"/collections/{c}", null, 200);
        await Call("GET", "/collections/{name}", $"/collections/{missing}", null, 404);

        var documents = new
        {
            documents = new object[]
            {
                new { id = "cats", text = "Cats sleep for about sixteen hours a day. They hunt at dawn and dusk.", metadata = new { topic = "pets", year = 2020 } },
                new { id = "tea", text = "Green tea is made from unoxidised leaves. Tea was first drunk in China.", metadata = new { topic = "food", tags = new[] { "drink" } } },
                new { id = "paris", text = "Paris is the capital of France. The Seine flows through the city.", metadata = new { topic = "travel" } },
            },
        };
        await Call("POST", "/collections/{name}/documents", $"/collections/{c}/documents", documents, 200);
        await Call("POST", "/collections/{name}/documents", $"/collections/{c}/documents", new { documents = new[] { new { id = "empty" } } }, 400);
        await Call("POST", "/collections/{name}/documents", $"/collections/{missing}/documents", documents, 404);
        await Call("GET", "/collections/{name}/documents", $"/collections/{c}/documents?limit=2&includeVectors=true", null, 200);
        await Call("GET", "/collections/{name}/documents", $"/collections/{c}/documents?limit=0", null, 400);
        await Call("GET", "/collections/{name}/documents/{id}", $"/collections/{c}/documents/cats?includeVector=true", null, 200);
        await Call("GET", "/collections/{name}/documents/{id}", $"/collections/{c}/documents/nope", null, 404);
        await Call("GET", "/collections/{name}/count", $"/collections/{c}/count", null, 200);

        await Call("POST", "/collections/{name}/query", $"/collections/{c}/query",
            new { text = "how long do cats sleep", k = 2, mode = "hybrid", explain = true, includeVectors = true, filter = new Dictionary<string, object> { ["topic"] = new Dictionary<string, string[]> { ["$in"] = ["pets", "food"] } } }, 200);
        await Call("POST", "/collections/{name}/query", $"/collections/{c}/query", new { vector = new float[256], k = 3, exact = true }, 200);
        await Call("POST", "/collections/{name}/query", $"/collections/{c}/query", new { text = "cats", k = 0 }, 400);

        await Call("POST", "/collections/{name}/documents/batch-get", $"/collections/{c}/documents/batch-get", new { ids = new[] { "tea", "nope", "cats" }, includeVectors = true }, 200);
        await Call("POST", "/collections/{name}/documents/batch-get", $"/collections/{c}/documents/batch-get", new { includeVectors = true }, 400);
        await Call("POST", "/collections/{name}/documents/scroll", $"/collections/{c}/documents/scroll",
            new { filter = new Dictionary<string, object> { ["topic"] = new Dictionary<string, string[]> { ["$in"] = ["pets", "food"] } }, orderBy = new { field = "year", descending = true }, limit = 1 }, 200);
        await Call("POST", "/collections/{name}/documents/scroll", $"/collections/{c}/documents/scroll", new { limit = -1 }, 400);
        await Call("POST", "/collections/{name}/query/batch", $"/collections/{c}/query/batch",
            new { queries = new object[] { new { text = "cats", k = 2 }, new { vector = new float[256], k = 1, exact = true } } }, 200);
        await Call("POST", "/collections/{name}/query/batch", $"/collections/{c}/query/batch", new { queries = new object[] { new { text = "cats", k = 0 } } }, 400);

        // This server is single-node: the cluster routes refuse with their documented problem.
        await Call("GET", "/cluster", "/cluster", null, 422);
        await Call("POST", "/cluster/rebalance", "/cluster/rebalance", null, 422);
        await Call("POST", "/cluster/nodes/{id}/drain", "/cluster/nodes/n1/drain", null, 422);
        await Call("DELETE", "/cluster/nodes/{id}/drain", "/cluster/nodes/n1/drain", null, 422);

        await Call("POST", "/embed", "/embed", new { texts = new[] { "hello", "world" } }, 200);
        await Call("POST", "/embed", "/embed", new { encoder = "no-such-encoder", texts = new[] { "x" } }, 400);
        await Call("GET", "/models", "/models", null, 200);

        await Call("POST", "/collections/{name}/chat", $"/collections/{c}/chat", new { question = "How long do cats sleep?", k = 2, max_tokens = 24 }, 200);
        await Call("POST", "/collections/{name}/chat", $"/collections/{c}/chat", new { question = "How long do cats sleep?", stream = true }, 200);
        await Call("POST", "/collections/{name}/chat", $"/collections/{c}/chat", new { k = "two" }, 400);
        await Call("GET", "/generators", "/generators", null, 200);

        await Call("POST", "/v1/embeddings", "/v1/embeddings", new { model = "demo", input = new[] { "hello" } }, 200);
        await Call("POST", "/v1/embeddings", "/v1/embeddings", new { model = "demo", input = 5 }, 400);
        await Call("POST", "/v1/embeddings", "/v1/embeddings", new { model = "no-such-encoder", input = "x" }, 404);
        await Call("POST", "/v1/chat/completions", "/v1/chat/completions",
            new { model = c, messages = new[] { new { role = "developer", content = "Answer briefly." }, new { role = "user", content = "How long do cats sleep?" } }, max_tokens = 16 }, 200);
        await Call("POST", "/v1/chat/completions", "/v1/chat/completions",
            new { model = c, messages = new[] { new { role = "user", content = "Tea?" } }, stream = true, stream_options = new { include_usage = true } }, 200);
        await Call("POST", "/v1/chat/completions", "/v1/chat/completions",
            new { model = c, messages = new[] { new { role = "user", content = "Tea?" } }, tools = new[] { new { type = "function" } } }, 400);
        await Call("POST", "/v1/chat/completions", "/v1/chat/completions", new { model = missing, messages = new[] { new { role = "user", content = "Tea?" } } }, 404);
        await Call("GET", "/v1/models", "/v1/models", null, 200);
        await Call("GET", "/v1/models/{id}", $"/v1/models/{c}", null, 200);
        await Call("GET", "/v1/models/{id}", $"/v1/models/{missing}", null, 404);

        // A pca collection, to see refit's answer (and plain-number vectors going in).
        string pca = ServerFixture.UniqueName("pca");
        await Call("PUT", "/collections/{name}", $"/collections/{pca}", new { encoder = "none", dimension = 16, projection = "pca", indexDimension = 6, pcaSampleSize = 500 }, 201);
        var random = new Random(5);
        var vectors = Enumerable.Range(0, 40).Select(i => new { id = $"v{i}", vector = Enumerable.Range(0, 16).Select(_ => (float)random.NextDouble()).ToArray() }).ToArray();
        await Call("POST", "/collections/{name}/documents", $"/collections/{pca}/documents", new { documents = vectors }, 200);
        await Call("POST", "/collections/{name}/projection/refit", $"/collections/{pca}/projection/refit", null, 200);
        await Call("POST", "/collections/{name}/projection/refit", $"/collections/{c}/projection/refit", null, 400);
        string emptyPca = ServerFixture.UniqueName("pca");
        await Call("PUT", "/collections/{name}", $"/collections/{emptyPca}", new { encoder = "none", dimension = 16, projection = "pca", indexDimension = 6 }, 201);
        await Call("POST", "/collections/{name}/projection/refit", $"/collections/{emptyPca}/projection/refit", null, 422);

        string restored = ServerFixture.UniqueName("restored");
        await Call("POST", "/collections/{name}/snapshots", $"/collections/{c}/snapshots", new { name = "s1" }, 201);
        await Call("POST", "/collections/{name}/snapshots", $"/collections/{missing}/snapshots", null, 404);
        await Call("GET", "/collections/{name}/snapshots", $"/collections/{c}/snapshots", null, 200);
        await Call("GET", "/collections/{name}/snapshots/{snapshot}", $"/collections/{c}/snapshots/s1", null, 200);
        await Call("POST", "/collections/{name}/snapshots/{snapshot}/restore", $"/collections/{c}/snapshots/s1/restore", new { target = restored }, 201);
        await Call("POST", "/collections/{name}/snapshots/{snapshot}/restore", $"/collections/{c}/snapshots/s1/restore", new { target = restored }, 409);
        await Call("DELETE", "/collections/{name}/snapshots/{snapshot}", $"/collections/{c}/snapshots/s1", null, 204);
        await Call("GET", "/collections/{name}/snapshots/{snapshot}", $"/collections/{c}/snapshots/s1", null, 404);

        await Call("DELETE", "/collections/{name}/documents/{id}", $"/collections/{c}/documents/tea", null, 204);
        await Call("DELETE", "/collections/{name}/documents/{id}", $"/collections/{c}/documents/tea", null, 404);
        await Call("GET", "/stats", "/stats?window=60", null, 200);
        foreach (string name in (string[])[restored, pca, emptyPca, c])
        {
            await Call("DELETE", "/collections/{name}", $"/collections/{name}", null, 204);
        }
        await Call("DELETE", "/collections/{name}", $"/collections/{c}", null, 404);

        var documented = _document["paths"]!.AsObject()
            .SelectMany(path => path.Value!.AsObject().Where(m => Methods.Contains(m.Key)).Select(m => $"{m.Key.ToUpperInvariant()} {path.Key}"));
        _failures.AddRange(documented.Except(_called).Select(route => $"{route}: documented but not called by this test"));
        Assert.True(_failures.Count == 0, string.Join("\n", _failures));
    }

    /// <summary>What a client generator and a reader rely on, beyond what schema validation sees.</summary>
    [Fact]
    public async Task Every_operation_is_named_described_secured_and_lists_its_refusals()
    {
        await LoadDocumentAsync();
        var operationIds = new HashSet<string>();
        foreach (var (path, item) in _document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject().Where(m => Methods.Contains(m.Key)))
            {
                string what = $"{method.ToUpperInvariant()} {path}";
                string? id = operation!["operationId"]?.GetValue<string>();
                if (id is null || !char.IsLower(id[0]) || id.Any(ch => !char.IsLetterOrDigit(ch)) || !operationIds.Add(id))
                {
                    _failures.Add($"{what}: operationId '{id}' is missing, not camelCase or not unique");
                }
                if (string.IsNullOrWhiteSpace(operation["summary"]?.GetValue<string>()))
                {
                    _failures.Add($"{what}: no summary");
                }
                if (operation["security"] is not JsonArray { Count: > 0 })
                {
                    _failures.Add($"{what}: no security requirement");
                }
                bool open = operation["security"] is JsonArray { Count: 1 } security && security[0] is JsonObject { Count: 0 };
                var statuses = operation["responses"]!.AsObject().Select(r => int.Parse(r.Key, CultureInfo.InvariantCulture)).ToList();
                if (!open && (!statuses.Contains(400) || !statuses.Contains(401) || !statuses.Contains(429)))
                {
                    _failures.Add($"{what}: a route that needs a key must list 400, 401 and 429 (has {string.Join(",", statuses)})");
                }
                foreach (var (status, response) in operation["responses"]!.AsObject().Where(r => r.Key[0] is '4' or '5'))
                {
                    var content = response!["content"]?.AsObject();
                    string expected = path.StartsWith("/v1/", StringComparison.Ordinal) ? "#/components/schemas/OpenAiErrorBody" : "#/components/schemas/ProblemDetails";
                    if (content is null || content.Single().Value!["schema"]?["$ref"]?.GetValue<string>() != expected)
                    {
                        _failures.Add($"{what} {status}: body should be {expected}");
                    }
                }
                if (method is "post" or "put" && operation["requestBody"] is null && !BodilessActions.Any(a => path.EndsWith(a, StringComparison.Ordinal)))
                {
                    _failures.Add($"{what}: no request body schema");
                }
            }
        }
        // Numbers are numbers: no schema may still say anyOf number-or-"NaN".
        if (_document.ToJsonString().Contains("\"NaN\"", StringComparison.Ordinal))
        {
            _failures.Add("a schema still offers \"NaN\" as a value");
        }
        var schemes = _document["components"]?["securitySchemes"]?.AsObject();
        Assert.NotNull(schemes);
        Assert.Equal("bearer", schemes["bearer"]?["scheme"]?.GetValue<string>());
        Assert.Equal("api-key", schemes["apiKey"]?["name"]?.GetValue<string>());
        Assert.True(_failures.Count == 0, string.Join("\n", _failures));
    }

    private async Task LoadDocumentAsync()
    {
        _document = JsonNode.Parse(await server.Http.GetStringAsync("/openapi/v1.json"))!;
        _options.SchemaRegistry.Register(new Uri(DocumentUri), new JsonNodeBaseDocument(_document, new Uri(DocumentUri)));
    }

    private async Task Call(string method, string template, string path, object? body, int status)
    {
        _called.Add($"{method} {template}");
        var operation = _document["paths"]?[template]?[method.ToLowerInvariant()];
        if (operation is null)
        {
            _failures.Add($"{method} {template}: not in the document");
            return;
        }
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            string json = JsonSerializer.Serialize(body);
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
            // Refusal cases send wrong bodies on purpose; the others must fit the documented request schema.
            if (status < 400)
            {
                Validate($"{method} {template} request body", operation["requestBody"]?["content"]?["application/json"]?["schema"], JsonNode.Parse(json));
            }
        }
        using var response = await server.Http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        string what = $"{method} {path} -> {(int)response.StatusCode}";
        if ((int)response.StatusCode != status)
        {
            _failures.Add($"{what}, expected {status}: {Shorten(text)}");
            return;
        }
        var declared = operation["responses"]?[status.ToString(CultureInfo.InvariantCulture)];
        if (declared is null)
        {
            _failures.Add($"{what}: this status is not in the document");
            return;
        }
        string? mediaType = response.Content.Headers.ContentType?.MediaType;
        if (mediaType is null)
        {
            if (text.Length > 0 || declared["content"] is JsonObject { Count: > 0 })
            {
                _failures.Add($"{what}: the document and the response disagree on having a body");
            }
            return;
        }
        var schema = declared["content"]?[mediaType]?["schema"];
        if (schema is null)
        {
            _failures.Add($"{what}: {mediaType} is not documented for this status");
            return;
        }
        if (mediaType.EndsWith("json", StringComparison.Ordinal))
        {
            Validate(what, schema, JsonNode.Parse(text));
        }
    }

    private void Validate(string what, JsonNode? schemaNode, JsonNode? instance)
    {
        if (schemaNode is null)
        {
            _failures.Add($"{what}: no schema");
            return;
        }
        // Schemas point into the document's components; resolve them in the registered document.
        var schema = JsonSchema.FromText(schemaNode.ToJsonString().Replace("\"#/components/", $"\"{DocumentUri}#/components/", StringComparison.Ordinal));
        var result = schema.Evaluate(instance, _options);
        if (!result.IsValid)
        {
            var errors = (result.Details ?? []).Where(d => d.Errors is { Count: > 0 })
                .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"));
            _failures.Add($"{what}: does not fit its schema: {string.Join("; ", errors)} in {Shorten(instance?.ToJsonString())}");
        }
    }

    private static string Shorten(string? s) => s is null ? "" : s.Length > 300 ? s[..300] + "…" : s;
}
