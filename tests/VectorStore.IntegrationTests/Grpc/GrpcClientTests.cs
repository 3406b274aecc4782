using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Net.Client;
using VectorStoreDb.Client;

namespace VectorStoreDb.IntegrationTests.Grpc;

/// <summary>
/// Remote-client behaviour that needs no server: input refused before sending, an unreachable server, and the
/// translation of gRPC statuses. The full contract runs against a real server in RemoteClientContractTests.
/// </summary>
public sealed class GrpcClientTests : IDisposable
{
    // A loopback port nothing listens on: connecting fails at once with "connection refused".
    private readonly VectorStoreGrpcClient _client = new(new Uri($"http://127.0.0.1:{FreePort()}"), new VectorStoreClientOptions { ApiKey = "secret", Timeout = TimeSpan.FromSeconds(10) });

    [Fact]
    public async Task Bad_metadata_is_refused_before_sending()
    {
        // A send would fail with Unavailable; InvalidArgument proves the check ran first.
        var error = await Assert.ThrowsAsync<VectorStoreClientException>(() => _client.UpsertAsync("docs",
            [new DocumentWrite { Text = "a" }, new DocumentWrite { Text = "b", Metadata = new Dictionary<string, object?> { ["tag"] = null } }]));
        Assert.Equal(VectorStoreErrorCode.InvalidArgument, error.Code);
        Assert.Equal("documents[1].metadata.tag", error.Field);

        error = await Assert.ThrowsAsync<VectorStoreClientException>(() => _client.UpsertAsync("docs",
            [new DocumentWrite { Text = "a", Metadata = new Dictionary<string, object?> { ["o"] = new Dictionary<string, object?>() } }]));
        Assert.Equal("documents[0].metadata.o", error.Field);
    }

    [Theory]
    [InlineData("{oops")]
    [InlineData("42")]
    [InlineData("[{\"a\":1}]")]
    public async Task Malformed_filter_is_refused_before_sending(string filter)
    {
        var error = await Assert.ThrowsAsync<VectorStoreClientException>(() => _client.QueryAsync("docs", new SearchQuery { Text = "x", Filter = filter }));

        Assert.Equal(VectorStoreErrorCode.InvalidArgument, error.Code);
        Assert.Equal("filter", error.Field);
    }

    [Fact]
    public async Task Unreachable_server_is_Unavailable()
    {
        var error = await Assert.ThrowsAsync<VectorStoreClientException>(() => _client.ListCollectionsAsync());

        Assert.Equal(VectorStoreErrorCode.Unavailable, error.Code);
        Assert.IsType<RpcException>(error.InnerException);
    }

    [Fact]
    public async Task Api_key_is_sent_as_a_bearer_token_on_every_call()
    {
        using var server = new HangUpServer();
        using var recorder = new HeaderRecorder();
        using var channel = GrpcChannel.ForAddress(server.Address, new GrpcChannelOptions { HttpHandler = recorder });
        using var client = new VectorStoreGrpcClient(channel, new VectorStoreClientOptions { ApiKey = "s3cret" });

        await Assert.ThrowsAsync<VectorStoreClientException>(() => client.ListCollectionsAsync());
        await Assert.ThrowsAsync<VectorStoreClientException>(() => client.CountAsync("docs"));

        Assert.Equal(["Bearer s3cret", "Bearer s3cret"], recorder.Authorization);
    }

    [Fact]
    public async Task No_api_key_sends_no_authorization_header()
    {
        using var server = new HangUpServer();
        using var recorder = new HeaderRecorder();
        using var channel = GrpcChannel.ForAddress(server.Address, new GrpcChannelOptions { HttpHandler = recorder });
        using var client = new VectorStoreGrpcClient(channel);

        await Assert.ThrowsAsync<VectorStoreClientException>(() => client.ListCollectionsAsync());

        Assert.Equal([null], recorder.Authorization);
    }

    [Fact]
    public async Task A_passed_deadline_is_DeadlineExceeded()
    {
        using var client = new VectorStoreGrpcClient(new Uri($"http://127.0.0.1:{FreePort()}"), new VectorStoreClientOptions { Timeout = TimeSpan.Zero });

        var error = await Assert.ThrowsAsync<VectorStoreClientException>(() => client.ListCollectionsAsync());

        Assert.Equal(VectorStoreErrorCode.DeadlineExceeded, error.Code);
    }

    [Fact]
    public async Task A_cancelled_token_is_Cancelled_without_a_server()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        var error = await Assert.ThrowsAsync<VectorStoreClientException>(() => _client.CountAsync("docs", cancelled.Token));

