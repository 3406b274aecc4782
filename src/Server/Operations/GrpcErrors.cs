using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Mvc;
using VectorStoreDb.Engine;
using VectorStoreDb.Wire;

namespace VectorStoreDb.Server.Operations;

/// <summary>Refusals written by middleware, before any endpoint runs: problem details for REST, a trailers-only status for gRPC.</summary>
internal static class Refusal
{
    // retryAfter: for refusals worth retrying, sent to gRPC clients as google.rpc.RetryInfo (REST has the Retry-After header).
    public static async Task WriteAsync(HttpContext context, int httpStatus, StatusCode grpcStatus, string title, string detail, TimeSpan? retryAfter = null)
    {
        if (RequestClassifier.IsGrpc(context))
        {
            // A trailers-only gRPC response: HTTP 200 with the status in the headers, which every gRPC client reads.
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/grpc";
            context.Response.Headers["grpc-status"] = ((int)grpcStatus).ToString(System.Globalization.CultureInfo.InvariantCulture);
            context.Response.Headers["grpc-message"] = Uri.EscapeDataString(detail);
            if (httpStatus == StatusCodes.Status429TooManyRequests)
            {
                // The same words as the engine's busy refusal, so the SDK tells "retry later" from "too large".
                context.Response.Headers[ErrorTable.ErrorCodeTrailer] = ErrorTable.For(ErrorCode.Busy).ErrorCodeTrailer;
            }
            // Binary metadata travels base64-encoded in HTTP/2 headers.
            context.Response.Headers[ErrorTable.StatusDetailsTrailer] =
                Convert.ToBase64String(ErrorTable.RichStatus(grpcStatus, detail, retryAfter: retryAfter).ToByteArray());
            return;
        }
        context.Response.StatusCode = httpStatus;
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = httpStatus, Title = title, Detail = detail, Type = $"https://httpstatuses.io/{httpStatus}" },
        });
    }
}
