namespace VectorStoreDb.Engine.Validation;

/// <summary>Checks for UTF-16 that cannot be encoded as UTF-8 (a lone surrogate), which storage and the wire cannot carry.</summary>
internal static class Utf16Text
{
    /// <summary>True when <paramref name="text"/> holds a high surrogate not followed by a low one, or a low one not preceded by a high one.</summary>
    public static bool HasLoneSurrogate(ReadOnlySpan<char> text)
    {
        // Vectorised search for the first surrogate: almost every real text has none, so this is the whole cost.
        int i = text.IndexOfAnyInRange('\uD800', '\uDFFF');
        while (i >= 0 && i < text.Length)
        {
            char c = text[i];
            if (char.IsLowSurrogate(c) || i + 1 == text.Length || !char.IsLowSurrogate(text[i + 1]))
            {
                return true;
            }
            i += 2;
            if (i >= text.Length)
            {
                return false;
            }
            int next = text[i..].IndexOfAnyInRange('\uD800', '\uDFFF');
            if (next < 0)
            {
                return false;
            }
            i += next;
        }
        return false;
    }

    /// <summary>Refuses a lone surrogate with an invalid-argument error naming <paramref name="field"/>.</summary>
    public static void Require(string? text, string field)
    {
        if (text is not null && HasLoneSurrogate(text))
        {
            throw VectorStoreException.Invalid(field, "contains invalid UTF-16 (a lone surrogate).");
        }
    }
}
