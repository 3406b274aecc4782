using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using VectorStoreDb.Server.Operations;
using StatusCode = Grpc.Core.StatusCode;

namespace VectorStoreDb.IntegrationTests.Security;

/// <summary>
/// Every endpoint the server maps (read from its route table, so a new endpoint cannot be left out) × every kind of
/// caller (no key, unknown key, read key, admin key) × content types and path spellings: the answer is what the
/// endpoint's declared role says, and refused requests change nothing.
/// </summary>
public class AuthorizationMatrixTests(AuthServerFixture server) : IClassFixture<AuthServerFixture>
{
    private const string UnknownKey = "not-a-key";

    // Ids and snapshot names equal to gRPC read methods: before authorization followed the endpoint, a read key with
    // Content-Type: application/grpc could delete exactly these.
    private static readonly string[] SentinelIds = ["Get", "List", "Count", "Query", "sentinel"];

    private enum Caller { None, Unknown, Read, Admin }

    private sealed record Outcome(string Request, int Status, string? GrpcStatus);

    private IReadOnlyList<Endpoint> Endpoints() =>
        [.. server.Services.GetRequiredService<EndpointDataSource>().Endpoints];

    private static bool IsGrpcFallback(Endpoint endpoint) =>
        endpoint.DisplayName?.StartsWith("gRPC - Unimplemented", StringComparison.Ordinal) == true;

