namespace VectorStoreDb.Server.Operations;

/// <summary>A configured key as the server knows it: its position in the configuration (never the secret) and its role.</summary>
internal sealed record ApiKey(string Id, string Role);
