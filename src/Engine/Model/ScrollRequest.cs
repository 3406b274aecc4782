using VectorStoreDb.Engine.Filtering;

namespace VectorStoreDb.Engine;

/// <summary>
/// One page of a filtered walk through a collection's documents (<see cref="VectorStoreEngine.ScrollAsync"/>).
/// Start with <see cref="After"/> null and pass each page's <see cref="ScrollPage.Next"/> until it is null.
/// </summary>
public sealed record ScrollRequest
{
    /// <summary>Only documents whose metadata matches; null for all.</summary>
    public MetadataFilter? Filter { get; init; }

    /// <summary>Order by a metadata field; null walks in ordinal id order.</summary>
    public ScrollOrder? OrderBy { get; init; }

    /// <summary>Documents per page, 1 to 1000.</summary>
    public int Limit { get; init; } = 50;

    /// <summary>The previous page's <see cref="ScrollPage.Next"/> (opaque); null for the first page.</summary>
    public string? After { get; init; }

    public bool IncludeVectors { get; init; }
}
