using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.AspNetCore.Builder;
using OpenTelemetry.Trace;
using StatusCode = Grpc.Core.StatusCode;
using VectorStoreDb.Engine.Diagnostics;
using Microsoft.Extensions.Configuration;
using VectorStoreDb.Server;
using VectorStoreDb.Server.Operations;
using V1 = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.IntegrationTests.Rest;

/// <summary>A server that also exports its spans to a list, to check traces end to end.</summary>
public sealed class TracingServerFixture : ServerFixture
{
    public List<Activity> Spans { get; } = [];

    protected override void ConfigureServer(WebApplicationBuilder builder) =>
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(Spans));

    /// <summary>The first trace whose spans satisfy <paramref name="match"/>; waits briefly because the server span ends after the response is sent.</summary>
    public async Task<List<Activity>> TraceAsync(Func<List<Activity>, bool> match)
    {
        for (int attempt = 0; attempt < 100; attempt++)
        {
            List<Activity> snapshot;
            lock (Spans)
            {
                snapshot = [.. Spans];
            }
            if (snapshot.GroupBy(a => a.TraceId).Select(g => g.ToList()).FirstOrDefault(match) is { } trace)
            {
                return trace;
            }
            await Task.Delay(50);
        }
        throw new Xunit.Sdk.XunitException("The expected trace was not exported.");
    }
}

public class TelemetryTests(TracingServerFixture server) : IClassFixture<TracingServerFixture>
{
    [Fact]
    public async Task Rest_query_span_has_embedding_and_search_children()
    {
        string name = ServerFixture.UniqueName("trace");
        await server.CreateDemoCollectionAsync(name);
        (await server.Http.PostAsJsonAsync($"/collections/{name}/documents", new { documents = new[] { new { id = "a", text = "cats purr" } } })).EnsureSuccessStatusCode();
        (await server.Http.PostAsJsonAsync($"/collections/{name}/query", new { text = "purring cats", k = 1 })).EnsureSuccessStatusCode();

        var trace = await server.TraceAsync(t => t.Count >= 3 && t.Any(a => a.Kind == ActivityKind.Server && a.GetTagItem("url.path") as string == $"/collections/{name}/query"));
        var request = trace.Single(a => a.Kind == ActivityKind.Server);
        var embed = trace.Single(a => a.OperationName == VectorStoreTelemetry.Spans.Embed);
        var search = trace.Single(a => a.OperationName == VectorStoreTelemetry.Spans.Search);
        Assert.Equal(request.SpanId, embed.ParentSpanId);
        Assert.Equal(request.SpanId, search.ParentSpanId);
        Assert.Equal(name, search.GetTagItem(VectorStoreTelemetry.Tags.Collection));
        Assert.Equal("demo", embed.GetTagItem(VectorStoreTelemetry.Tags.Encoder));
    }

    [Fact]
    public async Task Upsert_span_has_embedding_and_storage_commit_children_over_grpc()
    {
        string name = ServerFixture.UniqueName("trace");
        await server.CreateDemoCollectionAsync(name);
        var upsert = new V1.UpsertRequest { Collection = name };
        upsert.Documents.Add(new V1.DocumentInput { Id = "x", Text = "durable text" });
        await new V1.Documents.DocumentsClient(server.Channel).UpsertAsync(upsert);

        var trace = await server.TraceAsync(t => t.Count >= 3
            && t.Any(a => a.Kind == ActivityKind.Server && a.GetTagItem("url.path") as string == "/vectorstore.v1.Documents/Upsert")
            && t.Any(a => a.GetTagItem(VectorStoreTelemetry.Tags.Collection) as string == name));
        var request = trace.Single(a => a.Kind == ActivityKind.Server);
        Assert.Contains(trace, a => a.OperationName == VectorStoreTelemetry.Spans.Embed && a.ParentSpanId == request.SpanId);
        Assert.Contains(trace, a => a.OperationName == VectorStoreTelemetry.Spans.StorageCommit && a.ParentSpanId == request.SpanId);
    }
}

