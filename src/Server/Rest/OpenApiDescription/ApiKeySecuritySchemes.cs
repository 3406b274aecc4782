using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace VectorStoreDb.Server.Rest.OpenApiDescription;

/// <summary>
/// The two ways a client sends its API key (<see cref="Operations.ApiKeyAuthentication"/>): <c>Authorization: Bearer</c>
/// (what OpenAI SDKs send) and the <c>api-key</c> header. Operations name them in <see cref="RefusalResponsesTransformer"/>.
/// </summary>
internal sealed class ApiKeySecuritySchemes : IOpenApiDocumentTransformer
{
    public const string Bearer = "bearer";
    public const string ApiKeyHeader = "apiKey";

    private static readonly (string Name, string Description)[] TagDescriptions =
    [
        ("Collections", "Create, inspect and delete collections."),
        ("Documents", "Insert, read, list and delete documents."),
        ("Search", "Dense, text (BM25) and hybrid search with metadata filters."),
        ("Embeddings", "Embed texts with the server's encoders."),
        ("Chat", "Answers from a collection's passages (RAG), with citations."),
        ("OpenAI", "OpenAI-compatible routes: embeddings, chat completions, models."),
        ("Snapshots", "Consistent snapshots of a collection: create, download, restore, delete."),
        ("Health", "Probes and server statistics."),
    ];

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.Title = "VectorStore";
        document.Info.Description = "REST API of the VectorStore server, and its OpenAI-compatible routes under /v1. " +
            "With API keys configured, every route but the probes needs a key: a read key for reads and searches, an admin key for writes.";
        // Linters (and some generators) join paths to the server URL: "http://host:port/" + "/collections" would double the slash.
        foreach (var server in document.Servers ?? [])
        {
            server.Url = server.Url?.TrimEnd('/');
        }
        document.Tags = new HashSet<OpenApiTag>(TagDescriptions.Select(t => new OpenApiTag { Name = t.Name, Description = t.Description }));
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[Bearer] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "The API key as a bearer token: Authorization: Bearer <key>.",
        };
        document.Components.SecuritySchemes[ApiKeyHeader] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = "api-key",
            Description = "The API key in the api-key header.",
        };
        return Task.CompletedTask;
    }
}
