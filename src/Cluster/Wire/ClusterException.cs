using VectorStoreDb.Engine;

namespace VectorStoreDb.Cluster.Wire;

/// <summary>
/// An engine refusal carried across silos: Orleans serializes only exception types it has a codec for, so grains
/// wrap <see cref="VectorStoreException"/> in this and the coordinator unwraps it with the same code and field.
/// </summary>
[GenerateSerializer]
public sealed class ClusterException : Exception
{
    public ClusterException(ErrorCode code, string message, string? field = null) : base(message)
    {
        CodeValue = (int)code;
        Field = field;
    }

    [Id(0)] public int CodeValue { get; private set; }

    [Id(1)] public string? Field { get; private set; }

    public ErrorCode Code => (ErrorCode)CodeValue;

    public VectorStoreException ToEngineException() => new(Code, Message, Field);

    public static ClusterException From(VectorStoreException ex) => new(ex.Code, ex.Message, ex.Field);

    public static ClusterException Unavailable(string message) => new(ErrorCode.Unavailable, message);
}