        Assert.Equal(VectorStoreErrorCode.Cancelled, error.Code);
    }

    [Theory]
    [InlineData(StatusCode.InvalidArgument, VectorStoreErrorCode.InvalidArgument)]
    [InlineData(StatusCode.NotFound, VectorStoreErrorCode.NotFound)]
    [InlineData(StatusCode.AlreadyExists, VectorStoreErrorCode.AlreadyExists)]
    [InlineData(StatusCode.ResourceExhausted, VectorStoreErrorCode.LimitExceeded)]
    [InlineData(StatusCode.FailedPrecondition, VectorStoreErrorCode.FailedPrecondition)]
    [InlineData(StatusCode.Unavailable, VectorStoreErrorCode.Unavailable)]
    [InlineData(StatusCode.Unauthenticated, VectorStoreErrorCode.Unauthenticated)]
    [InlineData(StatusCode.PermissionDenied, VectorStoreErrorCode.PermissionDenied)]
    [InlineData(StatusCode.Cancelled, VectorStoreErrorCode.Cancelled)]
    [InlineData(StatusCode.DeadlineExceeded, VectorStoreErrorCode.DeadlineExceeded)]
    [InlineData(StatusCode.Internal, VectorStoreErrorCode.Unknown)]
    public void Status_codes_map_to_client_codes_with_message_and_field(StatusCode status, VectorStoreErrorCode expected)
    {
        var trailers = new Metadata { { VectorStoreGrpcClient.FieldTrailer, "documents[2].vector" } };

        var error = VectorStoreGrpcClient.ToClientException(new RpcException(new Status(status, "documents[2].vector: expected dimension 3, got 2."), trailers));

        Assert.Equal(expected, error.Code);
        Assert.Equal("documents[2].vector", error.Field);
        Assert.Equal("documents[2].vector: expected dimension 3, got 2.", error.Message);
    }

    [Fact]
    public void Missing_field_trailer_leaves_the_field_empty()
    {
        var error = VectorStoreGrpcClient.ToClientException(new RpcException(new Status(StatusCode.NotFound, "")));

        Assert.Equal(VectorStoreErrorCode.NotFound, error.Code);
        Assert.Null(error.Field);
        Assert.Contains("NotFound", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rich_status_details_give_field_violations_and_the_retry_delay()
    {
        var rich = new Google.Rpc.Status { Code = (int)StatusCode.InvalidArgument, Message = "two inputs are wrong" };
        var badRequest = new Google.Rpc.BadRequest();
        badRequest.FieldViolations.Add(new Google.Rpc.BadRequest.Types.FieldViolation { Field = "k", Description = "k must be positive" });
        badRequest.FieldViolations.Add(new Google.Rpc.BadRequest.Types.FieldViolation { Field = "filter", Description = "unknown operator" });
        rich.Details.Add(Google.Protobuf.WellKnownTypes.Any.Pack(badRequest));
        // Only the standard trailer, as a third-party proxy or server would send: no field trailer to fall back on.
        var trailers = new Metadata { { "grpc-status-details-bin", Google.Protobuf.MessageExtensions.ToByteArray(rich) } };

        var error = VectorStoreGrpcClient.ToClientException(new RpcException(new Status(StatusCode.InvalidArgument, rich.Message), trailers));

        Assert.Equal(VectorStoreErrorCode.InvalidArgument, error.Code);
        Assert.Equal("k", error.Field);
        Assert.Equal([new VectorStoreFieldViolation("k", "k must be positive"), new VectorStoreFieldViolation("filter", "unknown operator")], error.FieldViolations);
        Assert.Null(error.RetryAfter);

        var retry = new Google.Rpc.Status { Code = (int)StatusCode.ResourceExhausted, Message = "slow down" };
        retry.Details.Add(Google.Protobuf.WellKnownTypes.Any.Pack(new Google.Rpc.RetryInfo { RetryDelay = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromSeconds(3)) }));
        var busy = VectorStoreGrpcClient.ToClientException(new RpcException(new Status(StatusCode.ResourceExhausted, "slow down"),
            new Metadata { { "grpc-status-details-bin", Google.Protobuf.MessageExtensions.ToByteArray(retry) } }));

        Assert.Equal(VectorStoreErrorCode.Busy, busy.Code);
        Assert.Equal(TimeSpan.FromSeconds(3), busy.RetryAfter);
        Assert.Empty(busy.FieldViolations);
    }

    [Fact]
    public void Garbled_status_details_are_ignored()
    {
        var trailers = new Metadata { { "grpc-status-details-bin", new byte[] { 0xff, 0xff, 0xff } }, { VectorStoreGrpcClient.FieldTrailer, "name" } };

        var error = VectorStoreGrpcClient.ToClientException(new RpcException(new Status(StatusCode.InvalidArgument, "bad name"), trailers));

        Assert.Equal(VectorStoreErrorCode.InvalidArgument, error.Code);
        Assert.Equal("name", error.Field);
        Assert.Equal([new VectorStoreFieldViolation("name", "bad name")], error.FieldViolations);
    }

    /// <summary>Accepts connections and closes them at once: requests go out (so headers can be seen) and fail fast.</summary>
    private sealed class HangUpServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

        public HangUpServer()
        {
            _listener.Start();
            Address = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
            _ = Task.Run(async () =>
            {
                try
                {
                    while (true)
                    {
                        using var socket = await _listener.AcceptSocketAsync();
                        await Task.Delay(50); // let the request arrive before hanging up
                    }
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    // The listener was stopped.
                }
            });
        }

        public Uri Address { get; }

        public void Dispose() => _listener.Stop();
    }

    /// <summary>Records the authorization header of each outgoing request, then sends it on (to a closed port).</summary>
    private sealed class HeaderRecorder() : DelegatingHandler(new SocketsHttpHandler())
    {
        public List<string?> Authorization { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (Authorization)
            {
                Authorization.Add(request.Headers.TryGetValues("authorization", out var values) ? string.Join(",", values) : null);
            }
            return base.SendAsync(request, cancellationToken);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose() => _client.Dispose();
}
