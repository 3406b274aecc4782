namespace VectorStoreDb.Client;

/// <summary>Settings for <see cref="VectorStoreGrpcClient"/>.</summary>
public sealed class VectorStoreClientOptions
{
    /// <summary>Sent as <c>authorization: Bearer &lt;key&gt;</c> on every call when set.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Deadline for each call; null waits as long as the caller's cancellation token allows.</summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>Largest response the client accepts, in bytes (null: the gRPC default of 4 MB is raised to 64 MB so large k with vectors fits).</summary>
    public int? MaxReceiveMessageSize { get; set; }
}
