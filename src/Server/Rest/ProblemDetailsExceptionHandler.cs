using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using VectorStoreDb.Engine;
using VectorStoreDb.Wire;

namespace VectorStoreDb.Server.Rest;

/// <summary>
/// Turns refusals into RFC 7807 problem details with the status <see cref="ErrorTable"/> gives the error code, the message as
/// <c>detail</c> and the offending input as the <c>field</c> extension. Unexpected exceptions stay 500s.
/// </summary>
internal sealed class ProblemDetailsExceptionHandler(IProblemDetailsService problemDetails, ILogger<ProblemDetailsExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        (int status, string title, string detail, string? field) = exception switch
        {
            VectorStoreException e => (ErrorTable.For(e.Code).HttpStatus, ErrorTable.For(e.Code).Title, e.Message, e.Field),
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } e =>
                (StatusCodes.Status413PayloadTooLarge, "Request too large", e.Message, (string?)null),
            BadHttpRequestException e => (e.StatusCode, "Bad request", DescribeBadRequest(e), JsonPathOf(e)),
            JsonException e => (StatusCodes.Status400BadRequest, "Malformed JSON", e.Message, e.Path),
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
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    private static string DescribeBadRequest(BadHttpRequestException e) =>
        e.InnerException is JsonException json ? $"Malformed JSON{(json.Path is { } p ? $" at {p}" : "")}: {json.Message}" : e.Message;

    private static string? JsonPathOf(BadHttpRequestException e) => (e.InnerException as JsonException)?.Path;
}
