using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace VectorStoreDb.Server.Hosting;

/// <summary>
/// Where REST and gRPC listen. Kestrel cannot serve HTTP/1.1 and cleartext HTTP/2 on one port (HTTP/2 needs TLS
/// negotiation there), so — like Qdrant's 6333/6334 — REST listens on <c>--urls</c> and gRPC on
/// <c>VectorStore:GrpcUrl</c>, by default the first REST port + 1. Over https one port serves both.
/// </summary>
public sealed class ListenAddresses
{
    private readonly List<ListenOptions> _rest = [];
    private ListenOptions? _grpc;

    public IReadOnlyList<string> RestUrls { get; }

    public string GrpcUrl { get; }

    public ListenAddresses(IReadOnlyList<string> restUrls, string? grpcUrl)
    {
        if (restUrls.Count == 0)
        {
            throw new InvalidOperationException("At least one REST URL is needed (--urls).");
        }
        RestUrls = restUrls;
        GrpcUrl = grpcUrl ?? DeriveGrpcUrl(restUrls[0]);
    }

    /// <summary>The bound REST address (with the real port when 0 was asked for). Valid once the server has started.</summary>
    public Uri Rest => Bound(_rest[0], RestUrls[0]);

    /// <summary>The bound gRPC address. Valid once the server has started.</summary>
    public Uri Grpc => Bound(_grpc!, GrpcUrl);

    internal void Configure(KestrelServerOptions kestrel)
    {
        foreach (string url in RestUrls)
        {
            _rest.Add(Listen(kestrel, url, url.StartsWith("https:", StringComparison.OrdinalIgnoreCase) ? HttpProtocols.Http1AndHttp2 : HttpProtocols.Http1));
        }
        // Over TLS the REST listener negotiates HTTP/2 too, so gRPC may share it; cleartext needs its own port
        // (two ":0" URLs mean two different free ports).
        int shared = RestUrls.ToList().FindIndex(u => string.Equals(u, GrpcUrl, StringComparison.OrdinalIgnoreCase));
        _grpc = shared >= 0 && GrpcUrl.StartsWith("https:", StringComparison.OrdinalIgnoreCase)
            ? _rest[shared]
            : Listen(kestrel, GrpcUrl, HttpProtocols.Http2);
    }

    private static string DeriveGrpcUrl(string restUrl)
    {
        var uri = new Uri(restUrl.Replace("*", "0.0.0.0", StringComparison.Ordinal).Replace("+", "0.0.0.0", StringComparison.Ordinal));
        if (uri.Scheme == Uri.UriSchemeHttps)
        {
            return restUrl; // TLS negotiates HTTP/2, so gRPC shares the REST port
        }
        int port = uri.Port == 0 ? 0 : uri.Port + 1;
        return $"{uri.Scheme}://{uri.Host}:{port}";
    }

    private static ListenOptions Listen(KestrelServerOptions kestrel, string url, HttpProtocols protocols)
    {
        var uri = new Uri(url.Replace("*", "0.0.0.0", StringComparison.Ordinal).Replace("+", "0.0.0.0", StringComparison.Ordinal));
        ListenOptions? captured = null;
        void Configure(ListenOptions listen)
        {
            listen.Protocols = protocols;
            if (uri.Scheme == Uri.UriSchemeHttps)
            {
                listen.UseHttps();
            }
            captured = listen;
        }
        if (uri.Host is "localhost")
        {
            // ListenLocalhost binds two sockets; bind IPv4 loopback so a port-0 request resolves to one port.
            kestrel.Listen(IPAddress.Loopback, uri.Port, Configure);
        }
        else
        {
            kestrel.Listen(IPAddress.Parse(uri.Host.Trim('[', ']')), uri.Port, Configure);
        }
        return captured!;
    }

    private static Uri Bound(ListenOptions listen, string configured)
    {
        var scheme = new Uri(configured.Replace("*", "0.0.0.0", StringComparison.Ordinal).Replace("+", "0.0.0.0", StringComparison.Ordinal)).Scheme;
        var endpoint = listen.IPEndPoint!;
        string host = endpoint.Address.Equals(IPAddress.Any) ? "127.0.0.1" : endpoint.Address.ToString();
        if (endpoint.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            host = endpoint.Address.Equals(IPAddress.IPv6Any) ? "[::1]" : $"[{host}]";
        }
        return new Uri($"{scheme}://{host}:{endpoint.Port}");
    }
}
