namespace VectorStoreDb.Engine;

/// <summary>Why an operation was refused. Each maps to one HTTP status and one gRPC status code.</summary>
public enum ErrorCode
{
    /// <summary>The request is malformed or violates a documented rule (HTTP 400, gRPC INVALID_ARGUMENT).</summary>
    InvalidArgument,
    /// <summary>The collection or document does not exist (HTTP 404, gRPC NOT_FOUND).</summary>
    NotFound,
    /// <summary>The collection already exists (HTTP 409, gRPC ALREADY_EXISTS).</summary>
    AlreadyExists,
    /// <summary>A documented size or count limit was exceeded (HTTP 413, gRPC RESOURCE_EXHAUSTED).</summary>
    LimitExceeded,
    /// <summary>The request is well-formed but cannot be carried out in the current state (HTTP 422/409, gRPC FAILED_PRECONDITION).</summary>
    FailedPrecondition,
    /// <summary>The store cannot serve the request right now, e.g. a collection whose files are damaged (HTTP 503, gRPC UNAVAILABLE).</summary>
    Unavailable,
    /// <summary>The server is at capacity for this kind of work (e.g. every generation slot and queue place is taken); retry later (HTTP 429, gRPC RESOURCE_EXHAUSTED).</summary>
    Busy,
}

/// <summary>
/// A refusal with a stable <see cref="Code"/> and, where one input is at fault, the <see cref="Field"/> that
/// names it (for example <c>documents[3].vector</c>). Thrown before anything is changed.
/// </summary>
public sealed class VectorStoreException(ErrorCode code, string message, string? field = null) : Exception(message)
{
    public ErrorCode Code { get; } = code;

    public string? Field { get; } = field;

    internal static VectorStoreException Invalid(string field, string message) => new(ErrorCode.InvalidArgument, $"{field}: {message}", field);

    /// <summary>
    /// The refusal of item <paramref name="index"/> of a batch query: its field (and message) say which query
    /// (<c>queries[3].k</c>). A refusal that names no field, or a missing collection, stays as it is.
    /// </summary>
    public static VectorStoreException InBatch(int index, VectorStoreException inner) =>
        inner.Field is null || inner.Code == ErrorCode.NotFound
            ? inner
            : new(inner.Code, $"queries[{index}].{inner.Message}", $"queries[{index}].{inner.Field}");

    internal static VectorStoreException CollectionNotFound(string name) => new(ErrorCode.NotFound, $"Collection '{name}' does not exist.", "name");
}
