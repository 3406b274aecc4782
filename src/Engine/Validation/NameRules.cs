using System.Text.RegularExpressions;

namespace VectorStoreDb.Engine.Validation;

/// <summary>
/// The one rule for every name and id that travels in a URL path (collection names, snapshot names, document ids):
/// 1 to a documented number of characters; no <c>.</c> or <c>..</c> as the whole name (a dot segment that routing
/// would normalise away, landing on another route); no control characters (so no CR/LF reaches a header); no
/// <c>/</c> or <c>\</c> (a path separator); no lone UTF-16 surrogate (not encodable as UTF-8). Collection names keep
/// their stricter character set on top.
/// </summary>
/// <remarks>
/// The rule is applied only where a name is <em>given to</em> the store: create, upsert, snapshot create and a
/// restore's target. Reads and deletes look names up as they are, so documents stored before the rule existed (an
/// id <c>.</c>, or one with a control character) stay readable and deletable through the SDK and gRPC, whose ids
/// travel in the message body, not the path.
/// </remarks>
internal static partial class NameRules
{
    /// <summary>Longest collection name.</summary>
    public const int MaxCollectionNameLength = 64;

    /// <summary>Longest snapshot name (the storage provider's limit).</summary>
    public const int MaxSnapshotNameLength = 128;

    /// <summary>Validates a collection name being created or restored into.</summary>
    public static string CollectionName(string? name, string field = "name") =>
        name is not null && CollectionNamePattern().IsMatch(name)
            ? name
            : throw VectorStoreException.Invalid(field, $"collection names are 1-{MaxCollectionNameLength} characters of a-z, 0-9, '_' and '-'.");

    /// <summary>Validates a snapshot name being created.</summary>
    public static string SnapshotName(string? name, string field = "snapshot") => PathSegment(name, field, MaxSnapshotNameLength, "snapshot names");

    /// <summary>Validates a document id being written; <paramref name="maxLength"/> is <see cref="LimitsOptions.MaxIdLength"/>.</summary>
    public static string DocumentId(string? id, string field, int maxLength) => PathSegment(id, field, maxLength, "ids");

    /// <summary>The shared rule; <paramref name="what"/> names the kind of name in the message.</summary>
    public static string PathSegment(string? value, string field, int maxLength, string what)
    {
        if (string.IsNullOrEmpty(value) || value.Length > maxLength)
        {
            throw VectorStoreException.Invalid(field, $"{what} must be 1-{maxLength} characters.");
        }
        if (value is "." or "..")
        {
            throw VectorStoreException.Invalid(field, $"{what} must not be '.' or '..'.");
        }
        if (value.AsSpan().IndexOfAny(Forbidden) >= 0)
        {
            throw VectorStoreException.Invalid(field, $"{what} must not contain control characters, '/' or '\\'.");
        }
        Utf16Text.Require(value, field);
        return value;
    }

    /// <summary>C0 and C1 control characters and both path separators.</summary>
    private static readonly System.Buffers.SearchValues<char> Forbidden = System.Buffers.SearchValues.Create(
        string.Concat(Enumerable.Range(0, 0x20).Select(c => (char)c)) + "\u007F" + string.Concat(Enumerable.Range(0x80, 0x20).Select(c => (char)c)) + "/\\");

    [GeneratedRegex("^[a-z0-9_-]{1,64}$")]
    private static partial Regex CollectionNamePattern();
}
