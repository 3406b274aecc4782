namespace VectorStoreDb.Engine;

/// <summary>
/// Orders a scroll by the metadata value under <paramref name="Field"/>: numbers before strings before booleans,
/// each in natural order (strings ordinal), reversed when <paramref name="Descending"/>. Documents without the field
/// (or with an array under it) come last in either direction; ties are broken by ascending id.
/// </summary>
public sealed record ScrollOrder(string Field, bool Descending = false);
