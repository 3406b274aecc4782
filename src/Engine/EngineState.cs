namespace VectorStoreDb.Engine;

/// <summary>Whether the engine serves requests yet.</summary>
public enum EngineState
{
    /// <summary>Collections are being opened (checkpoints loaded, logs replayed); requests get <see cref="ErrorCode.Unavailable"/>.</summary>
    Recovering,
    /// <summary>Every collection that could be opened is open.</summary>
    Ready,
}
