using Microsoft.AspNetCore.Authorization;

namespace VectorStoreDb.Server.Operations;

/// <summary>
/// The role an endpoint needs. <see cref="Role"/> null is the fallback for endpoints that declare nothing: admin,
/// or any valid key when no endpoint matched at all (the request then ends in 404/405/415 without touching data).
/// </summary>
internal sealed class ApiKeyRoleRequirement(string? role) : IAuthorizationRequirement
{
    public string? Role { get; } = role;
}
