using Grpc.AspNetCore.Server;

namespace VectorStoreDb.Server.Operations;

/// <summary>
/// What a request is, for telemetry, rate limits and the shape of refusals. Never for authorization: that follows
/// the endpoint's declared role (<see cref="EndpointRoles"/>).
/// </summary>
internal static class RequestClassifier
{
    // Paths served to anyone: probes and the scrape endpoint carry no data and must work without secrets.
    private static readonly string[] OpenPaths = ["/healthz", "/readyz", "/metrics"];

    /// <summary>
    /// True when the request runs (or, before routing, claims to run) a gRPC method. After routing the endpoint
    /// decides, so a REST route called with a gRPC content type is answered, and refused, as REST.
    /// </summary>
    public static bool IsGrpc(HttpContext context) => context.GetEndpoint() is { } endpoint
        ? endpoint.Metadata.GetMetadata<GrpcMethodMetadata>() is not null
        : context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>Probes, metrics and the dashboard's files: left out of traces and rate limits.</summary>
    public static bool IsOpen(HttpContext context)
    {
        string path = context.Request.Path.Value ?? "";
        return OpenPaths.Any(p => path.Equals(p, StringComparison.OrdinalIgnoreCase))
            || path.Equals("/dashboard", StringComparison.Ordinal) || path.StartsWith("/dashboard/", StringComparison.Ordinal)
            || path.StartsWith("/grpc.health.v1.Health/", StringComparison.Ordinal);
    }

    /// <summary>A low-cardinality operation name for metrics: the route pattern or the gRPC method.</summary>
    public static string Operation(HttpContext context) => context.GetEndpoint() switch
    {
        { } endpoint when endpoint.Metadata.GetMetadata<GrpcMethodMetadata>() is { } grpc => grpc.Method.FullName,
        RouteEndpoint route => $"{context.Request.Method} {route.RoutePattern.RawText}",
        _ => "unmatched",
    };
}
