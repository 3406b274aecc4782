using System.Diagnostics;
using System.Globalization;
using System.Threading.RateLimiting;
using StatusCode = Grpc.Core.StatusCode;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using VectorStoreDb.Cluster.Diagnostics;
using VectorStoreDb.Engine.Diagnostics;
using VectorStoreDb.Server.Hosting;

namespace VectorStoreDb.Server.Operations;

/// <summary>
/// What makes the server operable: OpenTelemetry traces/metrics/logs, the Prometheus scrape endpoint, the gRPC
/// health service, API keys, rate limits and slow-client protection. Kept apart from the API so the composition
/// root only calls <see cref="AddVectorStoreOperations"/>, <see cref="UseVectorStoreOperations"/> and
/// <see cref="MapVectorStoreOperations"/>.
/// </summary>
public static class OperationsExtensions
{
    /// <summary>The service name reported in traces and metrics unless <c>OTEL_SERVICE_NAME</c> says otherwise.</summary>
    public const string ServiceName = "vectorstore";

    /// <summary>Where Prometheus scrapes.</summary>
    public const string MetricsPath = "/metrics";

    public static WebApplicationBuilder AddVectorStoreOperations(this WebApplicationBuilder builder)
    {
        builder.AddVectorStoreTelemetry();
        builder.Services.AddVectorStoreAuth(builder.Configuration);
        builder.Services.AddGrpcHealthChecks().AddCheck<EngineReadyHealthCheck>("engine");
        builder.AddVectorStoreTrafficLimits();
        return builder;
    }

