using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Grpc.Net.Client;
using VectorStoreDb.Client;

namespace VectorStoreDb.IntegrationTests.Rest;

/// <summary>
/// The server on https with a self-signed certificate made for the test, configured exactly as the README says
/// (<c>--urls https://…</c> + <c>Kestrel:Certificates:Default:Path/Password</c>): REST and gRPC share the port.
/// </summary>
public sealed class TlsServerFixture : ServerFixture, IAsyncLifetime
{
    private const string Password = "test-pfx-password";
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "vectorstore-tls", Guid.NewGuid().ToString("N"));

    public TlsServerFixture()
    {
        Directory.CreateDirectory(_folder);
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false)); // server auth
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, critical: true));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        CertificatePath = Path.Combine(_folder, "tls.pfx");
        File.WriteAllBytes(CertificatePath, certificate.Export(X509ContentType.Pfx, Password));
        Thumbprint = certificate.GetCertHashString(HashAlgorithmName.SHA256);
    }

    public string CertificatePath { get; }

    /// <summary>SHA-256 hash of the test certificate: the only one the test clients trust.</summary>
    public string Thumbprint { get; }

    protected override IEnumerable<string> ExtraArguments =>
    [
        "--urls", "https://127.0.0.1:0",
        "--VectorStore:GrpcUrl=https://127.0.0.1:0",
        $"--Kestrel:Certificates:Default:Path={CertificatePath}",
        $"--Kestrel:Certificates:Default:Password={Password}",
    ];

    protected override HttpMessageHandler? CreateHttpHandler() => TrustingHandler();

    /// <summary>A handler that accepts the test certificate and nothing else.</summary>
    public SocketsHttpHandler TrustingHandler() => new()
    {
        SslOptions = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                errors == SslPolicyErrors.None
                || (certificate is not null && string.Equals(certificate.GetCertHashString(HashAlgorithmName.SHA256), Thumbprint, StringComparison.OrdinalIgnoreCase)),
        },
    };

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }
}

public class TlsTests(TlsServerFixture server) : IClassFixture<TlsServerFixture>
{
    [Fact]
    public async Task Rest_and_grpc_work_over_https_on_one_port_with_the_configured_certificate()
    {
        Assert.Equal("https", server.RestAddress.Scheme);
        Assert.Equal(server.RestAddress, server.GrpcAddress);

        // REST over https (HTTP/1.1), trusting only the test certificate.
        string name = ServerFixture.UniqueName("tls");
        Assert.Equal(HttpStatusCode.Created, (await server.Http.PutAsJsonAsync($"/collections/{name}", new { metric = "cosine", encoder = "demo" })).StatusCode);
        (await server.Http.PostAsJsonAsync($"/collections/{name}/documents", new { documents = new[] { new { id = "a", text = "cats over tls" } } })).EnsureSuccessStatusCode();
        var count = await server.Http.GetFromJsonAsync<JsonElement>($"/collections/{name}/count");
        Assert.Equal(1, count.GetProperty("count").GetInt64());

        // gRPC over https (HTTP/2 by ALPN on the same port) through the SDK.
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress, new GrpcChannelOptions { HttpHandler = server.TrustingHandler() });
        using var client = new VectorStoreGrpcClient(channel);
        var hits = await client.QueryAsync(name, new SearchQuery { Text = "cats", K = 1 });
        Assert.Equal("a", Assert.Single(hits).Id);
        await client.UpsertAsync(name, [new DocumentWrite { Id = "b", Text = "written over grpc+tls" }]);
        Assert.Equal(2, await client.CountAsync(name));

        // The certificate really is the one served: a client with default validation refuses it.
        using var strict = new HttpClient { BaseAddress = server.RestAddress };
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => strict.GetAsync("/healthz"));
        Assert.IsType<System.Security.Authentication.AuthenticationException>(refused.InnerException);
    }
}

/// <summary>A server whose whole-request timeout is 1 s.</summary>
public sealed class TimeoutServerFixture : ServerFixture
{
    protected override IEnumerable<string> ExtraArguments => ["--VectorStore:Server:RequestTimeoutSeconds=1"];
}

