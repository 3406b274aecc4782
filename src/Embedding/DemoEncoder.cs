using System.Text;

namespace VectorStoreDb.Embedding;

/// <summary>
/// The built-in encoder that needs no download: lower-cased word pieces are hashed into a fixed table of
/// seeded random vectors, each position goes through one linear layer + ReLU, positions are mean-pooled
/// and the result L2-normalised. Texts that share words share table rows, so they score higher than
/// unrelated texts; it knows nothing about meaning beyond that. Bit-for-bit deterministic on every machine:
/// the weights come from a fixed-seed SplitMix64 generator, the token hash is FNV-1a over UTF-8, and the
/// arithmetic is scalar in a fixed order (SIMD width would change float rounding between CPUs).
/// </summary>
public sealed class DemoEncoder : ITextEncoder, ITextChunker, ITokenCounter
{
    public const string DefaultName = "demo";
    public const int DefaultDimension = 256;
    private const int TableRows = 8192;
    private const int TokenDimension = 64;
    private const int PieceLength = 5;
    private const ulong Seed = 0x5EC7_0125_70DE_0001;

    private readonly float[] _table;   // TableRows x TokenDimension
    private readonly float[] _weights; // Dimension x TokenDimension, row-major: one dot product per output
    private readonly float[] _bias;

    public DemoEncoder(string name = DefaultName, int dimension = DefaultDimension, int maxTokens = 512)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 1);
        Name = name;
        Dimension = dimension;
        MaxTokens = maxTokens;
        var random = new SplitMix64(Seed);
        _table = new float[TableRows * TokenDimension];
        for (int i = 0; i < _table.Length; i++)
        {
            _table[i] = random.NextGaussian();
        }
        // He-style scaling keeps ReLU outputs in a useful range for any dimension.
        float scale = MathF.Sqrt(2f / TokenDimension);
        _weights = new float[dimension * TokenDimension];
        for (int i = 0; i < _weights.Length; i++)
        {
            _weights[i] = random.NextGaussian() * scale;
        }
        _bias = new float[dimension];
    }

    public string Name { get; }

    public int Dimension { get; }

    public int MaxTokens { get; }

    public bool Normalized => true;

    public Task<float[][]> EmbedAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var result = new float[texts.Count][];
        for (int i = 0; i < texts.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            result[i] = Embed(texts[i]);
        }
        return Task.FromResult(result);
    }

    /// <inheritdoc />
    public int CountTokens(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int count = 0;
        foreach (var _ in Tokenize(text))
        {
            if (++count == MaxTokens)
            {
                break;
            }
        }
        return count;
    }

    /// <summary>Embeds one text synchronously.</summary>
    public float[] Embed(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var output = new float[Dimension];
        int tokens = 0;
        foreach (var piece in Tokenize(text))
        {
            if (tokens == MaxTokens)
            {
                break;
            }
            var row = _table.AsSpan((int)(piece % TableRows) * TokenDimension, TokenDimension);
            for (int o = 0; o < Dimension; o++)
            {
                var weights = _weights.AsSpan(o * TokenDimension, TokenDimension);
                float h = _bias[o];
                for (int j = 0; j < TokenDimension; j++)
                {
                    h += weights[j] * row[j];
                }
                output[o] += h > 0f ? h : 0f;
            }
            tokens++;
        }
        if (tokens > 0)
        {
            // Mean pooling then L2 normalisation; the 1/tokens factor cancels in the normalisation but is kept
            // so the pipeline reads as specified.
            double sumSquares = 0;
            for (int o = 0; o < Dimension; o++)
            {
                output[o] /= tokens;
                sumSquares += (double)output[o] * output[o];
            }
            if (sumSquares > 0)
            {
                float inv = (float)(1.0 / Math.Sqrt(sumSquares));
                for (int o = 0; o < Dimension; o++)
                {
                    output[o] *= inv;
                }
            }
        }
        return output;
    }

    /// <summary>
    /// Lower-cased words, each as a whole-word piece, and words longer than five characters also as their
    /// five-letter prefix, so "databases" and "database" share a piece. Yields FNV-1a hashes.
    /// </summary>
    internal static IEnumerable<ulong> Tokenize(string text) => TokenizeWithSpans(text).Select(t => t.Hash);

    /// <summary>The pieces of <see cref="Tokenize"/> with the character range of the word each came from.</summary>
    internal static IEnumerable<(ulong Hash, int Start, int End)> TokenizeWithSpans(string text)
    {
        var word = new StringBuilder();
        int start = 0;
        for (int i = 0; i <= text.Length; i++)
        {
            char c = i < text.Length ? text[i] : ' ';
            if (char.IsLetterOrDigit(c))
            {
                if (word.Length == 0)
                {
                    start = i;
                }
                word.Append(char.ToLowerInvariant(c));
                continue;
            }
            if (word.Length == 0)
            {
                continue;
            }
            string w = word.ToString();
            word.Clear();
            yield return (Fnv1a(w, 0), start, i);
            if (w.Length > PieceLength)
            {
                yield return (Fnv1a(w.AsSpan(0, PieceLength), 1), start, i);
            }
        }
    }

    /// <inheritdoc />
    public int WindowTokens => MaxTokens;

    /// <inheritdoc />
    public IReadOnlyList<TextChunk> Chunk(string text, int overlapTokens = 32, int? windowTokens = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = TokenizeWithSpans(text).Select(t => new TokenSpan(0, t.Start, t.End)).ToList();
        return TextChunker.Chunk(tokens, text, windowTokens ?? MaxTokens, overlapTokens);
    }

    private static ulong Fnv1a(ReadOnlySpan<char> text, byte kind)
    {
        ulong hash = 14695981039346656037UL;
        hash = (hash ^ kind) * 1099511628211UL;
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in text.EnumerateRunes())
        {
            int n = rune.EncodeToUtf8(utf8);
            for (int b = 0; b < n; b++)
            {
                hash = (hash ^ utf8[b]) * 1099511628211UL;
            }
        }
        return hash;
    }

    /// <summary>A small, fully specified generator so the weights are the same on every runtime and machine.</summary>
    private struct SplitMix64(ulong state)
    {
        private ulong _state = state;

        public ulong Next()
        {
            ulong z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        /// <summary>
        /// An approximately standard normal sample as the Irwin–Hall sum of 12 uniforms minus 6: only additions,
        /// so every runtime and CPU produces the same bits (Math.Log/Sin may differ in the last place across libms).
        /// </summary>
        public float NextGaussian()
        {
            double sum = 0;
            for (int i = 0; i < 12; i++)
            {
                sum += (Next() >> 11) * (1.0 / (1UL << 53));
            }
            return (float)(sum - 6.0);
        }
    }
}