    [Fact]
    public void Every_endpoint_declares_its_role()
    {
        var endpoints = Endpoints();
        Assert.True(endpoints.Count > 30, $"only {endpoints.Count} endpoints found: the route table was not read");
        var undeclared = endpoints
            .Where(e => !IsGrpcFallback(e))
            .Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is null
                && !e.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy is ApiKeyRoles.Read or ApiKeyRoles.Admin))
            .Select(e => e.DisplayName)
            .ToList();
        Assert.True(undeclared.Count == 0, "endpoints without a declared role (add RequireReadKey/RequireAdminKey, [Authorize(Policy = ...)] or AllowAnonymous): " + string.Join(", ", undeclared));
        // gRPC's UNIMPLEMENTED answers take their service's conventions; the one for unknown services declares
        // nothing and so falls back to admin: closed, not open.
        Assert.All(endpoints.Where(e => IsGrpcFallback(e) && e.Metadata.GetMetadata<IAllowAnonymous>() is null && !e.Metadata.GetOrderedMetadata<IAuthorizeData>().Any()),
            e => Assert.Equal(ApiKeyRoles.Admin, EndpointRoles.RequiredRole(e)));
    }

    [Fact]
    public void Both_embedding_routes_and_every_read_need_only_a_read_key()
    {
        var rest = Endpoints().OfType<RouteEndpoint>().Where(e => e.Metadata.GetMetadata<GrpcMethodMetadata>() is null).ToList();
        string? RoleOf(string method, string pattern) => EndpointRoles.RequiredRole(rest.Single(e =>
            e.RoutePattern.RawText?.TrimEnd('/') == pattern && e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Contains(method)));
        Assert.Equal(ApiKeyRoles.Read, RoleOf("POST", "/embed"));
        Assert.Equal(ApiKeyRoles.Read, RoleOf("POST", "/v1/embeddings"));
        Assert.Equal(ApiKeyRoles.Read, RoleOf("POST", "/collections/{name}/query"));
        Assert.Equal(ApiKeyRoles.Admin, RoleOf("DELETE", "/collections/{name}/documents/{id}"));
        Assert.Equal(ApiKeyRoles.Admin, RoleOf("DELETE", "/collections/{name}/snapshots/{snapshot}"));
        Assert.Null(RoleOf("GET", "/healthz"));
    }

    [Fact]
    public async Task Rest_endpoints_answer_as_their_role_says_whatever_the_content_type_and_path_spelling()
    {
        string sentinel = await CreateSentinelAsync();
        var before = await SnapshotOfSentinelAsync(sentinel);
        using var http2 = new HttpClient { BaseAddress = server.GrpcAddress, DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        var failures = new List<string>();
        int requests = 0;
        foreach (var endpoint in Endpoints().OfType<RouteEndpoint>().Where(e => e.Metadata.GetMetadata<GrpcMethodMetadata>() is null))
        {
            string? role = EndpointRoles.RequiredRole(endpoint);
            foreach (string method in endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? [])
            {
                foreach (var caller in Enum.GetValues<Caller>())
                {
                    bool allowed = role is null || caller == Caller.Admin || (caller == Caller.Read && role == ApiKeyRoles.Read);
                    // Refused requests aim at the real data (a hole would destroy it); allowed writes at a throwaway name.
                    bool destructive = allowed && role == ApiKeyRoles.Admin;
                    string collection = destructive ? ServerFixture.UniqueName("scratch") : sentinel;
                    string path = PathOf(endpoint.RoutePattern, collection);
                    foreach (string spelled in destructive ? [path] : Spellings(path))
                    {
                        foreach (string? contentType in new[] { "application/json", "application/grpc" })
                        {
                            foreach (var client in destructive ? [server.Http] : new[] { server.Http, http2 })
                            {
                                var outcome = await SendAsync(client, method, spelled, contentType, caller);
                                requests++;
                                string? problem = Judge(outcome, role, caller, allowed);
                                if (problem is not null)
                                {
                                    failures.Add($"{caller} key, {outcome.Request} ({contentType}, HTTP/{client.DefaultRequestVersion}): {problem}");
                                }
                            }
                        }
                    }
                }
            }
        }
        Assert.True(requests > 500, $"only {requests} requests were sent");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(40)));
        Assert.Equal(before, await SnapshotOfSentinelAsync(sentinel));
    }

    [Fact]
    public async Task Grpc_methods_answer_as_their_role_says_through_the_client_and_through_raw_http2()
    {
        string sentinel = await CreateSentinelAsync();
        var before = await SnapshotOfSentinelAsync(sentinel);
        using var http2 = new HttpClient { BaseAddress = server.GrpcAddress, DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        var failures = new List<string>();
        var methods = Endpoints().Where(e => !IsGrpcFallback(e)).Select(e => (Endpoint: e, Grpc: e.Metadata.GetMetadata<GrpcMethodMetadata>())).Where(m => m.Grpc is not null).ToList();
        Assert.True(methods.Count >= 20, $"only {methods.Count} gRPC methods found");
        foreach (var (endpoint, grpc) in methods)
        {
            string? role = EndpointRoles.RequiredRole(endpoint);
            foreach (var caller in Enum.GetValues<Caller>())
            {
                bool allowed = role is null || caller == Caller.Admin || (caller == Caller.Read && role == ApiKeyRoles.Read);
                bool destructive = allowed && role == ApiKeyRoles.Admin;
                byte[] message = RequestMessage(grpc!, destructive ? ServerFixture.UniqueName("scratch") : sentinel);
                var status = await CallAsync(grpc!.Method, message, caller);
                StatusCode? refusal = allowed ? null : caller is Caller.None or Caller.Unknown ? StatusCode.Unauthenticated : StatusCode.PermissionDenied;
                if (refusal is { } expected ? status != expected : status is StatusCode.Unauthenticated or StatusCode.PermissionDenied)
                {
                    failures.Add($"{caller} key, gRPC {grpc.Method.FullName}: {status}");
                }
                if (destructive)
                {
                    continue;
                }
                // The same call as raw HTTP/2: the real path, lower-cased, percent-encoded, and with a JSON content type.
                string fullName = grpc.Method.FullName;
                foreach (string path in new[] { fullName, fullName.ToLowerInvariant(), "/" + Uri.EscapeDataString(fullName[1..]).Replace("%2F", "/", StringComparison.Ordinal).Replace("v", "%76", StringComparison.Ordinal) })
                {
                    foreach (string contentType in new[] { "application/grpc", "application/json" })
                    {
                        var outcome = await SendAsync(http2, "POST", path, contentType, caller, Frame(message));
                        string? problem = Judge(outcome, role, caller, allowed);
                        if (problem is not null)
                        {
                            failures.Add($"{caller} key, {outcome.Request} ({contentType}): {problem}");
                        }
                    }
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(40)));
        Assert.Equal(before, await SnapshotOfSentinelAsync(sentinel));
    }

    /// <summary>Null when the outcome fits the endpoint's role, else what is wrong with it.</summary>
    private static string? Judge(Outcome outcome, string? role, Caller caller, bool allowed)
    {
        bool unauthenticated = outcome.Status == 401 || outcome.GrpcStatus == "16";
        bool denied = outcome.Status == 403 || outcome.GrpcStatus == "7";
        if (allowed)
        {
            return unauthenticated || denied ? $"refused ({outcome.Status}, grpc-status {outcome.GrpcStatus}) though the endpoint's role is '{role ?? "anonymous"}'" : null;
        }
        bool wantUnauthenticated = caller is Caller.None or Caller.Unknown;
        if (!wantUnauthenticated && outcome.Status is 405 or 415)
        {
            // Routing refused the method or content type with its own endpoint, which runs nothing; it still needs a
            // valid key (checked by the None/Unknown rows).
            return null;
        }
        return (wantUnauthenticated ? unauthenticated : denied)
            ? null
            : $"expected {(wantUnauthenticated ? "401/UNAUTHENTICATED" : "403/PERMISSION_DENIED")}, got {outcome.Status} (grpc-status {outcome.GrpcStatus})";
    }

    /// <summary>The path as written, upper-cased literals, a percent-encoded letter in each literal, and a trailing slash.</summary>
    private static IEnumerable<string> Spellings(string path)
    {
        yield return path;
        var segments = path.Split('/');
        yield return string.Join('/', segments.Select((s, i) => i == 1 ? s.ToUpperInvariant() : s));
        yield return string.Join('/', segments.Select((s, i) => i == 1 && s.Length > 0 && char.IsAsciiLetterLower(s[0]) ? $"%{(int)s[0]:X2}{s[1..]}" : s));
        yield return path + "/";
    }

    private static string PathOf(RoutePattern pattern, string collection)
    {
        var path = new StringBuilder();
        foreach (var segment in pattern.PathSegments)
        {
            path.Append('/');
            foreach (var part in segment.Parts)
            {
                path.Append(part switch
                {
                    RoutePatternLiteralPart literal => literal.Content,
                    RoutePatternParameterPart { Name: "name" } => collection,
                    RoutePatternParameterPart { Name: "id" } => "Get",
                    RoutePatternParameterPart { Name: "snapshot" } => "List",
                    RoutePatternParameterPart { Name: "path" } => "index.html",
                    RoutePatternParameterPart { Name: "documentName" } => "v1",
                    RoutePatternParameterPart p => throw new InvalidOperationException($"route {pattern.RawText}: no test value for {{{p.Name}}}; add one here"),
                    _ => throw new InvalidOperationException($"route {pattern.RawText}: unexpected part {part}"),
                });
            }
        }
        return path.Length == 0 ? "/" : path.ToString();
    }

    private async Task<Outcome> SendAsync(HttpClient client, string method, string path, string? contentType, Caller caller, byte[]? body = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path)
        {
            // SendAsync takes the version from the message, not from the client's defaults.
            Version = client.DefaultRequestVersion,
            VersionPolicy = client.DefaultVersionPolicy,
        };
        if (method is not ("GET" or "HEAD" or "DELETE") || contentType == "application/grpc")
        {
            request.Content = new ByteArrayContent(body ?? "{}"u8.ToArray());
            request.Content.Headers.ContentType = contentType is null ? null : MediaTypeHeaderValue.Parse(contentType);
        }
        if (contentType == "application/grpc")
        {
            request.Headers.TryAddWithoutValidation("te", "trailers");
        }
        if (KeyOf(caller) is { } key)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (!response.Headers.Contains("grpc-status"))
        {
            // Read the answer so trailers (where gRPC puts its status after a body) arrive; a stream that goes on
            // (health's Watch) was accepted, which is all this needs to know.
            using var streaming = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            try
            {
                await response.Content.ReadAsByteArrayAsync(streaming.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
        string? grpcStatus = response.Headers.TryGetValues("grpc-status", out var values) ? values.First()
            : response.TrailingHeaders.TryGetValues("grpc-status", out var trailing) ? trailing.First() : null;
        return new Outcome($"{method} {path}", (int)response.StatusCode, grpcStatus);
    }

    private static string? KeyOf(Caller caller) => caller switch
    {
        Caller.Unknown => UnknownKey,
        Caller.Read => AuthServerFixture.ReadKey,
        Caller.Admin => AuthServerFixture.AdminKey,
        _ => null,
    };

    /// <summary>Calls a method with the real gRPC client, whatever its kind, and returns the status it ends with.</summary>
    private async Task<StatusCode> CallAsync(IMethod method, byte[] message, Caller caller)
    {
        var bytes = Marshallers.Create(b => b, b => b);
        var invoker = server.Channel.CreateCallInvoker();
        var headers = new Metadata();
        if (KeyOf(caller) is { } key)
        {
            headers.Add("authorization", $"Bearer {key}");
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var options = new CallOptions(headers, cancellationToken: timeout.Token);
        try
        {
            switch (method.Type)
            {
                case MethodType.Unary:
                    await invoker.AsyncUnaryCall(new Method<byte[], byte[]>(MethodType.Unary, method.ServiceName, method.Name, bytes, bytes), null, options, message);
                    return StatusCode.OK;
                case MethodType.ServerStreaming:
                    {
                        using var call = invoker.AsyncServerStreamingCall(new Method<byte[], byte[]>(MethodType.ServerStreaming, method.ServiceName, method.Name, bytes, bytes), null, options, message);
                        // The first message (or the end) is enough: health's Watch never ends.
                        await call.ResponseStream.MoveNext(timeout.Token);
                        return StatusCode.OK;
                    }
                default:
                    {
                        using var call = invoker.AsyncDuplexStreamingCall(new Method<byte[], byte[]>(method.Type, method.ServiceName, method.Name, bytes, bytes), null, options);
                        await call.RequestStream.CompleteAsync();
                        await call.ResponseStream.MoveNext(timeout.Token);
                        return StatusCode.OK;
                    }
            }
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }

    /// <summary>
    /// The method's request message, aimed at <paramref name="collection"/>: documents and snapshots named like gRPC
    /// read methods, restores into a fresh name.
    /// </summary>
    private static byte[] RequestMessage(GrpcMethodMetadata grpc, string collection)
    {
        var handler = grpc.ServiceType.GetMethods(BindingFlags.Public | BindingFlags.Instance).FirstOrDefault(m => m.Name == grpc.Method.Name);
        var type = handler?.GetParameters().FirstOrDefault()?.ParameterType;
        if (type is null || !typeof(IMessage).IsAssignableFrom(type))
        {
            return [];
        }
        var message = (IMessage)Activator.CreateInstance(type)!;
        var fields = message.Descriptor.Fields.InFieldNumberOrder().ToDictionary(f => f.Name);
        void Set(string field, object value)
        {
            if (fields.TryGetValue(field, out var descriptor) && descriptor.FieldType == Google.Protobuf.Reflection.FieldType.String)
            {
                descriptor.Accessor.SetValue(message, value);
            }
        }
        if (fields.ContainsKey("collection"))
        {
            Set("collection", collection);
            Set("name", "List");
        }
        else
        {
            Set("name", collection);
        }
        Set("id", "Get");
        Set("target", ServerFixture.UniqueName("restored"));
        return message.ToByteArray();
    }

    private static byte[] Frame(byte[] message)
    {
        var framed = new byte[5 + message.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)message.Length);
        message.CopyTo(framed, 5);
        return framed;
    }

    private HttpRequestMessage Admin(HttpMethod method, string path, object? body = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AuthServerFixture.AdminKey);
        return request;
    }

    private async Task<string> CreateSentinelAsync()
    {
        string name = ServerFixture.UniqueName("sentinel");
        (await server.Http.SendAsync(Admin(HttpMethod.Put, $"/collections/{name}", new { encoder = "demo" }))).EnsureSuccessStatusCode();
        (await server.Http.SendAsync(Admin(HttpMethod.Post, $"/collections/{name}/documents",
            new { documents = SentinelIds.Select(id => new { id, text = $"sentinel {id}" }) }))).EnsureSuccessStatusCode();
        foreach (string snapshot in new[] { "List", "keep" })
        {
            (await server.Http.SendAsync(Admin(HttpMethod.Post, $"/collections/{name}/snapshots", new { name = snapshot }))).EnsureSuccessStatusCode();
        }
        return name;
    }

    /// <summary>The sentinel's documents and snapshots, as text: equal before and after means nothing was changed.</summary>
    private async Task<string> SnapshotOfSentinelAsync(string name)
    {
        var state = new StringBuilder();
        using (var response = await server.Http.SendAsync(Admin(HttpMethod.Get, $"/collections/{name}/documents?limit=100")))
        {
            response.EnsureSuccessStatusCode();
            var page = await response.Content.ReadFromJsonAsync<JsonElement>();
            foreach (var document in page.GetProperty("documents").EnumerateArray())
            {
                state.Append(document.GetProperty("id").GetString()).Append('=').Append(document.GetProperty("text").GetString()).Append(';');
            }
        }
        using (var response = await server.Http.SendAsync(Admin(HttpMethod.Get, $"/collections/{name}/snapshots")))
        {
            response.EnsureSuccessStatusCode();
            var list = await response.Content.ReadFromJsonAsync<JsonElement>();
            foreach (var snapshot in list.GetProperty("snapshots").EnumerateArray().OrderBy(s => s.GetProperty("name").GetString(), StringComparer.Ordinal))
            {
                state.Append("snapshot:").Append(snapshot.GetProperty("name").GetString()).Append(';');
            }
        }
        Assert.Contains("Get=sentinel Get;", state.ToString(), StringComparison.Ordinal);
        Assert.Contains("snapshot:List;", state.ToString(), StringComparison.Ordinal);
        return state.ToString();
    }
}
