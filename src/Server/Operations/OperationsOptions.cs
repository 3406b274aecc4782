namespace VectorStoreDb.Server.Operations;

/// <summary>One API key: the secret and what it may do.</summary>
public sealed class ApiKeyOptions
{
    /// <summary>The secret clients send as <c>Authorization: Bearer &lt;key&gt;</c> or <c>api-key: &lt;key&gt;</c>. Never logged.</summary>
    public string Key { get; set; } = "";

    /// <summary><c>read</c> (query, get, count, list, embed, chat, models) or <c>admin</c> (everything).</summary>
    public string Role { get; set; } = ApiKeyRoles.Read;
}

/// <summary>The two roles.</summary>
public static class ApiKeyRoles
{
    public const string Read = "read";
    public const string Admin = "admin";
}

/// <summary>The <c>VectorStore:Auth</c> section.</summary>
public sealed class AuthOptions
{
    public const string SectionName = "VectorStore:Auth";

    public List<ApiKeyOptions> ApiKeys { get; set; } = [];

    /// <summary>Serve without keys on a non-loopback address (also <c>--allow-anonymous</c>). Off by default.</summary>
    public bool AllowAnonymous { get; set; }
}

/// <summary>The <c>VectorStore:RateLimit</c> section.</summary>
public sealed class RateLimitOptions
{
    public const string SectionName = "VectorStore:RateLimit";

    /// <summary>
    /// Requests per second per API key (per client IP when anonymous). Unset: off when every listen address is
    /// loopback, <see cref="DefaultNonLoopbackPermitsPerSecond"/> otherwise. 0 turns it off.
    /// </summary>
    public double? PermitsPerSecond { get; set; }

    /// <summary>Requests a client may send at once above the steady rate (token bucket size). Default: one second's worth.</summary>
    public int? Burst { get; set; }

    /// <summary>Requests waiting for a permit before further ones are refused with 429.</summary>
    public int QueueLimit { get; set; }

    public const double DefaultNonLoopbackPermitsPerSecond = 1000;
}

/// <summary>The <c>VectorStore:Server</c> section: how long a slow or idle client may hold a connection.</summary>
public sealed class ServerLimitsOptions
{
    public const string SectionName = "VectorStore:Server";

    /// <summary>Whole-request timeout (REST and unary gRPC); 0 turns it off. Answers 504 when exceeded before the response started.</summary>
    public double RequestTimeoutSeconds { get; set; } = 120;

    /// <summary>Time a client has to send the request headers.</summary>
    public double RequestHeadersTimeoutSeconds { get; set; } = 15;

    /// <summary>Idle time before Kestrel closes a keep-alive connection.</summary>
    public double KeepAliveTimeoutSeconds { get; set; } = 60;

    /// <summary>Slowest accepted request body upload, in bytes per second, after <see cref="MinRequestBodyGraceSeconds"/>.</summary>
    public double MinRequestBodyBytesPerSecond { get; set; } = 1024;

    public double MinRequestBodyGraceSeconds { get; set; } = 10;
}
