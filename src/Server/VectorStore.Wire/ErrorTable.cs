using System.Collections.Frozen;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using VectorStoreDb.Client;
using VectorStoreDb.Engine;

namespace VectorStoreDb.Wire;

/// <summary>
/// The one table from an engine refusal to the gRPC status (with its trailers), the REST problem details' status
/// and title, and the SDK's error code. The gRPC services, the REST layer and the embedded client all read it, so a
/// refusal reads the same everywhere.
/// </summary>
public static class ErrorTable
{
    /// <summary>Trailer naming the input at fault, read by the SDK (<see cref="VectorStoreGrpcClient.FieldTrailer"/>).</summary>
    public const string FieldTrailer = VectorStoreGrpcClient.FieldTrailer;

    /// <summary>Trailer telling apart codes that share a gRPC status.</summary>
    public const string ErrorCodeTrailer = "error-code";

    /// <summary>The standard trailer holding a serialized <c>google.rpc.Status</c> with typed details.</summary>
    public const string StatusDetailsTrailer = "grpc-status-details-bin";

    /// <summary>Every engine code, in the order of <see cref="ErrorCode"/>.</summary>
    public static IReadOnlyList<ErrorMapping> Rows { get; } =
    [
        new(ErrorCode.InvalidArgument, StatusCode.InvalidArgument, 400, "Invalid argument", VectorStoreErrorCode.InvalidArgument),
        new(ErrorCode.NotFound, StatusCode.NotFound, 404, "Not found", VectorStoreErrorCode.NotFound),
        new(ErrorCode.AlreadyExists, StatusCode.AlreadyExists, 409, "Already exists", VectorStoreErrorCode.AlreadyExists),
        new(ErrorCode.LimitExceeded, StatusCode.ResourceExhausted, 413, "Limit exceeded", VectorStoreErrorCode.LimitExceeded),
        new(ErrorCode.FailedPrecondition, StatusCode.FailedPrecondition, 422, "Failed precondition", VectorStoreErrorCode.FailedPrecondition),
        new(ErrorCode.Unavailable, StatusCode.Unavailable, 503, "Unavailable", VectorStoreErrorCode.Unavailable),
        new(ErrorCode.Busy, StatusCode.ResourceExhausted, 429, "Too many requests", VectorStoreErrorCode.Busy, ErrorCodeTrailer: "busy", RetryAfter: TimeSpan.FromSeconds(1)),
    ];

    /// <summary>The row for a code the table does not know yet: a server error, never a silent success.</summary>
    private static readonly ErrorMapping Unmapped = new((ErrorCode)(-1), StatusCode.Unknown, 500, "Error", VectorStoreErrorCode.Unknown);

    private static readonly FrozenDictionary<ErrorCode, ErrorMapping> ByCode = Rows.ToFrozenDictionary(r => r.Code);

    public static ErrorMapping For(ErrorCode code) => ByCode.GetValueOrDefault(code, Unmapped);

    /// <summary>
    /// The gRPC error for an engine refusal: its status and message, the <c>field</c> trailer, where needed the
    /// <c>error-code</c> trailer, and a <c>google.rpc.Status</c> (with a <c>BadRequest</c> field violation when
    /// an input is at fault) for clients that read rich error details.
    /// </summary>
    public static RpcException ToRpcException(VectorStoreException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var row = For(exception.Code);
        var trailers = new Grpc.Core.Metadata();
        if (exception.Field is not null)
        {
            trailers.Add(FieldTrailer, exception.Field);
        }
        if (row.ErrorCodeTrailer is not null)
        {
            trailers.Add(ErrorCodeTrailer, row.ErrorCodeTrailer);
        }
        trailers.Add(StatusDetailsTrailer, RichStatus(row, exception).ToByteArray());
        return new RpcException(new Grpc.Core.Status(row.GrpcStatus, exception.Message), trailers, exception.Message);
    }

    private static Google.Rpc.Status RichStatus(ErrorMapping row, VectorStoreException exception) =>
        RichStatus(row.GrpcStatus, exception.Message, exception.Field, row.RetryAfter);

    /// <summary>
    /// The <c>google.rpc.Status</c> sent in <see cref="StatusDetailsTrailer"/>: a <c>BadRequest</c> field violation when
    /// an input is at fault, a <c>RetryInfo</c> when the refusal is worth retrying after a wait.
    /// </summary>
    public static Google.Rpc.Status RichStatus(StatusCode code, string message, string? field = null, TimeSpan? retryAfter = null)
    {
        var status = new Google.Rpc.Status { Code = (int)code, Message = message };
        if (field is not null)
        {
            var badRequest = new BadRequest();
            badRequest.FieldViolations.Add(new BadRequest.Types.FieldViolation { Field = field, Description = message });
            status.Details.Add(Any.Pack(badRequest));
        }
        if (retryAfter is { } delay)
        {
            status.Details.Add(Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(delay) }));
        }
        return status;
    }

    /// <summary>The SDK exception for an engine refusal: the code, message and field a remote client reads from the server.</summary>
    public static VectorStoreClientException ToClientException(VectorStoreException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var row = For(exception.Code);
        return new VectorStoreClientException(row.SdkCode, exception.Message, exception.Field, exception, retryAfter: row.RetryAfter);
    }
}
