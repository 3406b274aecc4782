namespace VectorStoreDb.Embedding;

/// <summary>A window of a long text: its number (0-based) and its character range <c>[Start, End)</c> in the original text.</summary>
public sealed record TextChunk(int Number, int Start, int End, string Text);

/// <summary>An encoder that can split long texts into windows it can embed whole.</summary>
public interface ITextChunker
{
    /// <summary>Most text tokens one chunk may hold (the encoder's window without its special tokens).</summary>
    int WindowTokens { get; }

    /// <summary>
    /// Splits <paramref name="text"/> into overlapping token windows of <paramref name="windowTokens"/> tokens
    /// (default: as many as the encoder reads, special tokens excluded), consecutive windows sharing
    /// <paramref name="overlapTokens"/> tokens. A text that fits yields one chunk covering it.
    /// </summary>
    IReadOnlyList<TextChunk> Chunk(string text, int overlapTokens = 32, int? windowTokens = null);
}

/// <summary>
/// Token-window chunking over the character offsets a tokenizer reports. Windows are cut on token boundaries, so
/// no chunk splits a word piece and the offsets point into the original text (the highlight a query returns).
/// </summary>
public static class TextChunker
{
    /// <summary>See <see cref="ITextChunker.Chunk"/>; <paramref name="tokens"/> are the text's tokens (id unused) in order.</summary>
    public static IReadOnlyList<TextChunk> Chunk(IReadOnlyList<TokenSpan> tokens, string text, int windowTokens, int overlapTokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(windowTokens, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(overlapTokens);
        if (overlapTokens >= windowTokens)
        {
            throw new ArgumentOutOfRangeException(nameof(overlapTokens), overlapTokens, $"overlap must be smaller than the window ({windowTokens} tokens).");
        }
        if (tokens.Count <= windowTokens)
        {
            return [new TextChunk(0, 0, text.Length, text)];
        }
        var chunks = new List<TextChunk>();
        int step = windowTokens - overlapTokens;
        for (int first = 0; ; first += step)
        {
            int last = Math.Min(first + windowTokens, tokens.Count) - 1;
            int start = tokens[first].Start;
            int end = tokens[last].End;
            chunks.Add(new TextChunk(chunks.Count, start, end, text[start..end]));
            if (last == tokens.Count - 1)
            {
                break;
            }
        }
        return chunks;
    }
}

/// <summary>A token: its vocabulary id (0 where the tokenizer has none) and its character range <c>[Start, End)</c>.</summary>
public readonly record struct TokenSpan(int Id, int Start, int End);
