using Grpc.Core;
using Microsoft.AspNetCore.Mvc;

namespace VectorStoreDb.Server.Operations;

/// <summary>Refusals written by middleware, before any endpoint runs: problem details for REST, a trailers-only status for gRPC.</summary>
internal static class Refusal
{
    public static async Task WriteAsync(HttpContext context, int httpStatus, StatusCode grpcStatus, string title, string detail)
    {
        if (RequestClassifier.IsGrpc(context))
        {
            // A trailers-only gRPC response: HTTP 200 with the status in the headers, which every gRPC client reads.
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/grpc";
            context.Response.Headers["grpc-status"] = ((int)grpcStatus).ToString(System.Globalization.CultureInfo.InvariantCulture);
            context.Response.Headers["grpc-message"] = Uri.EscapeDataString(detail);
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