public class MetricsTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Metrics_endpoint_shows_request_embedding_commit_and_collection_gauges_moving()
    {
        string name = ServerFixture.UniqueName("metrics");
        await server.CreateDemoCollectionAsync(name);
        string before = await server.Http.GetStringAsync("/metrics");
        double textsBefore = Sum(before, "vectorstore_embedding_texts_total");
        double queriesBefore = Sum(before, "vectorstore_request_duration_seconds_count", "POST /collections/{name}/query");

        (await server.Http.PostAsJsonAsync($"/collections/{name}/documents", new { documents = new[] { new { id = "a", text = "one" }, new { id = "b", text = "two" }, new { id = "c", text = "three" } } })).EnsureSuccessStatusCode();
        (await server.Http.PostAsJsonAsync($"/collections/{name}/query", new { text = "one", k = 2 })).EnsureSuccessStatusCode();
        (await server.Http.PostAsJsonAsync($"/collections/{name}/query", new { text = "two", k = 2 })).EnsureSuccessStatusCode();

        string after = await server.Http.GetStringAsync("/metrics");
        Assert.True(Sum(after, "vectorstore_embedding_texts_total") >= textsBefore + 5, "3 documents + 2 queries were embedded");
        Assert.True(Sum(after, "vectorstore_request_duration_seconds_count", "POST /collections/{name}/query") >= queriesBefore + 2);
        Assert.True(Sum(after, "vectorstore_storage_commit_duration_seconds_count") >= 1);
        Assert.True(Sum(after, "vectorstore_embedding_batch_size_count") >= 1);
        Assert.Equal(3, Sum(after, "vectorstore_collection_documents", $"vectorstore_collection=\"{name}\""));
        Assert.Equal(3, Sum(after, "vectorstore_collection_vectors", $"vectorstore_collection=\"{name}\""));
        Assert.True(Sum(after, "vectorstore_index_memory_bytes", $"vectorstore_collection=\"{name}\"") > 0);
    }

    [Fact]
    public async Task A_chat_moves_the_generated_tokens_counter_and_the_speed_histogram()
    {
        string name = ServerFixture.UniqueName("metrics");
        await server.CreateDemoCollectionAsync(name);
        (await server.Http.PostAsJsonAsync($"/collections/{name}/documents", new { documents = new[]
        {
            new { id = "cats", text = "Cats sleep for about sixteen hours a day. They hunt at dawn and dusk." },
            new { id = "tea", text = "Green tea is made from unoxidised leaves. Tea was first drunk in China." },
        } })).EnsureSuccessStatusCode();
        string before = await server.Http.GetStringAsync("/metrics");
        string collectionTag = $"vectorstore_collection=\"{name}\"";
        Assert.Equal(0, Sum(before, "vectorstore_generation_tokens_total", collectionTag));

        var chat = await server.Http.PostAsJsonAsync($"/collections/{name}/chat", new { question = "How long do cats sleep?", k = 2, generator = "extractive" });
        chat.EnsureSuccessStatusCode();
        int completion = JsonDocument.Parse(await chat.Content.ReadAsStringAsync()).RootElement.GetProperty("usage").GetProperty("completionTokens").GetInt32();
        Assert.True(completion > 0);

        string after = await server.Http.GetStringAsync("/metrics");
        Assert.Equal(completion, Sum(after, "vectorstore_generation_tokens_total", collectionTag, "vectorstore_generator=\"extractive\""));
        string speed = after.Split('\n').First(l => l.StartsWith("vectorstore_generation_speed", StringComparison.Ordinal) && l.Contains("_count{", StringComparison.Ordinal)).Split('{')[0];
        Assert.Equal(1, Sum(after, speed, collectionTag));
    }

    [Fact]
    public async Task Grpc_calls_are_measured_per_method()
    {
        string name = ServerFixture.UniqueName("metrics");
        await server.CreateDemoCollectionAsync(name);
        await new V1.Documents.DocumentsClient(server.Channel).CountAsync(new V1.CountRequest { Collection = name });
        string metrics = await server.Http.GetStringAsync("/metrics");
        Assert.True(Sum(metrics, "vectorstore_request_duration_seconds_count", "/vectorstore.v1.Documents/Count") >= 1);
    }

    [Fact]
    public async Task Grpc_health_service_reports_serving()
    {
        var health = new Health.HealthClient(server.Channel);
        var response = await health.CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    /// <summary>Sums the samples of a Prometheus metric whose line contains every given fragment.</summary>
    private static double Sum(string exposition, string metric, params string[] fragments) =>
        exposition.Split('\n')
            .Where(line => line.StartsWith(metric + "{", StringComparison.Ordinal) || line.StartsWith(metric + " ", StringComparison.Ordinal))
            .Where(line => fragments.All(f => line.Contains(f, StringComparison.Ordinal)))
            .Sum(line => double.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture));
}

