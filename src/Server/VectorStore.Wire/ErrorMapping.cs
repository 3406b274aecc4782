using Grpc.Core;
using VectorStoreDb.Client;
using VectorStoreDb.Engine;

namespace VectorStoreDb.Wire;

/// <summary>One row of the <see cref="ErrorTable"/>: how one engine refusal reads on each surface.</summary>
/// <param name="Code">The engine's code.</param>
/// <param name="GrpcStatus">The gRPC status the server answers with.</param>
/// <param name="HttpStatus">The HTTP status of the REST problem details.</param>
/// <param name="Title">The problem details' title.</param>
/// <param name="SdkCode">What both SDK clients report.</param>
/// <param name="ErrorCodeTrailer">
/// The gRPC <c>error-code</c> trailer, for codes that share a status with another (busy and too large are both
/// RESOURCE_EXHAUSTED); null when the status alone says it.
/// </param>
/// <param name="RetryAfter">
/// For refusals worth retrying: the wait the server asks for, as REST's <c>Retry-After</c> and gRPC's <c>google.rpc.RetryInfo</c>.
/// </param>
public sealed record ErrorMapping(ErrorCode Code, StatusCode GrpcStatus, int HttpStatus, string Title, VectorStoreErrorCode SdkCode, string? ErrorCodeTrailer = null,
    TimeSpan? RetryAfter = null);
