using System.Security.Cryptography;
using System.Text;

namespace VectorStoreDb.Server.Operations;

/// <summary>The configured keys as SHA-256 hashes.</summary>
internal sealed class ApiKeyTable
{
    private readonly (byte[] Hash, ApiKey Key)[] _keys;

    public ApiKeyTable(AuthOptions options)
    {
        AllowAnonymous = options.AllowAnonymous;
        var keys = new List<(byte[], ApiKey)>();
        for (int i = 0; i < options.ApiKeys.Count; i++)
        {
            var configured = options.ApiKeys[i];
            if (string.IsNullOrWhiteSpace(configured.Key))
            {
                throw new InvalidOperationException($"VectorStore:Auth:ApiKeys:{i}:Key is empty.");
            }
            string role = configured.Role?.Trim().ToLowerInvariant() ?? "";
            if (role is not (ApiKeyRoles.Read or ApiKeyRoles.Admin))
            {
                throw new InvalidOperationException($"VectorStore:Auth:ApiKeys:{i}:Role must be 'read' or 'admin', was '{configured.Role}'.");
            }
            keys.Add((Hash(configured.Key), new ApiKey($"key{i}", role)));
        }
        _keys = [.. keys];
    }

    public bool AllowAnonymous { get; }

    public bool IsEmpty => _keys.Length == 0;

    public int Count => _keys.Length;

    /// <summary>The matching key. Compares against every key whatever matches, so timing says nothing about which or how much.</summary>
    public ApiKey? Find(string presented)
    {
        byte[] hash = Hash(presented);
        ApiKey? found = null;
        foreach (var (candidate, key) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(candidate, hash))
            {
                found ??= key;
            }
        }
        return found;
    }

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