public class RequestTimeoutTests(TimeoutServerFixture server) : IClassFixture<TimeoutServerFixture>
{
    [Fact]
    public async Task A_request_that_outlives_the_timeout_gets_504_problem_details()
    {
        string name = ServerFixture.UniqueName("timeout");
        await server.CreateDemoCollectionAsync(name);
        // A chat whose body stops arriving: the handler waits on it (with the request's token) until the 1 s timeout
        // cancels it, well before Kestrel's 10 s body-rate grace period would end the connection.
        using var socket = await RawHttp.ConnectAsync(server.RestAddress);
        var started = Stopwatch.StartNew();
        await RawHttp.SendAsync(socket, $"POST /collections/{name}/chat HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n" + """{"question":"how long do""");
        string response = await RawHttp.ReadResponseAsync(socket, TimeSpan.FromSeconds(10));
        started.Stop();

        Assert.StartsWith("HTTP/1.1 504", response, StringComparison.Ordinal);
        Assert.Contains("application/problem+json", response, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("RequestTimeoutSeconds", response, StringComparison.Ordinal);
        Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(8));

        // Requests that finish in time are untouched.
        (await server.Http.PostAsJsonAsync($"/collections/{name}/documents", new { documents = new[] { new { id = "b", text = "quick" } } })).EnsureSuccessStatusCode();
        (await server.Http.PostAsJsonAsync($"/collections/{name}/chat", new { question = "quick?" })).EnsureSuccessStatusCode();
    }
}

public class GrpcSlowClientTests(SlowClientServerFixture server) : IClassFixture<SlowClientServerFixture>
{
    [Fact]
    public async Task A_grpc_call_whose_request_message_stalls_is_dropped_in_bounded_time_while_others_are_served()
    {
        string name = ServerFixture.UniqueName("slow");
        await server.CreateDemoCollectionAsync(name);
        using var http = new HttpClient(new SocketsHttpHandler()) { BaseAddress = server.GrpcAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/vectorstore.v1.Documents/Upsert")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new StallingContent(),
        };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
        request.Headers.TE.ParseAdd("trailers");
        var started = Stopwatch.StartNew();
        var call = Task.Run(async () =>
        {
            // The server ends the stream (an error status, a reset or a closed connection): any of them frees the worker.
            try
            {
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                await response.Content.ReadAsByteArrayAsync();
                return response.TrailingHeaders.TryGetValues("grpc-status", out var t) ? t.First()
                    : response.Headers.TryGetValues("grpc-status", out var h) ? h.First() : $"http {(int)response.StatusCode}";
            }
            catch (HttpRequestException e)
            {
                return $"reset: {e.Message}";
            }
        });

        using var client = new VectorStoreGrpcClient(server.GrpcAddress);
        Assert.Equal(0, await client.CountAsync(name));

        string outcome = await call.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotEqual("0", outcome); // not OK
        Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(8));
        Assert.Equal(0, await client.CountAsync(name));
    }

/// <summary>A gRPC frame header announcing 100 bytes, 3 of them, then nothing.</summary>
    private sealed class StallingContent : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(new byte[] { 0, 0, 0, 0, 100, 10, 1, 65 });
            await stream.FlushAsync();
            await Task.Delay(TimeSpan.FromSeconds(30));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}

/// <summary>A server with a 1 s header timeout and a 2 s grace (Kestrel's minimum is over 1 s) before the minimum upload rate (1000 B/s) applies; no request timeout.</summary>
public sealed class SlowClientServerFixture : ServerFixture
{
    protected override IEnumerable<string> ExtraArguments =>
    [
        "--VectorStore:Server:RequestTimeoutSeconds=0",
        "--VectorStore:Server:RequestHeadersTimeoutSeconds=1",
        "--VectorStore:Server:MinRequestBodyBytesPerSecond=1000",
        "--VectorStore:Server:MinRequestBodyGraceSeconds=2",
    ];
}

