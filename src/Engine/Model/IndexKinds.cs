namespace VectorStoreDb.Engine;

/// <summary>Index kinds a collection may use.</summary>
public static class IndexKinds
{
    public const string Exact = "exact";
    public const string Hnsw = "hnsw";
}
