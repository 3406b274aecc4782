namespace VectorStoreDb.Server.Operations;

/// <summary>
/// Which role a request needs and what operation it is, from its path alone so it also covers endpoints other
/// modules add later: anything not known to be a read needs <c>admin</c> (fail closed).
/// </summary>
internal static class RequestClassifier
{
    // Paths served to anyone: probes and the scrape endpoint carry no data and must work without secrets.
    private static readonly string[] OpenPaths = ["/healthz", "/readyz", "/metrics"];

    private static readonly HashSet<string> ReadGrpcMethods = new(StringComparer.Ordinal)
    {
        "List", "Get", "GetBatch", "Scroll", "Count", "Query", "Search", "Embed", "ListModels", "ListGenerators", "Chat", "ChatStream", "Generate", "GenerateStream", "Ask",
        // A read key can read every document anyway, so downloading a snapshot (GET over REST) is a read too.
        "Download",
    };

    private static readonly string[] ReadRestPosts = ["/query", "/documents/batch-get", "/documents/scroll", "/search", "/embed", "/chat", "/chat/stream", "/chat/completions", "/generate", "/ask"];

    public static bool IsGrpc(HttpContext context) =>
        context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true;

    public static bool IsOpen(HttpContext context)
    {
        string path = context.Request.Path.Value ?? "";
        return OpenPaths.Any(p => path.Equals(p, StringComparison.OrdinalIgnoreCase))
            // The dashboard's static files hold no data; the page asks for the key and sends it on its API calls.
            || path.Equals("/dashboard", StringComparison.Ordinal) || path.StartsWith("/dashboard/", StringComparison.Ordinal)
            || path.StartsWith("/grpc.health.v1.Health/", StringComparison.Ordinal);
    }

    public static string RequiredRole(HttpContext context)
    {
        string path = context.Request.Path.Value ?? "";
        if (IsGrpc(context))
        {
            if (path.StartsWith("/grpc.reflection.", StringComparison.Ordinal))
            {
                return ApiKeyRoles.Read;
            }
            string method = path[(path.LastIndexOf('/') + 1)..];
            return ReadGrpcMethods.Contains(method) ? ApiKeyRoles.Read : ApiKeyRoles.Admin;
        }
        if (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
        {
            return ApiKeyRoles.Read;
        }
        if (HttpMethods.IsPost(context.Request.Method) && ReadRestPosts.Any(p => path.EndsWith(p, StringComparison.OrdinalIgnoreCase)))
        {
            return ApiKeyRoles.Read;
        }
        return ApiKeyRoles.Admin;
    }

    /// <summary>A low-cardinality operation name for metrics: the route pattern or the gRPC method.</summary>
    public static string Operation(HttpContext context)
    {
        if (IsGrpc(context))
        {
            return context.Request.Path.Value ?? "grpc";
        }
        return context.GetEndpoint() is RouteEndpoint route
            ? $"{context.Request.Method} {route.RoutePattern.RawText}"
            : "unmatched";
    }
}
