namespace VectorStoreDb.Client;

/// <summary>Settings for <see cref="VectorStoreGrpcClient"/>.</summary>
public sealed class VectorStoreClientOptions
{
    /// <summary>Sent as <c>authorization: Bearer &lt;key&gt;</c> on every call when set.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Deadline for each call (all its attempts on all nodes together); null waits as long as the caller's cancellation token allows.</summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>Largest response the client accepts, in bytes (null: the gRPC default of 4 MB is raised to 64 MB so large k with vectors fits).</summary>
    public int? MaxReceiveMessageSize { get; set; }

    /// <summary>
    /// With several node addresses: how long a node that could not be reached (or answered UNAVAILABLE) is tried
    /// only after the others. Default 5 s.
    /// </summary>
    public TimeSpan NodeCooldown { get; set; } = TimeSpan.FromSeconds(5);
}
