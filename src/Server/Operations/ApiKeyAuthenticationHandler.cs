using System.Security.Claims;
using System.Text.Encodings.Web;
using Grpc.Core;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace VectorStoreDb.Server.Operations;

/// <summary>
/// Turns the presented API key into a principal with its role, and writes the refusals: 401 problem details /
/// UNAUTHENTICATED when the endpoint needs a key and none (or an unknown one) came, 403 / PERMISSION_DENIED when
/// the key's role is not enough. Which endpoint needs what is decided by authorization, from endpoint metadata.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory loggerFactory, UrlEncoder encoder, ApiKeyTable table)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (table.IsEmpty || ApiKeyAuthentication.PresentedKey(Request) is not { } presented)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        if (table.Find(presented) is not { } key)
        {
            return Task.FromResult(AuthenticateResult.Fail("The API key is not valid."));
        }
        var principal = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(ClaimTypes.Role, key.Role), new Claim(ApiKeyAuthentication.KeyIdClaim, key.Id)], Scheme.Name));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        return Refusal.WriteAsync(Context, StatusCodes.Status401Unauthorized, StatusCode.Unauthenticated, "Unauthorized",
            ApiKeyAuthentication.PresentedKey(Request) is null
                ? "An API key is required: send 'Authorization: Bearer <key>' or 'api-key: <key>'."
                : "The API key is not valid.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        string role = Context.User.FindFirst(ClaimTypes.Role)?.Value ?? "none";
        return Refusal.WriteAsync(Context, StatusCodes.Status403Forbidden, StatusCode.PermissionDenied, "Forbidden",
            $"This API key has the '{role}' role; this operation needs '{EndpointRoles.RequiredRole(Context.GetEndpoint()) ?? ApiKeyRoles.Admin}'.");
    }
}
