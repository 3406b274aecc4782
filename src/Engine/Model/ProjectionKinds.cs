namespace VectorStoreDb.Engine;

/// <summary>Projections a collection may use.</summary>
public static class ProjectionKinds
{
    public const string None = "none";
    public const string Random = "random";
    public const string Pca = "pca";
}
