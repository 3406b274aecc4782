namespace VectorStore.Embedding.Onnx;

/// <summary>A window of a long text: its number (0-based) and its character range <c>[Start, End)</c> in the original text.</summary>
public sealed record TextChunk(int Number, int Start, int End, string Text);

/// <summary>An encoder that can split long texts into windows it can embed whole.</summary>
public interface ITextChunker
{
    /// <summary>
    /// Splits <paramref name="text"/> into overlapping token windows of <paramref name="windowTokens"/> word pieces
    /// (default: the encoder's max tokens minus <c>[CLS]</c>/<c>[SEP]</c>), consecutive windows sharing
    /// <paramref name="overlapTokens"/> pieces. A text that fits yields one chunk covering it.
    /// </summary>
    IReadOnlyList<TextChunk> Chunk(string text, int overlapTokens = 32, int? windowTokens = null);
}

/// <summary>Token-window chunking over a <see cref="BertTextTokenizer"/>'s character offsets.</summary>
public static class TextChunker
{
    /// <summary>See <see cref="ITextChunker.Chunk"/>.</summary>
    public static IReadOnlyList<TextChunk> Chunk(BertTextTokenizer tokenizer, string text, int windowTokens, int overlapTokens)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(windowTokens, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(overlapTokens);
        if (overlapTokens >= windowTokens)
        {
            throw new ArgumentOutOfRangeException(nameof(overlapTokens), overlapTokens, $"overlap must be smaller than the window ({windowTokens} tokens).");
        }
        var pieces = new List<TokenSpan>();
        tokenizer.Tokenize(text, pieces);
        if (pieces.Count <= windowTokens)
        {
            return [new TextChunk(0, 0, text.Length, text)];
        }
        var chunks = new List<TextChunk>();
        int step = windowTokens - overlapTokens;
        for (int first = 0; ; first += step)
        {
            int last = Math.Min(first + windowTokens, pieces.Count) - 1;
            int start = pieces[first].Start;
            int end = pieces[last].End;
            chunks.Add(new TextChunk(chunks.Count, start, end, text[start..end]));
            if (last == pieces.Count - 1)
            {
                break;
            }
        }
        return chunks;
    }
}
