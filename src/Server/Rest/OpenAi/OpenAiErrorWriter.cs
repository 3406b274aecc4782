using System.Text.Json;
using System.Text.Json.Serialization;

namespace VectorStoreDb.Server.Rest.OpenAi;

/// <summary>
/// Every error under <c>/v1</c> in OpenAI's envelope <c>{"error":{"message","type","param","code"}}</c> instead of
/// RFC 7807 problem details: OpenAI SDKs read only that shape, and show a bare status otherwise. It is a problem-details
/// writer, registered ahead of the default one, so whatever writes problem details (the exception handler, status code
/// pages for unknown routes, the API-key and rate refusals) answers OpenAI clients in their language from one place.
/// </summary>
internal sealed class OpenAiErrorWriter : IProblemDetailsWriter
{
    public const string RoutePrefix = "/v1";

    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    public bool CanWrite(ProblemDetailsContext context) => IsOpenAiRoute(context.HttpContext.Request);

    public static bool IsOpenAiRoute(HttpRequest request) => request.Path.StartsWithSegments(RoutePrefix, StringComparison.OrdinalIgnoreCase);

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        var problem = context.ProblemDetails;
        int status = problem.Status ?? http.Response.StatusCode;
        string? param = problem.Extensions.TryGetValue("field", out object? field) ? field?.ToString() : null;
        string? code = problem.Extensions.TryGetValue(OpenAiError.CodeKey, out object? explicitCode) ? explicitCode?.ToString() : OpenAiError.CodeOf(status);
        string message = problem.Detail ?? problem.Title ?? $"HTTP {status}";
        var error = new OpenAiErrorBody(new OpenAiError(message, OpenAiError.TypeOf(status), param, code));
        http.Response.ContentType = "application/json";
        return new ValueTask(http.Response.WriteAsync(JsonSerializer.Serialize(error, Json), http.RequestAborted));
    }
}

/// <summary>OpenAI's error envelope.</summary>
public sealed record OpenAiErrorBody([property: JsonPropertyName("error")] OpenAiError Error);

/// <summary>One error as OpenAI writes it; <c>param</c> and <c>code</c> are always present, null when unknown.</summary>
public sealed record OpenAiError(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("param")] string? Param,
    [property: JsonPropertyName("code")] string? Code)
{
    /// <summary>Problem-details extension that overrides the <c>code</c> derived from the status (e.g. <c>unsupported_parameter</c>).</summary>
    public const string CodeKey = "openaiCode";

    /// <summary>OpenAI's types: request errors, authentication, rate limits and server errors.</summary>
    public static string TypeOf(int status) => status switch
    {
        StatusCodes.Status401Unauthorized => "authentication_error",
        StatusCodes.Status403Forbidden => "permission_error",
        StatusCodes.Status429TooManyRequests => "rate_limit_error",
        >= 500 => "server_error",
        _ => "invalid_request_error",
    };

    public static string? CodeOf(int status) => status switch
    {
        StatusCodes.Status401Unauthorized => "invalid_api_key",
        StatusCodes.Status404NotFound => "not_found",
        StatusCodes.Status413PayloadTooLarge => "request_too_large",
        StatusCodes.Status429TooManyRequests => "rate_limit_exceeded",
        StatusCodes.Status503ServiceUnavailable => "service_unavailable",
        _ => null,
    };
}