public class AuthTests(AuthServerFixture server) : IClassFixture<AuthServerFixture>
{
    private HttpRequestMessage Request(HttpMethod method, string path, string? bearer = null, string? apiKey = null, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }
        if (apiKey is not null)
        {
            request.Headers.Add("api-key", apiKey);
        }
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }
        return request;
    }

    private static async Task AssertProblem(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
    }

    [Fact]
    public async Task Rest_without_or_with_a_wrong_key_is_401_problem_details()
    {
        await AssertProblem(await server.Http.SendAsync(Request(HttpMethod.Get, "/collections")), HttpStatusCode.Unauthorized);
        await AssertProblem(await server.Http.SendAsync(Request(HttpMethod.Get, "/collections", bearer: "nope")), HttpStatusCode.Unauthorized);
        await AssertProblem(await server.Http.SendAsync(Request(HttpMethod.Put, "/collections/x", apiKey: "admin-s3cre")), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Read_key_reads_but_writes_are_403_and_admin_key_does_everything()
    {
        string name = ServerFixture.UniqueName("auth");
        await AssertProblem(await server.Http.SendAsync(Request(HttpMethod.Put, $"/collections/{name}", bearer: AuthServerFixture.ReadKey)), HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.Created, (await server.Http.SendAsync(Request(HttpMethod.Put, $"/collections/{name}", bearer: AuthServerFixture.AdminKey))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.SendAsync(Request(HttpMethod.Post, $"/collections/{name}/documents", apiKey: AuthServerFixture.AdminKey,
            body: new { documents = new[] { new { id = "a", text = "hello" } } }))).StatusCode);
        await AssertProblem(await server.Http.SendAsync(Request(HttpMethod.Post, $"/collections/{name}/documents", apiKey: AuthServerFixture.ReadKey,
            body: new { documents = new[] { new { id = "b", text = "hello" } } })), HttpStatusCode.Forbidden);
        await AssertProblem(await server.Http.SendAsync(Request(HttpMethod.Delete, $"/collections/{name}", bearer: AuthServerFixture.ReadKey)), HttpStatusCode.Forbidden);

        Assert.Equal(HttpStatusCode.OK, (await server.Http.SendAsync(Request(HttpMethod.Post, $"/collections/{name}/query", bearer: AuthServerFixture.ReadKey, body: new { text = "hello", k = 1 }))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.SendAsync(Request(HttpMethod.Get, $"/collections/{name}/count", apiKey: AuthServerFixture.ReadKey))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.SendAsync(Request(HttpMethod.Post, "/embed", bearer: AuthServerFixture.ReadKey, body: new { texts = new[] { "x" } }))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.SendAsync(Request(HttpMethod.Get, "/models", bearer: AuthServerFixture.ReadKey))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await server.Http.SendAsync(Request(HttpMethod.Delete, $"/collections/{name}", bearer: AuthServerFixture.AdminKey))).StatusCode);
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    [InlineData("/metrics")]
    public async Task Probes_and_metrics_stay_open(string path)
    {
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync(path)).StatusCode);
    }

    [Fact]
    public async Task Grpc_checks_the_same_keys_in_metadata()
    {
        var collections = new V1.Collections.CollectionsClient(server.Channel);
        string name = ServerFixture.UniqueName("auth");
        var none = await Assert.ThrowsAsync<RpcException>(async () => await collections.ListAsync(new V1.ListCollectionsRequest()));
        Assert.Equal(StatusCode.Unauthenticated, none.StatusCode);

        var read = new Metadata { { "authorization", $"Bearer {AuthServerFixture.ReadKey}" } };
        var denied = await Assert.ThrowsAsync<RpcException>(async () => await collections.CreateAsync(new V1.CreateCollectionRequest { Name = name }, read));
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        Assert.Contains("admin", denied.Status.Detail, StringComparison.Ordinal);

        var admin = new Metadata { { "api-key", AuthServerFixture.AdminKey } };
        await collections.CreateAsync(new V1.CreateCollectionRequest { Name = name }, admin);
        Assert.Contains((await collections.ListAsync(new V1.ListCollectionsRequest(), read)).Collections, c => c.Name == name);

        var health = await new Health.HealthClient(server.Channel).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
    }
}

