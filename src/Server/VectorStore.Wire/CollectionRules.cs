using VectorStoreDb.Engine;
using VectorStoreDb.Index.Quantization;

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

    /// <summary>Whether candidates are rescored with full vectors: stored as on by default, but only meaningful with a projection or a quantization.</summary>
    public static bool ReportedRescore(this CollectionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return (settings.Projection != ProjectionKinds.None || settings.ReportedQuantization() != "none") && settings.Rescore;
    }

    /// <summary>The quantization's wire name; settings saved before quantization existed have none.</summary>
    public static string ReportedQuantization(this CollectionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return QuantizationSettings.TryParseKind(settings.Quantization, out var kind) ? QuantizationSettings.ToWireName(kind) : "none";
    }

    /// <summary>The oversampling a quantized scan uses (the kind's default when the stored value is 0); 0 without quantization.</summary>
    public static float ReportedOversampling(this CollectionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return QuantizationSettings.TryParseKind(settings.Quantization, out var kind) && kind != QuantizationKind.None
            ? new QuantizationSettings(kind, settings.Rescore, settings.Oversampling).EffectiveOversampling
            : 0f;
    }

    /// <summary>Tokens per chunk, or null for "as many as the encoder reads" (stored as 0).</summary>
    public static int? ReportedChunkTokens(this CollectionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.ChunkTokens == 0 ? null : settings.ChunkTokens;
    }
}
