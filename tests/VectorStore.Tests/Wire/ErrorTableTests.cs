using Grpc.Core;
using VectorStoreDb.Client;
using VectorStoreDb.Engine;
using VectorStoreDb.Wire;

namespace VectorStoreDb.Tests.Wire;

public class ErrorTableTests
{
    public static TheoryData<ErrorCode> EngineCodes() => [.. Enum.GetValues<ErrorCode>()];

    [Theory]
    [MemberData(nameof(EngineCodes))]
    public void Every_engine_code_has_its_own_row(ErrorCode code)
    {
        var row = ErrorTable.For(code);

        Assert.Equal(code, row.Code);
        Assert.NotEqual(StatusCode.Unknown, row.GrpcStatus);
        Assert.InRange(row.HttpStatus, 400, 599);
        Assert.NotEqual(VectorStoreErrorCode.Unknown, row.SdkCode);
        Assert.Single(ErrorTable.Rows, r => r.Code == code);
    }

    /// <summary>The remote client reads the server's gRPC error back to the very code, message and field the embedded client reports.</summary>
    [Theory]
    [MemberData(nameof(EngineCodes))]
    public void A_refusal_reads_the_same_through_grpc_as_in_process(ErrorCode code)
    {
        var refusal = new VectorStoreException(code, "documents[2].vector: expected dimension 3, got 2.", "documents[2].vector");

        var remote = VectorStoreGrpcClient.ToClientException(ErrorTable.ToRpcException(refusal));
        var embedded = ErrorTable.ToClientException(refusal);

        Assert.Equal(ErrorTable.For(code).SdkCode, remote.Code);
        Assert.Equal(embedded.Code, remote.Code);
        Assert.Equal(embedded.Message, remote.Message);
        Assert.Equal(embedded.Field, remote.Field);
        Assert.Same(refusal, embedded.InnerException);
    }

    [Fact]
    public void Grpc_errors_carry_the_field_trailer_only_when_there_is_a_field()
    {
        var withField = ErrorTable.ToRpcException(new VectorStoreException(ErrorCode.InvalidArgument, "k: must be positive.", "k"));
        var withoutField = ErrorTable.ToRpcException(new VectorStoreException(ErrorCode.NotFound, "Collection 'x' does not exist."));

        Assert.Equal("k", withField.Trailers.GetValue(ErrorTable.FieldTrailer));
        Assert.Null(withoutField.Trailers.Get(ErrorTable.FieldTrailer));
        Assert.Equal(StatusCode.InvalidArgument, withField.StatusCode);
        Assert.Equal("k: must be positive.", withField.Status.Detail);
    }

    [Fact]
    public void Grpc_errors_carry_a_google_rpc_status_with_the_field_violation()
    {
        var rpc = ErrorTable.ToRpcException(new VectorStoreException(ErrorCode.InvalidArgument, "documents[0].vector: expected dimension 3, got 2.", "documents[0].vector"));

        var bytes = rpc.Trailers.GetValueBytes(ErrorTable.StatusDetailsTrailer);
        Assert.NotNull(bytes);
        var status = Google.Rpc.Status.Parser.ParseFrom(bytes);
        Assert.Equal((int)StatusCode.InvalidArgument, status.Code);
        Assert.Equal("documents[0].vector: expected dimension 3, got 2.", status.Message);
        var violation = Assert.Single(Assert.Single(status.Details).Unpack<Google.Rpc.BadRequest>().FieldViolations);
        Assert.Equal("documents[0].vector", violation.Field);

        var noField = ErrorTable.ToRpcException(new VectorStoreException(ErrorCode.NotFound, "Collection 'x' does not exist."));
        Assert.Empty(Google.Rpc.Status.Parser.ParseFrom(noField.Trailers.GetValueBytes(ErrorTable.StatusDetailsTrailer)).Details);
    }

    /// <summary>Busy and too-large share RESOURCE_EXHAUSTED; the error-code trailer keeps them apart for the SDK.</summary>
    [Fact]
    public void Codes_sharing_a_grpc_status_are_told_apart_by_a_trailer()
    {
        foreach (var group in ErrorTable.Rows.GroupBy(r => r.GrpcStatus).Where(g => g.Count() > 1))
        {
            Assert.Equal(group.Count(), group.Select(r => r.ErrorCodeTrailer).Distinct().Count());
        }
        Assert.Equal("busy", ErrorTable.ToRpcException(new VectorStoreException(ErrorCode.Busy, "busy")).Trailers.GetValue(ErrorTable.ErrorCodeTrailer));
        Assert.Null(ErrorTable.ToRpcException(new VectorStoreException(ErrorCode.LimitExceeded, "too big")).Trailers.Get(ErrorTable.ErrorCodeTrailer));
    }

    [Fact]
    public void An_unmapped_code_is_a_server_error_not_a_success()
    {
        var row = ErrorTable.For((ErrorCode)999);

        Assert.Equal(500, row.HttpStatus);
        Assert.Equal(StatusCode.Unknown, row.GrpcStatus);
        Assert.Equal(VectorStoreErrorCode.Unknown, row.SdkCode);
    }
}
