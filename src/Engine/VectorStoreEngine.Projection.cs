namespace VectorStoreDb.Engine;

public sealed partial class VectorStoreEngine
{
    /// <summary>
    /// Refits a <c>pca</c> collection's projection on its stored full vectors (up to its sample size), persists it and
    /// rebuilds the index from the full vectors. Returns how many vectors the fit used.
    /// </summary>
    public Task<int> RefitProjectionAsync(string collection, CancellationToken cancellationToken = default) =>
        Find(collection).RefitProjectionAsync(cancellationToken);
}
