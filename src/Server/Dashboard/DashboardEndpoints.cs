using System.Diagnostics;
using System.Reflection;
using VectorStoreDb.Server.Hosting;
using VectorStoreDb.Server.Operations;

namespace VectorStoreDb.Server.Dashboard;

/// <summary>
/// The web dashboard (<c>GET /dashboard</c>), its server statistics (<c>GET /stats</c>) and the request
/// statistics middleware. Wired in by one line each in <see cref="VectorStoreServer"/>.
/// </summary>
public static class DashboardEndpoints
{
    // The page loads only its own files and talks only to this server: no inline script, no CDN.
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>Registers the request statistics and the embedded dashboard files.</summary>
    public static IServiceCollection AddDashboard(this IServiceCollection services)
    {
        services.AddSingleton<RequestStatistics>();
        services.AddSingleton<IngestStatistics>();
        services.AddSingleton<DashboardAssets>();
        return services;
    }

    /// <summary>Times every request into <see cref="RequestStatistics"/>. Put it first, so errors turned into responses are counted too.</summary>
    public static IApplicationBuilder UseRequestStatistics(this IApplicationBuilder app)
    {
        var statistics = app.ApplicationServices.GetRequiredService<RequestStatistics>();
        return app.Use(async (context, next) =>
        {
            var kind = RequestStatistics.Classify(context.Request.Path);
            if (kind == RequestKind.None)
            {
                await next(context);
                return;
            }
            long start = Stopwatch.GetTimestamp();
            try
            {
                await next(context);
            }
            finally
            {
                statistics.Record(kind, start, Stopwatch.GetTimestamp(), context.Response.StatusCode);
            }
        });
    }

    /// <summary>Maps <c>/dashboard</c> (anonymous: the page asks for the API key itself) and <c>/stats</c>.</summary>
    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder app)
    {
        // The catch-all also matches "/dashboard" (routing ignores a trailing slash).
        app.MapGet("/dashboard/{**path}", (string? path, HttpContext http, DashboardAssets assets) =>
        {
            if (string.IsNullOrEmpty(path) && !(http.Request.Path.Value ?? "").EndsWith('/'))
            {
                // Relative asset paths in the page need the trailing slash.
                return Results.Redirect($"{http.Request.PathBase}/dashboard/");
            }
            if (!assets.TryGet(path ?? "", out var asset))
            {
                return Results.NotFound();
            }
            var headers = http.Response.Headers;
            headers.ETag = asset.ETag;
            // Revalidate every time (cheap 304s) so a server upgrade never leaves a stale app in the browser.
            headers.CacheControl = "no-cache";
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            if (http.Request.Headers.IfNoneMatch.Contains(asset.ETag))
            {
                return Results.StatusCode(StatusCodes.Status304NotModified);
            }
            return Results.Bytes(asset.Content, asset.ContentType);
        }).AllowAnonymous().ExcludeFromDescription();

        app.MapGet("/stats", async (RequestStatistics statistics, IngestStatistics ingest, IDocumentStore store, EngineHost host, CancellationToken cancellationToken, int? window) =>
        {
            // Through the store, so a cluster node reports the cluster's collections and documents, not its own engine's.
            var collections = await store.ListCollectionsAsync(cancellationToken);
            var gc = GC.GetGCMemoryInfo();
            var span = TimeSpan.FromSeconds(Math.Clamp(window ?? 60, 1, 3600));
            return TypedResults.Ok(new ServerStatsDto(
                Status: host.IsReady ? "ready" : "starting",
                Version: Version,
                StartedAt: statistics.StartedAt,
                UptimeSeconds: (DateTimeOffset.UtcNow - statistics.StartedAt).TotalSeconds,
                Collections: collections.Count,
                Documents: collections.Sum(c => c.DocumentCount),
                Requests: statistics.Snapshot(span),
                Ingest: ingest.Snapshot(span),
                Memory: new MemoryStatsDto(Environment.WorkingSet, GC.GetTotalMemory(false), gc.HeapSizeBytes, GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)),
                Runtime: new RuntimeStatsDto(Environment.Version.ToString(), Environment.ProcessorCount, Environment.OSVersion.ToString())));
        }).WithTags("Health").RequireReadKey().WithName("getStats").WithSummary("Version, uptime, document counts, recent request rates and latency percentiles and the ingest rate (window in seconds, default 60), memory.");
        return app;
    }

    private static readonly string Version =
        typeof(DashboardEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(DashboardEndpoints).Assembly.GetName().Version?.ToString() ?? "0.0.0";
}

/// <summary>Body of <c>GET /stats</c>.</summary>
public sealed record ServerStatsDto(
    string Status,
    string Version,
    DateTimeOffset StartedAt,
    double UptimeSeconds,
    int Collections,
    long Documents,
    RequestStatisticsSnapshot Requests,
    IngestStatisticsSnapshot Ingest,
    MemoryStatsDto Memory,
    RuntimeStatsDto Runtime);

/// <summary>Process memory in bytes, and garbage collections per generation since start.</summary>
public sealed record MemoryStatsDto(long WorkingSetBytes, long ManagedBytes, long HeapSizeBytes, int Gen0Collections, int Gen1Collections, int Gen2Collections);

public sealed record RuntimeStatsDto(string Dotnet, int Processors, string Os);
