namespace VectorStoreDb.Engine;

/// <summary>A collection as listings show it.</summary>
/// <param name="Settings">What the collection was created with.</param>
/// <param name="DocumentCount">Documents it holds.</param>
/// <param name="ProjectionReady">True when the index holds projected vectors (false for no projection, or a PCA not fitted yet).</param>
public sealed record CollectionInfo(CollectionSettings Settings, long DocumentCount, bool ProjectionReady = false);
