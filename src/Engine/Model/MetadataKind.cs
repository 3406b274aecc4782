namespace VectorStoreDb.Engine;

/// <summary>The kinds of value document metadata may hold.</summary>
public enum MetadataKind
{
    String,
    Number,
    Bool,
    /// <summary>An array of strings, numbers and booleans (no nesting).</summary>
    Array,
}