public class StartupSafetyTests
{
    private static string[] Args(params string[] extra) =>
    [
        "--VectorStore:GrpcUrl=http://127.0.0.1:0",
        $"--VectorStore:DataPath={Path.Combine(Path.GetTempPath(), "vectorstore-it", Guid.NewGuid().ToString("N"))}",
        "--Logging:LogLevel:Default=Warning",
        "--VectorStore:DefaultEncoder=demo", "--VectorStore:BuiltInEncoders:Preload=false",
        .. extra,
    ];

    [Fact]
    public void Non_loopback_address_without_keys_refuses_to_start()
    {
        var error = Assert.Throws<InvalidOperationException>(() => VectorStoreServer.Build(Args("--urls", "http://0.0.0.0:0")));
        Assert.Contains("Refusing to start", error.Message, StringComparison.Ordinal);
        Assert.Contains("--allow-anonymous", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Allow_anonymous_or_a_key_lets_it_start_on_a_non_loopback_address()
    {
        await (VectorStoreServer.Build(Args("--urls", "http://0.0.0.0:0", "--allow-anonymous"))).DisposeAsync();
        await (VectorStoreServer.Build(Args("--urls", "http://0.0.0.0:0", "--VectorStore:Auth:ApiKeys:0:Key=k", "--VectorStore:Auth:ApiKeys:0:Role=admin"))).DisposeAsync();
    }

    [Fact]
    public async Task Otlp_exporter_configured_by_the_standard_variable_starts_without_a_collector()
    {
        Assert.False(OperationsExtensions.IsOtlpConfigured(new ConfigurationBuilder().Build()));
        await using var app = VectorStoreServer.Build(Args("--urls", "http://127.0.0.1:0", "--OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:1"));
        Assert.True(OperationsExtensions.IsOtlpConfigured(app.Configuration));
        await app.StartAsync();
        await app.StopAsync();
    }

    [Fact]
    public void Bad_role_is_refused_with_the_setting_name()
    {
        var error = Assert.Throws<InvalidOperationException>(() => VectorStoreServer.Build(Args("--urls", "http://127.0.0.1:0", "--VectorStore:Auth:ApiKeys:0:Key=k", "--VectorStore:Auth:ApiKeys:0:Role=owner")));
        Assert.Contains("VectorStore:Auth:ApiKeys:0:Role", error.Message, StringComparison.Ordinal);
    }
}

public sealed class RateLimitedServerFixture : ServerFixture
{
    protected override IEnumerable<string> ExtraArguments => ["--VectorStore:RateLimit:PermitsPerSecond=1", "--VectorStore:RateLimit:Burst=2"];
}

public class RateLimitTests(RateLimitedServerFixture server) : IClassFixture<RateLimitedServerFixture>
{
    [Fact]
    public async Task Bursts_beyond_the_limit_get_429_problem_details_and_resource_exhausted_over_grpc()
    {
        HttpResponseMessage? refused = null;
        for (int i = 0; i < 10 && refused is null; i++)
        {
            var response = await server.Http.GetAsync("/collections");
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                refused = response;
            }
        }
        Assert.NotNull(refused);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(429, (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetInt32());
        Assert.True(refused.Headers.RetryAfter is not null);

        // Probes are never limited.
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/healthz")).StatusCode);

        var collections = new V1.Collections.CollectionsClient(server.Channel);
        RpcException? exhausted = null;
        for (int i = 0; i < 10 && exhausted is null; i++)
        {
            try
            {
                await collections.ListAsync(new V1.ListCollectionsRequest());
            }
            catch (RpcException e)
            {
                exhausted = e;
            }
        }
        Assert.NotNull(exhausted);
        Assert.Equal(StatusCode.ResourceExhausted, exhausted.StatusCode);

        // The remote SDK reads it as "busy, retry after" (error-code trailer and google.rpc.RetryInfo), not "too large".
        using var sdk = new VectorStoreDb.Client.VectorStoreGrpcClient(server.GrpcAddress);
        VectorStoreDb.Client.VectorStoreClientException? busy = null;
        for (int i = 0; i < 10 && busy is null; i++)
        {
            try
            {
                await sdk.ListCollectionsAsync();
            }
            catch (VectorStoreDb.Client.VectorStoreClientException e)
            {
                busy = e;
            }
        }
        Assert.NotNull(busy);
        Assert.Equal(VectorStoreDb.Client.VectorStoreErrorCode.Busy, busy.Code);
        Assert.NotNull(busy.RetryAfter);
        Assert.True(busy.RetryAfter >= TimeSpan.FromSeconds(1), $"retry after {busy.RetryAfter}");
    }
}
