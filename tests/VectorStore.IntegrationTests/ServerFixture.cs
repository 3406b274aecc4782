using System.Net.Http.Json;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using VectorStoreDb.Server;
using VectorStoreDb.Server.Hosting;

namespace VectorStoreDb.IntegrationTests;

/// <summary>
/// The real server on free loopback ports (REST and gRPC) over a fresh data folder; disposed after the
/// test class. <see cref="RestartAsync"/> stops it and starts a new one on the same folder.
/// </summary>
public class ServerFixture : IAsyncLifetime
{
    private WebApplication? _app;

    public string DataPath { get; } = Path.Combine(Path.GetTempPath(), "vectorstore-it", Guid.NewGuid().ToString("N"));

    public HttpClient Http { get; private set; } = null!;

    public GrpcChannel Channel { get; private set; } = null!;

    public Uri RestAddress { get; private set; } = null!;

    public Uri GrpcAddress { get; private set; } = null!;

    /// <summary>Extra command-line settings for this fixture's server.</summary>
    protected virtual IEnumerable<string> ExtraArguments => [];

    /// <summary>Handler of <see cref="Http"/> and <see cref="Channel"/> (e.g. one that trusts a test certificate); null for the default.</summary>
    protected virtual HttpMessageHandler? CreateHttpHandler() => null;

    /// <summary>Extra setup of this fixture's server (e.g. an in-memory trace exporter).</summary>
    protected virtual void ConfigureServer(WebApplicationBuilder builder)
    {
    }

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(DataPath);
        await StartAsync();
    }

    public async Task RestartAsync()
    {
        await StopAsync();
        await StartAsync();
    }

    private async Task StartAsync()
    {
        string[] args =
        [
            "--urls", "http://127.0.0.1:0",
            "--VectorStore:GrpcUrl=http://127.0.0.1:0",
            $"--VectorStore:DataPath={DataPath}",
            "--Logging:LogLevel:Default=Warning",
            // Tests not about encoders stay on the cheap deterministic demo encoder and never read the built-in models.
            "--VectorStore:DefaultEncoder=demo", "--VectorStore:BuiltInEncoders:Preload=false",
            .. ExtraArguments,
        ];
        _app = VectorStoreServer.Build(args, ConfigureServer);
        await _app.StartAsync();
        var addresses = _app.Services.GetRequiredService<ListenAddresses>();
        RestAddress = addresses.Rest;
        GrpcAddress = addresses.Grpc;
        Http = CreateHttpHandler() is { } handler ? new HttpClient(handler) { BaseAddress = RestAddress } : new HttpClient { BaseAddress = RestAddress };
        Channel = CreateHttpHandler() is { } grpcHandler
            ? GrpcChannel.ForAddress(GrpcAddress, new GrpcChannelOptions { HttpHandler = grpcHandler })
            : GrpcChannel.ForAddress(GrpcAddress);
        // The store recovers in the background; /readyz says when requests will be served.
        for (var deadline = DateTime.UtcNow.AddSeconds(30); !(await Http.GetAsync("/readyz")).IsSuccessStatusCode;)
        {
            Assert.True(DateTime.UtcNow < deadline, "the server did not become ready within 30 s");
            await Task.Delay(20);
        }
    }

    private async Task StopAsync()
    {
        Http?.Dispose();
        Channel?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
    }

    public async Task DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(DataPath, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The running server's services (tests reach in only to pin down timing, e.g. hold a generation slot).</summary>
    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("The server is not running.");

    /// <summary>A collection name no other test uses.</summary>
    public static string UniqueName(string prefix = "c") => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(64, prefix.Length + 33)];

    /// <summary>Creating a collection with <paramref name="json"/> is a 400 naming <paramref name="field"/>, and creates nothing.</summary>
    public async Task AssertCreateRefusedAsync(string json, string field)
    {
        string name = UniqueName();
        var response = await Http.PutAsync($"/collections/{name}", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(field, System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("field").GetString());
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await Http.GetAsync($"/collections/{name}")).StatusCode);
    }

    public async Task CreateDemoCollectionAsync(string name, string metric = "cosine")
    {
        var response = await Http.PutAsJsonAsync($"/collections/{name}", new { metric, encoder = "demo" });
        response.EnsureSuccessStatusCode();
    }
}

/// <summary>A server with a 1 MiB request limit, to test 413 / RESOURCE_EXHAUSTED without huge payloads.</summary>
public sealed class SmallLimitServerFixture : ServerFixture
{
    protected override IEnumerable<string> ExtraArguments => ["--VectorStore:Limits:MaxRequestBytes=1048576"];
}
