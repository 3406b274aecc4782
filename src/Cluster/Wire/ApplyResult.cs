namespace VectorStoreDb.Cluster.Wire;

/// <summary>
/// A replica's answer to one operation. <see cref="RefusedCode"/> is set when the engine refused the input
/// (deterministically, so every replica refuses it alike); the sequence number is consumed either way.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ApplyResult(
    [property: Id(0)] long AppliedSequence,
    [property: Id(1)] bool Existed,
    [property: Id(2)] int? RefusedCode,
    [property: Id(3)] string? RefusedMessage,
    [property: Id(4)] string? RefusedField);
