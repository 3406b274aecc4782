namespace VectorStoreDb.Index.Quantization;

/// <summary>How an index compresses its vectors for scanning.</summary>
public enum QuantizationKind
{
    /// <summary>Full float32 vectors only.</summary>
    None,
    /// <summary>One byte per dimension (per-dimension scale and offset fitted on the data): 4× smaller, int8 SIMD kernels.</summary>
    Int8,
    /// <summary>One bit per dimension, Hamming distance: 32× smaller; for normalised models of ≥ 256 dimensions, with rescoring.</summary>
    Binary,
}

/// <summary>
/// Quantization of an index: the scan runs over codes and keeps <c>k × oversampling</c> candidates, which
/// (with <see cref="Rescore"/>) are re-ranked by their full vectors. <see cref="Oversampling"/> 0 picks the
/// kind's default (<see cref="DefaultInt8Oversampling"/>, <see cref="DefaultBinaryOversampling"/>).
/// </summary>
public sealed record QuantizationSettings(QuantizationKind Kind = QuantizationKind.None, bool Rescore = true, float Oversampling = 0)
{
    public const float DefaultInt8Oversampling = 3;

    public const float DefaultBinaryOversampling = 8;

    /// <summary>No quantization.</summary>
    public static QuantizationSettings None { get; } = new();

    /// <summary>The oversampling actually used.</summary>
    public float EffectiveOversampling => Oversampling > 0 ? Oversampling : Kind == QuantizationKind.Binary ? DefaultBinaryOversampling : DefaultInt8Oversampling;

    /// <summary>Candidates the code scan keeps for <paramref name="k"/> results.</summary>
    public int Candidates(int k) => Rescore ? (int)Math.Min(int.MaxValue / 2, Math.Ceiling(k * Math.Max(1f, EffectiveOversampling))) : k;

    /// <summary>Parses the wire name (<c>none</c>, <c>int8</c>, <c>binary</c>), case-insensitively.</summary>
    public static bool TryParseKind(string? text, out QuantizationKind kind)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case null or "" or "none": kind = QuantizationKind.None; return true;
            case "int8" or "scalar" or "sq8": kind = QuantizationKind.Int8; return true;
            case "binary" or "bq": kind = QuantizationKind.Binary; return true;
            default: kind = QuantizationKind.None; return false;
        }
    }

    /// <summary>The wire name of a kind.</summary>
    public static string ToWireName(QuantizationKind kind) => kind switch
    {
        QuantizationKind.Int8 => "int8",
        QuantizationKind.Binary => "binary",
        _ => "none",
    };
}
