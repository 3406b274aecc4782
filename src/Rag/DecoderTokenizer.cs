using System.Text;
using System.Text.Json;
using Microsoft.ML.Tokenizers;
using VectorStoreDb.Engine;

namespace VectorStoreDb.Rag;

/// <summary>
/// The decoder's tokenizer, loaded from the model folder through Microsoft.ML.Tokenizers: SentencePiece
/// (<c>tokenizer.model</c> or any <c>*.model</c>, e.g. llama2.c's <c>tok512.model</c>) or byte-level BPE
/// (<c>vocab.json</c> + <c>merges.txt</c>, GPT-2/Qwen/SmolLM style). Special tokens such as
/// <c>&lt;|im_start|&gt;</c> are matched in the text first so a chat template's markers become one id each.
/// Each id's raw bytes are precomputed so streaming detokenisation is a table lookup plus a UTF-8 decoder.
/// </summary>
public sealed partial class DecoderTokenizer
{
    private readonly Tokenizer _tokenizer;
    private readonly byte[][] _bytes;
    private readonly (string Text, int Id)[] _special;

    private DecoderTokenizer(Tokenizer tokenizer, byte[][] bytes, IReadOnlyDictionary<string, int> special, string kind, bool dummyPrefix)
    {
        _tokenizer = tokenizer;
        _bytes = bytes;
        // Longest first, so "<|im_start|>" wins over a shorter marker sharing its prefix.
        _special = [.. special.OrderByDescending(s => s.Key.Length).Select(s => (s.Key, s.Value))];
        Kind = kind;
        DummyPrefix = dummyPrefix;
    }

    /// <summary><c>sentencepiece</c> or <c>bpe</c>.</summary>
    public string Kind { get; }

    /// <summary>SentencePiece adds a space before the first word; decoding drops it again at the very start.</summary>
    public bool DummyPrefix { get; }

    /// <summary>One more than the largest id the tokenizer knows.</summary>
    public int VocabularySize => _bytes.Length;

    /// <summary>The underlying Microsoft.ML.Tokenizers instance.</summary>
    public Tokenizer Inner => _tokenizer;

