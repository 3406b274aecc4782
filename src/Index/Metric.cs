namespace VectorStoreDb.Index;

/// <summary>How two vectors are compared.</summary>
public enum Metric
{
    /// <summary>Cosine similarity: vectors are L2-normalised on the way in, then compared by dot product. Higher is better.</summary>
    Cosine,
    /// <summary>Raw inner product. Higher is better.</summary>
    Dot,
    /// <summary>Euclidean distance. Lower is better.</summary>
    L2,
}

/// <summary>
/// Conversions between the metric's natural score (what users see) and the internal distance
/// (what indexes order by: always "smaller is closer", so one heap type serves every metric).
/// </summary>
public static class MetricExtensions
{
    /// <summary>Internal distance between two vectors already prepared for <paramref name="metric"/> (normalised for cosine).</summary>
    public static float Distance(this Metric metric, ReadOnlySpan<float> a, ReadOnlySpan<float> b) => metric switch
    {
        Metric.L2 => VectorKernels.SquaredL2(a, b),
        _ => -VectorKernels.Dot(a, b),
    };

    /// <summary>The user-facing score for an internal distance: similarity for cosine and dot, Euclidean distance for L2.</summary>
    public static float ToScore(this Metric metric, float distance) => metric switch
    {
        Metric.L2 => MathF.Sqrt(MathF.Max(0f, distance)),
        _ => -distance,
    };

    /// <summary>True when a higher score means a closer match.</summary>
    public static bool HigherIsBetter(this Metric metric) => metric != Metric.L2;

    /// <summary>Prepares a vector in place for storage or querying (normalises it for cosine).</summary>
    public static void Prepare(this Metric metric, Span<float> vector)
    {
        if (metric == Metric.Cosine)
        {
            VectorKernels.NormalizeInPlace(vector);
        }
    }

    /// <summary>Parses the wire name (<c>cosine</c>, <c>dot</c>, <c>l2</c>), case-insensitively.</summary>
    public static bool TryParse(string? text, out Metric metric)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "cosine": metric = Metric.Cosine; return true;
            case "dot": case "ip": case "dotproduct": metric = Metric.Dot; return true;
            case "l2": case "euclidean": metric = Metric.L2; return true;
            default: metric = Metric.Cosine; return false;
        }
    }

    /// <summary>The wire name of the metric.</summary>
    public static string ToWireName(this Metric metric) => metric switch
    {
        Metric.Cosine => "cosine",
        Metric.Dot => "dot",
        _ => "l2",
    };
}
