using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using VectorStoreDb.Server.Hosting;

namespace VectorStoreDb.Server.Operations;

/// <summary>
/// API-key authentication and the read/admin authorisation, for REST and gRPC alike (same headers). Keys are
/// kept only as SHA-256 hashes and compared in constant time against every configured key, so neither the
/// response time nor a memory dump of the comparison reveals them; they are never logged.
/// </summary>
public static class ApiKeyAuthentication
{
    /// <summary>The <c>--allow-anonymous</c> switch, translated because the configuration command line wants key=value.</summary>
    public const string AllowAnonymousSwitch = "--allow-anonymous";

    /// <summary>Claim holding the key's position in the configuration (used to partition rate limits; never the key itself).</summary>
    public const string KeyIdClaim = "vectorstore:key-id";

    /// <summary>Rewrites bare switches (<c>--allow-anonymous</c>) to configuration keys.</summary>
    public static string[] TranslateSwitches(string[] args) =>
        [.. args.Select(a => string.Equals(a, AllowAnonymousSwitch, StringComparison.OrdinalIgnoreCase) ? "--VectorStore:Auth:AllowAnonymous=true" : a)];

    /// <summary>Registers the key table from <c>VectorStore:Auth</c>.</summary>
    public static IServiceCollection AddVectorStoreAuth(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(AuthOptions.SectionName).Get<AuthOptions>() ?? new AuthOptions();
        services.AddSingleton(new ApiKeyTable(options));
        return services;
    }

    /// <summary>
    /// Adds the middleware, after refusing to start when the server would listen beyond loopback without keys
    /// (unless anonymous access was asked for explicitly).
    /// </summary>
    public static IApplicationBuilder UseVectorStoreAuth(this IApplicationBuilder app)
    {
        var table = app.ApplicationServices.GetRequiredService<ApiKeyTable>();
        var addresses = app.ApplicationServices.GetRequiredService<ListenAddresses>();
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ApiKeyAuthentication));
        var exposed = addresses.RestUrls.Append(addresses.GrpcUrl).Where(u => !IsLoopback(u)).ToList();
        if (table.IsEmpty)
        {
            if (exposed.Count > 0 && !table.AllowAnonymous)
            {
                throw new InvalidOperationException(
                    $"Refusing to start: listening on {string.Join(", ", exposed)} (not loopback) without API keys would let anyone read and change the store. " +
                    "Configure keys (--VectorStore:Auth:ApiKeys:0:Key=<secret> --VectorStore:Auth:ApiKeys:0:Role=admin, or VectorStore__Auth__ApiKeys__0__Key) " +
                    "or pass --allow-anonymous (VectorStore:Auth:AllowAnonymous=true) to serve without authentication on purpose.");
            }
            if (exposed.Count > 0)
            {
                logger.LogWarning("Serving without API keys on {Addresses}: anonymous access was allowed explicitly", string.Join(", ", exposed));
            }
            return app;
        }
        logger.LogInformation("API key authentication on: {Keys} key(s) configured", table.Count);
        return app.Use(async (context, next) =>
        {
            if (RequestClassifier.IsOpen(context))
            {
                await next(context);
                return;
            }
            string? presented = PresentedKey(context.Request);
            if (presented is null || table.Find(presented) is not { } key)
            {
                context.Response.Headers.WWWAuthenticate = "Bearer";
                await Refusal.WriteAsync(context, StatusCodes.Status401Unauthorized, StatusCode.Unauthenticated, "Unauthorized",
                    presented is null
                        ? "An API key is required: send 'Authorization: Bearer <key>' or 'api-key: <key>'."
                        : "The API key is not valid.");
                return;
            }
            string required = RequestClassifier.RequiredRole(context);
            if (required == ApiKeyRoles.Admin && key.Role != ApiKeyRoles.Admin)
            {
                await Refusal.WriteAsync(context, StatusCodes.Status403Forbidden, StatusCode.PermissionDenied, "Forbidden",
                    $"This API key has the '{key.Role}' role; this operation needs '{ApiKeyRoles.Admin}'.");
                return;
            }
            context.User = new ClaimsPrincipal(new ClaimsIdentity(
                [new Claim(ClaimTypes.Role, key.Role), new Claim(KeyIdClaim, key.Id)], authenticationType: "ApiKey"));
            await next(context);
        });
    }

    internal static string? PresentedKey(HttpRequest request)
    {
        string? authorization = request.Headers.Authorization;
        if (authorization is not null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization["Bearer ".Length..].Trim();
        }
        string? header = request.Headers["api-key"];
        return string.IsNullOrEmpty(header) ? null : header.Trim();
    }

    /// <summary>True for localhost, 127.0.0.0/8 and ::1; false for wildcards (0.0.0.0, *, +, [::]) and any other address.</summary>
    public static bool IsLoopback(string url)
    {
        var host = new Uri(url.Replace("*", "0.0.0.0", StringComparison.Ordinal).Replace("+", "0.0.0.0", StringComparison.Ordinal)).Host.Trim('[', ']');
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
    }
}

/// <summary>The configured keys as SHA-256 hashes.</summary>
internal sealed class ApiKeyTable
{
    private readonly (byte[] Hash, ApiKey Key)[] _keys;

    public ApiKeyTable(AuthOptions options)
    {
        AllowAnonymous = options.AllowAnonymous;
        var keys = new List<(byte[], ApiKey)>();
        for (int i = 0; i < options.ApiKeys.Count; i++)
        {
            var configured = options.ApiKeys[i];
            if (string.IsNullOrWhiteSpace(configured.Key))
            {
                throw new InvalidOperationException($"VectorStore:Auth:ApiKeys:{i}:Key is empty.");
            }
            string role = configured.Role?.Trim().ToLowerInvariant() ?? "";
            if (role is not (ApiKeyRoles.Read or ApiKeyRoles.Admin))
            {
                throw new InvalidOperationException($"VectorStore:Auth:ApiKeys:{i}:Role must be 'read' or 'admin', was '{configured.Role}'.");
            }
            keys.Add((Hash(configured.Key), new ApiKey($"key{i}", role)));
        }
        _keys = [.. keys];
    }

    public bool AllowAnonymous { get; }

    public bool IsEmpty => _keys.Length == 0;

    public int Count => _keys.Length;

    /// <summary>The matching key. Compares against every key whatever matches, so timing says nothing about which or how much.</summary>
    public ApiKey? Find(string presented)
    {
        byte[] hash = Hash(presented);
        ApiKey? found = null;
        foreach (var (candidate, key) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(candidate, hash))
            {
                found ??= key;
            }
        }
        return found;
    }

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}

internal sealed record ApiKey(string Id, string Role);
