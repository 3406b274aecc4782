using System.Net;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
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

    /// <summary>
    /// Registers the key table, the <see cref="SchemeName"/> authentication scheme and one authorization policy per
    /// role (<see cref="ApiKeyRoles.Read"/>, <see cref="ApiKeyRoles.Admin"/>). Endpoints declare the role they need
    /// (<see cref="EndpointRoles"/>, or <c>[Authorize(Policy = ApiKeyRoles.Read)]</c> on a gRPC method); an endpoint
    /// that declares nothing needs admin, so a new endpoint is closed until someone decides otherwise.
    /// </summary>
    public static IServiceCollection AddVectorStoreAuth(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(AuthOptions.SectionName).Get<AuthOptions>() ?? new AuthOptions();
        services.AddSingleton(new ApiKeyTable(options));
        services.AddAuthentication(SchemeName).AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(SchemeName, null);
        services.AddSingleton<IAuthorizationHandler, ApiKeyRoleHandler>();
        services.AddAuthorizationBuilder()
            .AddPolicy(ApiKeyRoles.Read, policy => policy.AddRequirements(new ApiKeyRoleRequirement(ApiKeyRoles.Read)))
            .AddPolicy(ApiKeyRoles.Admin, policy => policy.AddRequirements(new ApiKeyRoleRequirement(ApiKeyRoles.Admin)))
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().AddRequirements(new ApiKeyRoleRequirement(null)).Build());
        return services;
    }

    /// <summary>The authentication scheme that reads <c>Authorization: Bearer</c> / <c>api-key</c>.</summary>
    public const string SchemeName = "ApiKey";

    /// <summary>
    /// Adds authentication and endpoint authorization (after routing, so the decision follows the endpoint that
    /// will run, never a header the client chose), after refusing to start when the server would listen beyond
    /// loopback without keys (unless anonymous access was asked for explicitly).
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
        }
        else
        {
            logger.LogInformation("API key authentication on: {Keys} key(s) configured", table.Count);
        }
        // Always on, also without keys: the endpoints carry authorization metadata, which must be evaluated
        // (the role handler lets everything through when no key is configured).
        app.UseAuthentication();
        app.UseAuthorization();
        return app;
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
