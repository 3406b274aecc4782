using System.Net.Sockets;
using System.Text;

namespace VectorStoreDb.IntegrationTests.Security;

/// <summary>
/// HTTP/1.1 over a plain socket, for request targets HttpClient would rewrite before sending (it resolves "." and
/// ".." segments and may unescape others), so the server sees exactly what an attacker typed.
/// </summary>
internal static class RawHttp
{
    public sealed record Response(int Status, string ContentType, string Body);

    public static async Task<Response> SendAsync(Uri server, string method, string target, string? json = null)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port);
        await using var stream = client.GetStream();
        byte[] body = json is null ? [] : Encoding.UTF8.GetBytes(json);
        var head = new StringBuilder()
            .Append(method).Append(' ').Append(target).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(server.Authority).Append("\r\n")
            .Append("Connection: close\r\n");
        if (json is not null)
        {
            head.Append("Content-Type: application/json\r\n");
        }
        head.Append("Content-Length: ").Append(body.Length).Append("\r\n\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
        await stream.WriteAsync(body);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string all = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(20));
        int split = all.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        string headers = split >= 0 ? all[..split] : all;
        string responseBody = split >= 0 ? all[(split + 4)..] : "";
        int status = int.Parse(headers.Split(' ', 3)[1], System.Globalization.CultureInfo.InvariantCulture);
        string contentType = headers.Split("\r\n").FirstOrDefault(h => h.StartsWith("Content-Type:", StringComparison.OrdinalIgnoreCase))?["Content-Type:".Length..].Trim() ?? "";
        return new Response(status, contentType, responseBody);
    }
}
