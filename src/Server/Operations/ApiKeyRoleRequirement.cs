using Microsoft.AspNetCore.Authorization;

namespace VectorStoreDb.Server.Operations;

/// <summary>
/// The role an endpoint needs. <see cref="Role"/> null is the fallback for endpoints that declare nothing: admin,
/// or any valid key when no endpoint matched at all (the request then ends in 404/405 without touching data).
/// </summary>
internal sealed class ApiKeyRoleRequirement(string? role) : IAuthorizationRequirement
{
    public string? Role { get; } = role;
}

/// <summary>Admin keys meet every requirement, read keys the read one; with no keys configured everything is allowed.</summary>
internal sealed class ApiKeyRoleHandler(ApiKeyTable table) : AuthorizationHandler<ApiKeyRoleRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ApiKeyRoleRequirement requirement)
    {
        if (table.IsEmpty)
        {
            context.Succeed(requirement);
            return Task.CompletedTask;
        }
        string? needed = requirement.Role
            ?? (context.Resource is HttpContext http && http.GetEndpoint() is null ? ApiKeyRoles.Read : ApiKeyRoles.Admin);
        var identity = context.User.Identities.FirstOrDefault(i => i.IsAuthenticated && i.AuthenticationType == ApiKeyAuthentication.SchemeName);
        if (identity?.FindFirst(System.Security.Claims.ClaimTypes.Role)?.Value is { } role
            && (role == ApiKeyRoles.Admin || (role == ApiKeyRoles.Read && needed == ApiKeyRoles.Read)))
        {
            context.Succeed(requirement);
        }
        return Task.CompletedTask;
    }
}
