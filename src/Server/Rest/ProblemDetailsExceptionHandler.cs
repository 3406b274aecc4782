using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using VectorStoreDb.Engine;
using VectorStoreDb.Server.Rest.OpenAi;

namespace VectorStoreDb.Server.Rest;

/// <summary>
/// Turns refusals into RFC 7807 problem details with the status the error code maps to, the message as
/// <c>detail</c> and the offending input as the <c>field</c> extension. Unexpected exceptions stay 500s.
/// Under <c>/v1</c> the same problem is written in OpenAI's error envelope (<see cref="OpenAiErrorWriter"/>).
/// </summary>
internal sealed class ProblemDetailsExceptionHandler(IProblemDetailsService problemDetails, ILogger<ProblemDetailsExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        (int status, string title, string detail, string? field) = exception switch
        {
            VectorStoreException e => (StatusOf(e.Code), TitleOf(e.Code), e.Message, e.Field),
            OpenAiRequestException e => (e.Status, ReasonPhrases.GetReasonPhrase(e.Status), e.Message, e.Param),
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
        if (exception is OpenAiRequestException { Code: { } code })
        {
            problem.Extensions[OpenAiError.CodeKey] = code;
        }
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    public static int StatusOf(ErrorCode code) => code switch
    {
        ErrorCode.InvalidArgument => StatusCodes.Status400BadRequest,
        ErrorCode.NotFound => StatusCodes.Status404NotFound,
        ErrorCode.AlreadyExists => StatusCodes.Status409Conflict,
        ErrorCode.LimitExceeded => StatusCodes.Status413PayloadTooLarge,
        ErrorCode.FailedPrecondition => StatusCodes.Status422UnprocessableEntity,
        ErrorCode.Unavailable => StatusCodes.Status503ServiceUnavailable,
        ErrorCode.Busy => StatusCodes.Status429TooManyRequests,
        _ => StatusCodes.Status500InternalServerError,
    };

    private static string TitleOf(ErrorCode code) => code switch
    {
        ErrorCode.InvalidArgument => "Invalid argument",
        ErrorCode.NotFound => "Not found",
        ErrorCode.AlreadyExists => "Already exists",
        ErrorCode.LimitExceeded => "Limit exceeded",
        ErrorCode.FailedPrecondition => "Failed precondition",
        ErrorCode.Unavailable => "Unavailable",
        ErrorCode.Busy => "Too many requests",
        _ => "Error",
    };

    private static string DescribeBadRequest(BadHttpRequestException e) =>
        e.InnerException is JsonException json ? $"Malformed JSON{(json.Path is { } p ? $" at {p}" : "")}: {json.Message}" : e.Message;

    private static string? JsonPathOf(BadHttpRequestException e) => (e.InnerException as JsonException)?.Path;
}
