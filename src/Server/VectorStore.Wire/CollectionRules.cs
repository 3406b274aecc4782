using VectorStoreDb.Engine;

namespace VectorStoreDb.Wire;

/// <summary>
/// How a collection's stored settings are reported on every wire (gRPC, REST and so the SDKs): each rule written
/// once here rather than in each mapper.
/// </summary>
public static class CollectionRules
{
    /// <summary>The dimension of the index vectors. Collections created before projections existed store 0, meaning the collection's dimension.</summary>
    public static int ReportedIndexDimension(this CollectionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.IndexDimension > 0 ? settings.IndexDimension : settings.Dimension;
    }

    /// <summary>Whether candidates are rescored with full vectors: stored as on by default, but only meaningful with a projection.</summary>
    public static bool ReportedRescore(this CollectionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.Projection != ProjectionKinds.None && settings.Rescore;
    }

    /// <summary>Tokens per chunk, or null for "as many as the encoder reads" (stored as 0).</summary>
    public static int? ReportedChunkTokens(this CollectionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.ChunkTokens == 0 ? null : settings.ChunkTokens;
    }
}
