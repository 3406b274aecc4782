using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;

namespace VectorStoreDb.Server.Dashboard;

/// <summary>
/// The dashboard's files, embedded in the server assembly (logical names <c>dashboard/…</c>) so the page works
/// from any install, offline, with nothing to copy. Loaded once; each file carries a content hash as its ETag.
/// </summary>
internal sealed class DashboardAssets
{
    private const string Prefix = "dashboard/";

    private readonly FrozenDictionary<string, Asset> _assets;

    public DashboardAssets()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (string name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            assets[name[Prefix.Length..].Replace('\\', '/')] = Load(assembly, name);
        }
        _assets = assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public bool TryGet(string path, out Asset asset) => _assets.TryGetValue(path.Length == 0 ? "index.html" : path, out asset!);

    private static Asset Load(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        byte[] bytes = buffer.ToArray();
        string etag = $"\"{Convert.ToHexStringLower(SHA256.HashData(bytes).AsSpan(0, 8))}\"";
        return new Asset(bytes, ContentType(name), etag);
    }

    private static string ContentType(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        ".json" => "application/json",
        _ => "application/octet-stream",
    };

    internal sealed record Asset(byte[] Content, string ContentType, string ETag);
}
