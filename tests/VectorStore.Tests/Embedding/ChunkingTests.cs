using VectorStoreDb.Embedding;
using VectorStoreDb.Embedding.Onnx;

namespace VectorStoreDb.Tests.Embedding;

public class ChunkingTests
{
    private static BertTextTokenizer Tokenizer() => BertTextTokenizer.FromFolder(TestModels.Folder(TestModels.MiniLmTokenizer));

    private static IReadOnlyList<TextChunk> ChunkWith(BertTextTokenizer tokenizer, string text, int window, int overlap)
    {
        var pieces = new List<TokenSpan>();
        tokenizer.Tokenize(text, pieces);
        return TextChunker.Chunk(pieces, text, window, overlap);
    }

    [ModelFact(TestModels.MiniLmTokenizer, "vocab.txt")]
    public void Short_text_is_one_chunk_covering_it()
    {
        var chunks = ChunkWith(Tokenizer(), "A short text.", 126, 16);
        var chunk = Assert.Single(chunks);
        Assert.Equal(new TextChunk(0, 0, 13, "A short text."), chunk);
    }

    [ModelFact(TestModels.MiniLmTokenizer, "vocab.txt")]
    public void Long_text_splits_into_overlapping_windows_with_exact_offsets()
    {
        var tokenizer = Tokenizer();
        // Word i is "wordN" (several pieces) so windows end inside and between words; accents test offset mapping.
        string text = string.Join(" ", Enumerable.Range(0, 120).Select(i => i % 7 == 0 ? $"Café{i}, naïve." : $"token{i}"));
        var pieces = new List<TokenSpan>();
        tokenizer.Tokenize(text, pieces);
        const int window = 30, overlap = 8;
        var chunks = ChunkWith(tokenizer, text, window, overlap);

        Assert.True(chunks.Count > 3);
        int step = window - overlap;
        for (int c = 0; c < chunks.Count; c++)
        {
            var chunk = chunks[c];
            Assert.Equal(c, chunk.Number);
            Assert.Equal(text[chunk.Start..chunk.End], chunk.Text);
            // Each chunk starts at the first character of its first piece and ends at the end of its last piece.
            Assert.Equal(pieces[c * step].Start, chunk.Start);
            int last = Math.Min(c * step + window, pieces.Count) - 1;
            Assert.Equal(pieces[last].End, chunk.End);
            // Re-tokenizing the chunk's text gives back about its window (a window starting inside a word
            // re-tokenizes that word's tail as a fresh word, which can take a piece more or less).
            var again = new List<TokenSpan>();
            tokenizer.Tokenize(chunk.Text, again);
            int size = last - c * step + 1;
            Assert.InRange(again.Count, size - 2, size + 2);
        }
        Assert.Equal(0, chunks[0].Start);
        Assert.Equal(text.Length, chunks[^1].End);
        // Consecutive windows overlap.
        for (int c = 1; c < chunks.Count; c++)
        {
            Assert.True(chunks[c].Start < chunks[c - 1].End);
        }
    }

    [ModelFact(TestModels.MiniLmTokenizer, "vocab.txt")]
    public void Overlap_must_be_smaller_than_the_window()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ChunkWith(Tokenizer(), "text", 10, 10));
    }

    [ModelFact(TestModels.Small)]
    public void Encoder_chunks_with_its_max_tokens()
    {
        var encoder = TestModels.Encoder(TestModels.Small);
        string text = string.Join(' ', Enumerable.Repeat("compression", 400));
        var chunks = encoder.Chunk(text, overlapTokens: 16);
        // 400 pieces, window 126, step 110: windows at 0, 110, 220, 330.
        Assert.Equal(4, chunks.Count);
        Assert.All(chunks, c => Assert.True(encoder.CountAllTokens(c.Text) <= encoder.MaxTokens));
    }
}
