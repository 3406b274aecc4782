using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using VectorStoreDb.Engine;
using VectorStoreDb.Server.Rest.OpenAi;
using VectorStoreDb.Wire;

namespace VectorStoreDb.Server.Rest;

/// <summary>
/// Turns refusals into RFC 7807 problem details with the status <see cref="ErrorTable"/> gives the error code, the message as
/// <c>detail</c> and the offending input as the <c>field</c> extension. Unexpected exceptions stay 500s.
/// Under <c>/v1</c> the same problem is written in OpenAI's error envelope (<see cref="OpenAiErrorWriter"/>).
/// </summary>
internal sealed class ProblemDetailsExceptionHandler(IProblemDetailsService problemDetails, ILogger<ProblemDetailsExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        (int status, string title, string detail, string? field) = exception switch
        {
            VectorStoreException e => (ErrorTable.For(e.Code).HttpStatus, ErrorTable.For(e.Code).Title, e.Message, e.Field),
            OpenAiRequestException e => (e.Status, ReasonPhrases.GetReasonPhrase(e.Status), e.Message, e.Param),
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } e =>
                (StatusCodes.Status413PayloadTooLarge, "Request too large", e.Message, (string?)null),
            BadHttpRequestException { InnerException: JsonException json } => JsonProblem(httpContext, json),
            BadHttpRequestException e => (e.StatusCode, "Bad request", e.Message, null),
            JsonException e => JsonProblem(httpContext, e),
            // System.Text.Json marks what it throws on reading bad input this way (a string with an unpaired UTF-16
            // surrogate, a value of the wrong kind read from a JsonElement): the client's fault, never a 500.
            InvalidOperationException { Source: JsonRethrowableSource } e =>
                (StatusCodes.Status400BadRequest, "Invalid JSON", $"The JSON body holds a value that cannot be read: {e.Message}", (string?)null),
            OperationCanceledException when httpContext.RequestAborted.IsCancellationRequested => (499, "Client closed request", "The client went away.", null),
            _ => (0, "", "", null),
        };
        if (status == 0)
        {
            return false;
        }
        if (status >= 500)
        {
            logger.LogWarning(exception, "Request {Path} failed with {Status}", httpContext.Request.Path, status);
        }
        httpContext.Response.StatusCode = status;
        if (status == StatusCodes.Status429TooManyRequests)
        {
            httpContext.Response.Headers.RetryAfter = "1";
        }
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail, Type = $"https://httpstatuses.io/{status}" };
        if (field is not null)
        {
            problem.Extensions["field"] = field;
        }
        if (exception is OpenAiRequestException { Code: { } code })
        {
            problem.Extensions[OpenAiError.CodeKey] = code;
        }
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    private const string JsonRethrowableSource = "System.Text.Json.Rethrowable";

    /// <summary>
    /// A body that is not valid JSON or does not fit the request's shape. Unknown fields (refused by
    /// <c>JsonUnmappedMemberHandling.Disallow</c>) are named plainly; on the OpenAI routes in OpenAI's words.
    /// </summary>
    private static (int, string, string, string?) JsonProblem(HttpContext httpContext, JsonException e)
    {
        string? field = e.Path is { } path ? FieldOf(path) : null;
        if (e.Message.Contains("could not be mapped to any .NET member", StringComparison.Ordinal) && field is not null)
        {
            string name = LastSegment(field);
            return httpContext.Request.Path.StartsWithSegments("/v1", StringComparison.OrdinalIgnoreCase)
                ? (StatusCodes.Status400BadRequest, "Invalid argument", $"Unrecognized request argument supplied: {name}", name)
                : (StatusCodes.Status400BadRequest, "Unknown field", $"{field}: unknown field; check its spelling and where it belongs (see /openapi/v1.json).", field);
        }
        return (StatusCodes.Status400BadRequest, "Malformed JSON", field is null ? e.Message : $"{field}: {e.Message}", field);
    }

    // "$.documents[0].id" -> "documents[0].id", the way every other refusal names its field.
    private static string FieldOf(string jsonPath) => jsonPath.StartsWith("$.", StringComparison.Ordinal) ? jsonPath[2..] : jsonPath.TrimStart('$');

    private static string LastSegment(string field)
    {
        int dot = field.LastIndexOf('.');
        int bracket = field.LastIndexOf("['", StringComparison.Ordinal);
        return bracket > dot ? field[(bracket + 2)..].TrimEnd(']').TrimEnd('\'') : field[(dot + 1)..];
    }
}
