using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using VectorStoreDb.Engine;
using VectorStoreDb.Rag;
using VectorStoreDb.Server.Dashboard;
using VectorStoreDb.Server.Grpc;
using VectorStoreDb.Server.Hosting;
using VectorStoreDb.Server.Operations;
using VectorStoreDb.Server.Rest;
using VectorStoreDb.Server.Rest.OpenAi;
using VectorStoreDb.Server.Rest.OpenApiDescription;

namespace VectorStoreDb.Server;

/// <summary>Composes the server: configuration, the engine, REST and gRPC. Tests build it the same way.</summary>
public static class VectorStoreServer
{
    /// <summary>Where the server listens when neither <c>--urls</c> nor <c>ASPNETCORE_URLS</c> says otherwise: loopback only.</summary>
    public const string DefaultUrl = "http://127.0.0.1:6333";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = ApiKeyAuthentication.TranslateSwitches(args),
            ContentRootPath = AppContext.BaseDirectory,
        });
        ConfigureServices(builder);
        builder.AddVectorStoreOperations();
        configure?.Invoke(builder);
        var app = builder.Build();
        app.Services.GetRequiredService<GeneratorRegistry>();
        ConfigurePipeline(app);
        return app;
    }

    private static void ConfigureServices(WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<VectorStoreOptions>()
            .Bind(builder.Configuration.GetSection(VectorStoreOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        var limits = builder.Configuration.GetSection($"{VectorStoreOptions.SectionName}:Limits").Get<LimitsOptions>() ?? new LimitsOptions();

        var addresses = new ListenAddresses(
            (builder.Configuration["urls"] ?? DefaultUrl).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            builder.Configuration[$"{VectorStoreOptions.SectionName}:GrpcUrl"]);
        // Kestrel binds exactly what ListenAddresses says (REST plus the separate gRPC port). Hosting would also hand it
        // the urls it read (app configuration, else the host settings captured when the builder was made: --urls,
        // ASPNETCORE_URLS), and Kestrel then warns "Overriding address(es)" at every start although nothing is wrong.
        // ";" is what hosting itself uses for "no addresses": non-empty, so it does not fall back to the host
        // settings, and it splits into nothing. HTTP_PORTS (set in the aspnet container images) is dropped likewise.
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [WebHostDefaults.ServerUrlsKey] = ";",
            [WebHostDefaults.HttpPortsKey] = null,
            [WebHostDefaults.HttpsPortsKey] = null,
        });
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            addresses.Configure(kestrel);
            kestrel.Limits.MaxRequestBodySize = limits.MaxRequestBytes;
        });
        services.AddSingleton(addresses);

        services.AddSingleton(sp => EncoderSetup.CreateRegistry(builder.Configuration, sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton<EngineHost>();
        services.AddHostedService(sp => sp.GetRequiredService<EngineHost>());
        // Singleton, not transient: the container disposes transient IDisposables at the end of each request.
        services.AddSingleton(sp => sp.GetRequiredService<EngineHost>().Engine);
        ClusterSetup.AddDocumentStore(builder);

        // RAG: generators load when the host builds (a bad model folder fails start-up, naming the file);
        // RagService is created on first use, after the engine has opened.
        services.AddOptions<RagOptions>().Bind(builder.Configuration.GetSection(VectorStoreOptions.SectionName)).ValidateDataAnnotations();
        services.AddSingleton(sp => new GeneratorRegistry(sp.GetRequiredService<IOptions<RagOptions>>().Value, sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton(sp => new RagService(sp.GetRequiredService<VectorStoreEngine>(), sp.GetRequiredService<GeneratorRegistry>(),
            sp.GetRequiredService<IOptions<RagOptions>>().Value.Rag, sp.GetRequiredService<ILogger<RagService>>(),
            new DocumentStoreRetriever(sp.GetRequiredService<IDocumentStore>())));

        // Ahead of the default writer, so problem details under /v1 come out in OpenAI's error envelope.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProblemDetailsWriter, OpenAiErrorWriter>());
        services.AddProblemDetails();
        services.AddExceptionHandler<ProblemDetailsExceptionHandler>();
        services.Configure<JsonOptions>(json => ConfigureJson(json.SerializerOptions));
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddOpenApi(openApi =>
        {
            openApi.AddSchemaTransformer<TruthfulSchemaTransformer>();
            openApi.AddOperationTransformer<RefusalResponsesTransformer>();
            openApi.AddDocumentTransformer<ApiKeySecuritySchemes>();
        });

        services.AddGrpc(grpc =>
        {
            grpc.Interceptors.Add<ErrorInterceptor>();
            grpc.MaxReceiveMessageSize = (int)Math.Min(int.MaxValue, limits.MaxRequestBytes);
            grpc.MaxSendMessageSize = null;
            // No catch-all endpoint for unknown services: it would also claim REST paths of two segments sent with a
            // gRPC content type (and answer them UNIMPLEMENTED under its own, admin, role). Unknown services get a
            // 404, which gRPC clients report as UNIMPLEMENTED.
            grpc.IgnoreUnknownServices = true;
        });
        services.AddGrpcReflection();
        services.AddDashboard();
    }

    /// <summary>
    /// camelCase, enums as strings, "NaN"/"Infinity" accepted so they reach validation and get a clear message, and
    /// unknown fields refused: a misspelled setting must not be dropped while the client believes it took effect.
    /// </summary>
    public static void ConfigureJson(JsonSerializerOptions options)
    {
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
    }

    private static void ConfigurePipeline(WebApplication app)
    {
        app.UseRequestStatistics();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseVectorStoreOperations();

        app.MapOpenApi().RequireReadKey();
        app.MapGet("/healthz", () => TypedResults.Ok(new ProbeStatusDto("ok"))).AllowAnonymous().WithTags("Health").WithName("liveness").WithSummary("Liveness: the process is up.");
        app.MapGet("/readyz", (IDocumentStore store) => store.IsReady
                ? Results.Ok(new ProbeStatusDto("ready"))
                : Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Starting", detail: "The store is still recovering (or, in cluster mode, this node is not an active member yet)."))
            .AllowAnonymous().WithTags("Health").WithName("readiness").Produces<ProbeStatusDto>().ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithSummary("Readiness: storage recovered and models loaded; in cluster mode also an active cluster member.");
        app.MapVectorStoreRestApi();
        app.MapDocumentListApi();
        app.MapDashboard();
        app.MapVectorStoreChatApi();
        app.MapSnapshotRestApi();
        app.MapOpenAiEmbeddings();
        app.MapOpenAiChat();
        app.MapOpenAiModels();
        app.MapClusterApi();

        app.MapGrpcService<CollectionsGrpcService>();
        app.MapGrpcService<DocumentsGrpcService>();
        app.MapGrpcService<SearchGrpcService>();
        app.MapGrpcService<EmbeddingsGrpcService>();
        app.MapGrpcService<RagGrpcService>();
        app.MapGrpcService<SnapshotsGrpcService>();
        app.MapGrpcService<ClusterGrpcService>();
        app.MapGrpcReflectionService().RequireReadKey();
        app.MapVectorStoreOperations();
    }

    /// <summary>Validated options, for components that need them outside DI.</summary>
    internal static VectorStoreOptions Options(this IServiceProvider services) => services.GetRequiredService<IOptions<VectorStoreOptions>>().Value;
}