    /// <summary>Traces (ASP.NET Core + <see cref="VectorStoreTelemetry.ActivitySourceName"/>), metrics (<see cref="VectorStoreTelemetry.MeterName"/> + ASP.NET Core + Kestrel) and logs with trace ids.</summary>
    public static WebApplicationBuilder AddVectorStoreTelemetry(this WebApplicationBuilder builder)
    {
        // Every log scope carries the trace and span id, so a log line can be found from a trace and back.
        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(ServiceName, serviceVersion: typeof(OperationsExtensions).Assembly.GetName().Version?.ToString()))
            .WithTracing(tracing => tracing
                .AddSource(VectorStoreTelemetry.ActivitySourceName)
                .AddSource(ClusterTelemetry.ActivitySourceName)
                .AddAspNetCoreInstrumentation(o => o.Filter = context => !RequestClassifier.IsOpen(context)))
            .WithMetrics(metrics => metrics
                .AddMeter(VectorStoreTelemetry.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddMeter("Microsoft.AspNetCore.Server.Kestrel")
                .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0)); // scrapes are cheap; a cache would hide fresh values
        // OTLP only when asked for through the standard variables, so a plain start needs no collector.
        if (IsOtlpConfigured(builder.Configuration))
        {
            otel.WithLogging().UseOtlpExporter();
        }
        return builder;
    }

    /// <summary>True when any of the standard <c>OTEL_EXPORTER_OTLP_*ENDPOINT</c> settings is present.</summary>
    public static bool IsOtlpConfigured(IConfiguration configuration) =>
        new[] { "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT" }
            .Any(key => !string.IsNullOrWhiteSpace(configuration[key]));

    /// <summary>Rate limits per key/IP, the request timeout and Kestrel's slow-client limits.</summary>
    public static WebApplicationBuilder AddVectorStoreTrafficLimits(this WebApplicationBuilder builder)
    {
        var server = builder.Configuration.GetSection(ServerLimitsOptions.SectionName).Get<ServerLimitsOptions>() ?? new ServerLimitsOptions();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(server.RequestHeadersTimeoutSeconds);
            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(server.KeepAliveTimeoutSeconds);
            // gRPC streaming calls lift this per request; everything else must keep uploading.
            kestrel.Limits.MinRequestBodyDataRate = server.MinRequestBodyBytesPerSecond > 0
                ? new Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate(server.MinRequestBodyBytesPerSecond, TimeSpan.FromSeconds(server.MinRequestBodyGraceSeconds))
                : null;
        });
        builder.Services.AddRequestTimeouts(o =>
        {
            if (server.RequestTimeoutSeconds > 0)
            {
                o.DefaultPolicy = new RequestTimeoutPolicy
                {
                    Timeout = TimeSpan.FromSeconds(server.RequestTimeoutSeconds),
                    TimeoutStatusCode = StatusCodes.Status504GatewayTimeout,
                    // Problem details over REST and DEADLINE_EXCEEDED over gRPC, like every other refusal (a bare 504
                    // would reach a gRPC client as an HTTP error, not as a status it can act on).
                    WriteTimeoutResponse = context => Refusal.WriteAsync(context, StatusCodes.Status504GatewayTimeout, StatusCode.DeadlineExceeded,
                        "Request timeout", $"The request took longer than {server.RequestTimeoutSeconds.ToString(CultureInfo.InvariantCulture)} s (VectorStore:Server:RequestTimeoutSeconds)."),
                };
            }
        });

        var limits = builder.Configuration.GetSection(RateLimitOptions.SectionName).Get<RateLimitOptions>() ?? new RateLimitOptions();
        builder.Services.AddSingleton(limits);
        builder.Services.AddRateLimiter(o =>
        {
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                double permits = EffectivePermitsPerSecond(limits, context.RequestServices.GetRequiredService<ListenAddresses>());
                if (permits <= 0 || RequestClassifier.IsOpen(context))
                {
                    return RateLimitPartition.GetNoLimiter("open");
                }
                // Per key when authenticated (the key's id, never the secret), else per client address.
                string partition = context.User.FindFirst(ApiKeyAuthentication.KeyIdClaim)?.Value
                    ?? $"ip:{context.Connection.RemoteIpAddress}";
                return RateLimitPartition.GetTokenBucketLimiter(partition, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = limits.Burst ?? Math.Max(1, (int)Math.Ceiling(permits)),
                    TokensPerPeriod = Math.Max(1, (int)Math.Ceiling(permits / 10)),
                    ReplenishmentPeriod = TimeSpan.FromSeconds(Math.Max(1, (int)Math.Ceiling(permits / 10)) / permits),
                    QueueLimit = limits.QueueLimit,
                    QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                    AutoReplenishment = true,
                });
            });
            o.OnRejected = async (rejected, _) =>
            {
                TimeSpan? wait = null;
                if (rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                {
                    wait = TimeSpan.FromSeconds(Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)));
                    rejected.HttpContext.Response.Headers.RetryAfter = wait.Value.TotalSeconds.ToString(CultureInfo.InvariantCulture);
                }
                await Refusal.WriteAsync(rejected.HttpContext, StatusCodes.Status429TooManyRequests, StatusCode.ResourceExhausted,
                    "Too many requests", "Rate limit exceeded for this API key or client; retry later.", wait ?? TimeSpan.FromSeconds(1));
            };
        });
        return builder;
    }

    /// <summary>The configured rate, or the default: off on loopback-only servers, generous otherwise.</summary>
    public static double EffectivePermitsPerSecond(RateLimitOptions options, ListenAddresses addresses) =>
        options.PermitsPerSecond ?? (addresses.RestUrls.Append(addresses.GrpcUrl).All(ApiKeyAuthentication.IsLoopback)
            ? 0
            : RateLimitOptions.DefaultNonLoopbackPermitsPerSecond);

    /// <summary>
    /// The request-target guard, routing, request metrics, auth, rate limits, request timeouts and the drainable
    /// request body, in that order
    /// (the guard before routing so a normalised path cannot reach another route; auth after routing so it follows
    /// the endpoint; auth before limits so limits partition by key).
    /// </summary>
    public static WebApplication UseVectorStoreOperations(this WebApplication app)
    {
        app.UseRequestTargetGuard();
        app.UseRouting();
        app.Use(async (context, next) =>
        {
            long started = Stopwatch.GetTimestamp();
            try
            {
                await next(context);
            }
            finally
            {
                if (!RequestClassifier.IsOpen(context))
                {
                    string transport = RequestClassifier.IsGrpc(context) ? "grpc" : "rest";
                    VectorStoreTelemetry.RequestDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds,
                        new KeyValuePair<string, object?>(VectorStoreTelemetry.Tags.Operation, RequestClassifier.Operation(context)),
                        new KeyValuePair<string, object?>(VectorStoreTelemetry.Tags.Transport, transport),
                        new KeyValuePair<string, object?>("http.response.status_code", context.Response.StatusCode));
                }
            }
        });
        app.UseVectorStoreAuth();
        var limits = app.Services.GetRequiredService<RateLimitOptions>();
        if (EffectivePermitsPerSecond(limits, app.Services.GetRequiredService<ListenAddresses>()) > 0)
        {
            app.UseRateLimiter();
        }
        app.UseRequestTimeouts();
        // After the timeout (whose token cancels body reads) so a slow upload it cuts short leaves Kestrel able to drain.
        app.Use((context, next) =>
        {
            DrainableRequestBody.Install(context);
            return next(context);
        });
        return app;
    }

    /// <summary><c>/metrics</c> (Prometheus text format) and the standard gRPC health service.</summary>
    public static WebApplication MapVectorStoreOperations(this WebApplication app)
    {
        // Probes and scrapes carry no data and must work without secrets.
        app.MapPrometheusScrapingEndpoint(MetricsPath).AllowAnonymous();
        app.MapGrpcHealthChecksService().AllowAnonymous();
        return app;
    }
}

/// <summary>Healthy once the engine has recovered its storage (the gRPC health service reports SERVING then).</summary>
internal sealed class EngineReadyHealthCheck(EngineHost host) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(host.IsReady ? HealthCheckResult.Healthy("ready") : HealthCheckResult.Unhealthy("The store is still recovering."));
}
