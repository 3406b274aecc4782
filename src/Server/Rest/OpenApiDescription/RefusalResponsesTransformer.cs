using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.OpenApi;
using VectorStoreDb.Server.Operations;
using VectorStoreDb.Server.Rest.OpenAi;

namespace VectorStoreDb.Server.Rest.OpenApiDescription;

/// <summary>
/// Gives every operation the refusals it can answer, with their body's schema (RFC 7807 problem details, or OpenAI's
/// error envelope under <c>/v1</c>), and the API key it needs. The statuses follow from the endpoint: a route that
/// needs a key can answer 400, 401 and 429, and 403 when it needs an admin key; 404 when the path names something;
/// 413 when it takes a body; routes add their own (409, 422, 503) with <c>ProducesProblem</c>. Bodies that are not
/// JSON (server-sent events, snapshot files) are described as strings.
/// </summary>
internal sealed class RefusalResponsesTransformer : IOpenApiOperationTransformer
{
    public const string ProblemSchemaId = "ProblemDetails";
    public const string OpenAiErrorSchemaId = "OpenAiErrorBody";

    public async Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var document = context.Document ?? throw new InvalidOperationException("The OpenAPI document is not available to operation transformers.");
        var description = context.Description;
        bool openAi = ("/" + description.RelativePath).StartsWith(OpenAiErrorWriter.RoutePrefix + "/", StringComparison.OrdinalIgnoreCase);
        string schemaId = openAi ? OpenAiErrorSchemaId : ProblemSchemaId;
        if (document.Components?.Schemas?.ContainsKey(schemaId) != true)
        {
            document.AddComponent(schemaId, await context.GetOrCreateSchemaAsync(openAi ? typeof(OpenAiErrorBody) : typeof(ProblemDetails), null, cancellationToken));
        }

        operation.Responses ??= [];
        var statuses = new SortedSet<int>(operation.Responses.Keys.Select(k => int.TryParse(k, out int code) ? code : 0).Where(code => code >= 400));
        string? role = EndpointRoles.RequiredRole(new Endpoint(null, new EndpointMetadataCollection(description.ActionDescriptor.EndpointMetadata), null));
        if (role is not null)
        {
            statuses.UnionWith([StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status429TooManyRequests]);
            if (role == ApiKeyRoles.Admin)
            {
                statuses.Add(StatusCodes.Status403Forbidden);
            }
            if (operation.Parameters?.Any(p => p.In == ParameterLocation.Path) == true)
            {
                statuses.Add(StatusCodes.Status404NotFound);
            }
            if (operation.RequestBody is not null)
            {
                statuses.Add(StatusCodes.Status413PayloadTooLarge);
            }
        }
        foreach (int status in statuses)
        {
            operation.Responses[status.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new OpenApiResponse
            {
                Description = ReasonPhrases.GetReasonPhrase(status),
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    [openAi ? "application/json" : "application/problem+json"] = new() { Schema = new OpenApiSchemaReference(schemaId, document) },
                },
            };
        }

        // Either header carries the key; an open route says so with an empty requirement.
        operation.Security = role is null
            ? [new OpenApiSecurityRequirement()]
            :
            [
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeySecuritySchemes.Bearer, document)] = [] },
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeySecuritySchemes.ApiKeyHeader, document)] = [] },
            ];

        foreach (var response in operation.Responses.Values)
        {
            if (response.Content is null)
            {
                continue;
            }
            if (response.Content.TryGetValue("text/event-stream", out var events))
            {
                events.Schema = new OpenApiSchema
                {
                    Type = JsonSchemaType.String,
                    Description = "Server-sent events (with \"stream\": true): each data line holds one JSON event.",
                };
            }
            if (response.Content.TryGetValue("application/octet-stream", out var file))
            {
                file.Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" };
            }
        }
    }
}
