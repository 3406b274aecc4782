using Microsoft.AspNetCore.Authorization;

namespace VectorStoreDb.Server.Operations;

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
        string needed = requirement.Role
            ?? (context.Resource is HttpContext http ? EndpointRoles.RequiredRole(http.GetEndpoint()) ?? ApiKeyRoles.Read : ApiKeyRoles.Admin);
        var identity = context.User.Identities.FirstOrDefault(i => i.IsAuthenticated && i.AuthenticationType == ApiKeyAuthentication.SchemeName);
        if (identity?.FindFirst(System.Security.Claims.ClaimTypes.Role)?.Value is { } role
            && (role == ApiKeyRoles.Admin || (role == ApiKeyRoles.Read && needed == ApiKeyRoles.Read)))
        {
            context.Succeed(requirement);
        }
        return Task.CompletedTask;
    }
}
