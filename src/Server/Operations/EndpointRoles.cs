using Microsoft.AspNetCore.Authorization;

namespace VectorStoreDb.Server.Operations;

/// <summary>
/// How an endpoint declares the API-key role it needs. Authorization reads it from the endpoint routing chose, so
/// no header (content type, path spelling) can make a write look like a read.
/// </summary>
public static class EndpointRoles
{
    /// <summary>Any valid key (read or admin).</summary>
    public static TBuilder RequireReadKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(ApiKeyRoles.Read);

    /// <summary>An admin key.</summary>
    public static TBuilder RequireAdminKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(ApiKeyRoles.Admin);

    /// <summary>
    /// The role an endpoint declares: null when it is open to anyone, admin when it names admin (or a policy this
    /// server does not know), read when it only names read, admin when it declares nothing (the fallback). No
    /// endpoint, or one of routing's own refusals (405, 415: no metadata, not a route), runs nothing and needs any
    /// valid key.
    /// </summary>
    public static string? RequiredRole(Endpoint? endpoint)
    {
        if (endpoint is null || (endpoint is not RouteEndpoint && endpoint.Metadata.Count == 0))
        {
            return ApiKeyRoles.Read;
        }
        if (endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null)
        {
            return null;
        }
        var policies = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).ToList();
        return policies.Count > 0 && policies.All(p => p == ApiKeyRoles.Read) ? ApiKeyRoles.Read : ApiKeyRoles.Admin;
    }
}