public class SlowClientTests(SlowClientServerFixture server) : IClassFixture<SlowClientServerFixture>
{
    [Fact]
    public async Task A_client_that_stalls_its_headers_is_dropped_while_others_are_served()
    {
        using var socket = await RawHttp.ConnectAsync(server.RestAddress);
        var started = Stopwatch.StartNew();
        await RawHttp.SendAsync(socket, "GET /collections HTTP/1.1\r\nHost: localhost\r\n"); // and never the blank line

        // Meanwhile a well-behaved client is served.
        Assert.True((await server.Http.GetAsync("/collections")).IsSuccessStatusCode);

        string response = await RawHttp.ReadResponseAsync(socket, TimeSpan.FromSeconds(10));
        // Kestrel answers 408 and closes, or just closes.
        Assert.True(response.StartsWith("HTTP/1.1 408", StringComparison.Ordinal) || RawHttp.Closed(socket, response), $"got: {response}");
        Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(8));
    }

    [Fact]
    public async Task A_client_that_trickles_its_body_is_dropped_in_bounded_time_while_others_are_served()
    {
        string name = ServerFixture.UniqueName("slow");
        await server.CreateDemoCollectionAsync(name);
        using var socket = await RawHttp.ConnectAsync(server.RestAddress);
        var started = Stopwatch.StartNew();
        await RawHttp.SendAsync(socket, $"POST /collections/{name}/documents HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{\"documents\": ");

        // One byte (valid JSON whitespace, so the parser keeps waiting) every 100 ms: 10 B/s, far under the 1000 B/s minimum.
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var trickle = Task.Run(async () =>
        {
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    await socket.SendAsync(" "u8.ToArray(), SocketFlags.None, stop.Token);
                    await Task.Delay(100, stop.Token);
                }
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The server closed the connection (or the test gave up): stop sending.
            }
        });

        Assert.True((await server.Http.GetAsync($"/collections/{name}")).IsSuccessStatusCode);

        string response = await RawHttp.ReadResponseAsync(socket, TimeSpan.FromSeconds(10));
        var elapsed = started.Elapsed;
        await stop.CancelAsync();
        await trickle;
        // Kestrel answers 408 when it can, then closes; either way the connection is gone well before 10 s.
        Assert.True(response.StartsWith("HTTP/1.1 408", StringComparison.Ordinal) || RawHttp.Closed(socket, response), $"got: {response}");
        Assert.InRange(elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(8));
        Assert.Equal(0, (await server.Http.GetFromJsonAsync<JsonElement>($"/collections/{name}/count")).GetProperty("count").GetInt64());
    }
}

/// <summary>HTTP/1.1 by hand, to misbehave in ways HttpClient will not.</summary>
internal static class RawHttp
{
    public static async Task<Socket> ConnectAsync(Uri address)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Parse(address.Host), address.Port);
        return socket;
    }

    public static async Task SendAsync(Socket socket, string text) => await socket.SendAsync(Encoding.ASCII.GetBytes(text), SocketFlags.None);

    /// <summary>Reads until the server closes the connection, a full response (headers + Content-Length body) arrived, or <paramref name="timeout"/>.</summary>
    public static async Task<string> ReadResponseAsync(Socket socket, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        var received = new StringBuilder();
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                int read = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
                if (read == 0)
                {
                    received.Append(ClosedMarker);
                    break;
                }
                received.Append(Encoding.UTF8.GetString(buffer, 0, read));
                if (IsComplete(received.ToString()))
                {
                    break;
                }
            }
        }
        catch (SocketException)
        {
            received.Append(ClosedMarker); // reset by the server
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"no response and no close within {timeout}; got: {received}");
        }
        return received.ToString();
    }

    private const string ClosedMarker = "\n<closed>";

    public static bool Closed(Socket socket, string response) => response.EndsWith(ClosedMarker, StringComparison.Ordinal) || !socket.Connected;

    private static bool IsComplete(string text)
    {
        int end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0)
        {
            return false;
        }
        string headers = text[..end];
        var length = headers.Split("\r\n").FirstOrDefault(h => h.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        if (length is null)
        {
            return headers.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase) ? text.EndsWith("0\r\n\r\n", StringComparison.Ordinal) : true;
        }
        return Encoding.UTF8.GetByteCount(text[(end + 4)..]) >= int.Parse(length["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
