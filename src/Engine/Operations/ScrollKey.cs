namespace VectorStoreDb.Engine.Operations;

/// <summary>
/// Where a document sits in a scroll ordered by a metadata field: the value's kind rank (numbers, strings, booleans,
/// then missing), the value, and the id as the tie-break, so every document has exactly one position.
/// </summary>
internal readonly record struct ScrollKey(int Rank, double Number, string? Text, string Id)
{
    public const int NumberRank = 0;
    public const int StringRank = 1;
    public const int BoolRank = 2;
    /// <summary>No value under the field, or an array (which has no single position): last in either direction.</summary>
    public const int MissingRank = 3;

    public static ScrollKey Of(string id, IReadOnlyDictionary<string, MetadataValue> metadata, string field)
    {
        if (!metadata.TryGetValue(field, out var value))
        {
            return new ScrollKey(MissingRank, 0, null, id);
        }
        return value.Kind switch
        {
            MetadataKind.Number => new ScrollKey(NumberRank, value.Number, null, id),
            MetadataKind.String => new ScrollKey(StringRank, 0, value.String, id),
            MetadataKind.Bool => new ScrollKey(BoolRank, value.Bool ? 1 : 0, null, id),
            _ => new ScrollKey(MissingRank, 0, null, id),
        };
    }

    /// <summary>Order of two keys in a scroll: values reversed when descending, missing values last, ids ascending.</summary>
    public static int Compare(in ScrollKey a, in ScrollKey b, bool descending)
    {
        int byValue = CompareValues(a, b);
        if (byValue != 0)
        {
            bool eitherMissing = a.Rank == MissingRank || b.Rank == MissingRank;
            return descending && !eitherMissing ? -byValue : byValue;
        }
        return string.CompareOrdinal(a.Id, b.Id);
    }

    private static int CompareValues(in ScrollKey a, in ScrollKey b)
    {
        if (a.Rank != b.Rank)
        {
            return a.Rank.CompareTo(b.Rank);
        }
        return a.Rank switch
        {
            StringRank => string.CompareOrdinal(a.Text, b.Text),
            MissingRank => 0,
            _ => a.Number.CompareTo(b.Number),
        };
    }
}