    /// <summary>Loads the tokenizer files of <paramref name="folder"/>; a folder without them is a clear error naming what is expected.</summary>
    public static DecoderTokenizer Load(string folder, DecoderConfig config)
    {
        string? model = File.Exists(Path.Combine(folder, "tokenizer.model"))
            ? Path.Combine(folder, "tokenizer.model")
            : Directory.EnumerateFiles(folder, "*.model").Order(StringComparer.Ordinal).FirstOrDefault();
        string vocab = Path.Combine(folder, "vocab.json"), merges = Path.Combine(folder, "merges.txt");
        if (model is not null)
        {
            using var stream = File.OpenRead(model);
            var sp = LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false);
            var bytes = SentencePieceBytes(sp, config.SpecialTokens);
            var special = new Dictionary<string, int>(config.SpecialTokens, StringComparer.Ordinal);
            return new DecoderTokenizer(sp, bytes, special, "sentencepiece", sp.AddDummyPrefix);
        }
        if (File.Exists(vocab) || File.Exists(merges))
        {
            if (!File.Exists(vocab))
            {
                throw new VectorStoreException(ErrorCode.Unavailable, $"Decoder folder '{folder}' has merges.txt but is missing vocab.json.");
            }
            if (!File.Exists(merges))
            {
                throw new VectorStoreException(ErrorCode.Unavailable, $"Decoder folder '{folder}' has vocab.json but is missing merges.txt.");
            }
            // BpeTokenizer rather than CodeGenTokenizer: the latter insists on <|endoftext|> being in vocab.json,
            // which Qwen-style exports keep in added_tokens instead.
            var bpe = BpeTokenizer.Create(new BpeOptions(vocab, merges) { ByteLevel = true, PreTokenizer = new RegexPreTokenizer(Gpt2Split(), null) });
            var bytes = ByteLevelBytes(vocab, config.SpecialTokens);
            return new DecoderTokenizer(bpe, bytes, config.SpecialTokens, "bpe", dummyPrefix: false);
        }
        throw new VectorStoreException(ErrorCode.Unavailable,
            $"Decoder folder '{folder}' has no tokenizer: expected 'tokenizer.model' (or another *.model SentencePiece file) or 'vocab.json' + 'merges.txt'.");
    }

    /// <summary>Encodes text to ids; special-token markers become their single id, the text between them is tokenised normally.</summary>
    public List<int> Encode(string text, bool addBos = false, int bosId = -1)
    {
        var ids = new List<int>(text.Length / 3 + 4);
        if (addBos && bosId >= 0)
        {
            ids.Add(bosId);
        }
        Encode(text.AsSpan(), ids);
        return ids;
    }

    /// <summary>Number of tokens <paramref name="text"/> encodes to (no BOS).</summary>
    public int Count(string text)
    {
        var ids = new List<int>();
        Encode(text.AsSpan(), ids);
        return ids.Count;
    }

    private void Encode(ReadOnlySpan<char> text, List<int> ids)
    {
        int start = 0;
        if (_special.Length > 0)
        {
            for (int i = 0; i < text.Length; i++)
            {
                if (text[i] != '<' && text[i] != '[')
                {
                    continue;
                }
                foreach (var (marker, id) in _special)
                {
                    if (text[i..].StartsWith(marker, StringComparison.Ordinal))
                    {
                        EncodePlain(text[start..i], ids);
                        ids.Add(id);
                        start = i + marker.Length;
                        i = start - 1;
                        break;
                    }
                }
            }
        }
        EncodePlain(text[start..], ids);
    }

    private void EncodePlain(ReadOnlySpan<char> text, List<int> ids)
    {
        if (text.IsEmpty)
        {
            return;
        }
        IReadOnlyList<int> encoded = _tokenizer is SentencePieceTokenizer sp
            ? sp.EncodeToIds(text, addBeginningOfSentence: false, addEndOfSentence: false)
            : _tokenizer.EncodeToIds(text);
        ids.AddRange(encoded);
    }

    /// <summary>The raw bytes token <paramref name="id"/> stands for (empty for control tokens).</summary>
    public ReadOnlySpan<byte> TokenBytes(int id) => (uint)id < (uint)_bytes.Length ? _bytes[id] : [];

    /// <summary>Decodes a whole id sequence (control tokens are dropped).</summary>
    public string Decode(IEnumerable<int> ids)
    {
        var detokenizer = new StreamingDetokenizer(this, atStart: true);
        var sb = new StringBuilder();
        foreach (int id in ids)
        {
            sb.Append(detokenizer.Append(id));
        }
        sb.Append(detokenizer.Flush());
        return sb.ToString();
    }

    private static byte[][] SentencePieceBytes(SentencePieceTokenizer sp, IReadOnlyDictionary<string, int> special)
    {
        int size = sp.Vocabulary.Values.Max() + 1;
        var bytes = new byte[size][];
        Array.Fill(bytes, []);
        var control = new HashSet<int> { sp.BeginningOfSentenceId, sp.EndOfSentenceId, sp.UnknownId };
        foreach (int id in special.Values)
        {
            control.Add(id);
        }
        foreach (var (piece, id) in sp.Vocabulary)
        {
            if (control.Contains(id))
            {
                continue;
            }
            // Byte-fallback pieces "<0x0A>" stand for one raw byte; a multi-byte character arrives as several of them.
            if (piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>' &&
                byte.TryParse(piece.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out byte b))
            {
                bytes[id] = [b];
            }
            else
            {
                bytes[id] = Encoding.UTF8.GetBytes(piece.Replace('\u2581', ' '));
            }
        }
        return bytes;
    }

    private static byte[][] ByteLevelBytes(string vocabPath, IReadOnlyDictionary<string, int> special)
    {
        var unicodeToByte = ByteLevelAlphabet();
        using var doc = JsonDocument.Parse(File.ReadAllBytes(vocabPath));
        int size = 0;
        foreach (var entry in doc.RootElement.EnumerateObject())
        {
            size = Math.Max(size, entry.Value.GetInt32() + 1);
        }
        foreach (int id in special.Values)
        {
            size = Math.Max(size, id + 1);
        }
        var bytes = new byte[size][];
        Array.Fill(bytes, []);
        var specialIds = special.Values.ToHashSet();
        foreach (var entry in doc.RootElement.EnumerateObject())
        {
            int id = entry.Value.GetInt32();
            if (specialIds.Contains(id))
            {
                continue;
            }
            string token = entry.Name;
            var buffer = new byte[token.Length];
            int n = 0;
            bool ok = true;
            foreach (char c in token)
            {
                if (!unicodeToByte.TryGetValue(c, out byte value))
                {
                    ok = false;
                    break;
                }
                buffer[n++] = value;
            }
            bytes[id] = ok ? buffer[..n] : Encoding.UTF8.GetBytes(token);
        }
        return bytes;
    }

    /// <summary>GPT-2's pre-tokenizer split (contractions, letters, digits, punctuation runs, whitespace), used by byte-level BPE models.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+")]
    private static partial System.Text.RegularExpressions.Regex Gpt2Split();

    /// <summary>The inverse of GPT-2's byte-to-unicode table: printable bytes map to themselves, the rest to U+0100 onwards.</summary>
    private static Dictionary<char, byte> ByteLevelAlphabet()
    {
        var map = new Dictionary<char, byte>(256);
        int next = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char)b : (char)(256 + next++);
            map[c] = (byte)b;
        }
        return map;
    }
}

/// <summary>
/// Turns generated ids into text deltas as they arrive. Byte-fallback tokens and multi-byte UTF-8 characters
/// split across tokens are held back until complete (a <see cref="Decoder"/> keeps the partial bytes).
/// </summary>
public sealed class StreamingDetokenizer
{
    private readonly DecoderTokenizer _tokenizer;
    private readonly Decoder _decoder = new UTF8Encoding(false, false).GetDecoder();
    private char[] _chars = new char[64];
    private bool _atStart;

    /// <param name="tokenizer">The tokenizer whose ids are appended.</param>
    /// <param name="atStart">True when the ids begin a text, so SentencePiece's dummy-prefix space is dropped.</param>
    public StreamingDetokenizer(DecoderTokenizer tokenizer, bool atStart = false)
    {
        _tokenizer = tokenizer;
        _atStart = atStart && tokenizer.DummyPrefix;
    }

    /// <summary>The text completed by <paramref name="id"/> (possibly empty while a character is incomplete).</summary>
    public string Append(int id)
    {
        var bytes = _tokenizer.TokenBytes(id);
        if (bytes.IsEmpty)
        {
            return "";
        }
        int needed = _decoder.GetCharCount(bytes, flush: false);
        if (needed > _chars.Length)
        {
            _chars = new char[Math.Max(needed, _chars.Length * 2)];
        }
        int written = _decoder.GetChars(bytes, _chars, flush: false);
        var span = _chars.AsSpan(0, written);
        if (_atStart && written > 0)
        {
            _atStart = false;
            if (span[0] == ' ')
            {
                span = span[1..];
            }
        }
        return span.IsEmpty ? "" : new string(span);
    }

    /// <summary>Whatever is left at the end (an incomplete character becomes U+FFFD).</summary>
    public string Flush()
    {
        int written = _decoder.GetChars([], _chars, flush: true);
        return written == 0 ? "" : new string(_chars, 0, written);
    }
}
