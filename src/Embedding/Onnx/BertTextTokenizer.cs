using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace VectorStoreDb.Embedding.Onnx;

/// <summary>
/// BERT tokenization as the reference implementation does it: BasicTokenizer (text cleaning, CJK splitting,
/// lower-casing and accent stripping, splitting every punctuation character off as its own token, including
/// ASCII symbols such as <c>= + &lt; &gt; |</c> that Unicode does not class as punctuation) followed by WordPiece
/// from <c>Microsoft.ML.Tokenizers</c>. The library's own pre-tokenizer drops those ASCII symbols, so the basic
/// step is done here and only single words are handed to the library. Every token keeps the character range it
/// came from in the original text, which chunking uses to cut documents at token boundaries.
/// </summary>
public sealed class BertTextTokenizer
{
    private readonly WordPieceTokenizer _wordPiece;
    private readonly bool _lowerCase;
    private readonly bool _stripAccents;
    private readonly bool _splitCjk;

    private BertTextTokenizer(WordPieceTokenizer wordPiece, IReadOnlyDictionary<string, int> vocab, bool lowerCase, bool stripAccents, bool splitCjk,
        string cls, string sep, string pad, string unk)
    {
        _wordPiece = wordPiece;
        _lowerCase = lowerCase;
        _stripAccents = stripAccents;
        _splitCjk = splitCjk;
        ClsId = Lookup(vocab, cls);
        SepId = Lookup(vocab, sep);
        PadId = Lookup(vocab, pad);
        UnkId = Lookup(vocab, unk);
        VocabularySize = vocab.Count;
    }

    /// <summary>Id of the classification token put first (<c>[CLS]</c>).</summary>
    public int ClsId { get; }

    /// <summary>Id of the separator token put last (<c>[SEP]</c>).</summary>
    public int SepId { get; }

    /// <summary>Id used for padding (<c>[PAD]</c>).</summary>
    public int PadId { get; }

    /// <summary>Id of the unknown token (<c>[UNK]</c>).</summary>
    public int UnkId { get; }

    /// <summary>Number of entries in the vocabulary.</summary>
    public int VocabularySize { get; }

    /// <summary>
    /// Loads the tokenizer of a Hugging Face model folder: <c>vocab.txt</c> (or the WordPiece vocabulary inside
    /// <c>tokenizer.json</c>) and the casing/accent settings of <c>tokenizer_config.json</c> when present.
    /// </summary>
    /// <exception cref="EncoderLoadException">A file is missing or unreadable; the message names it.</exception>
    public static BertTextTokenizer FromFolder(string folder)
    {
        string configPath = Path.Combine(folder, "tokenizer_config.json");
        bool lowerCase = true;
        bool? stripAccents = null;
        bool splitCjk = true;
        string cls = "[CLS]", sep = "[SEP]", pad = "[PAD]", unk = "[UNK]";
        if (File.Exists(configPath))
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllBytes(configPath));
                var root = doc.RootElement;
                lowerCase = ReadBool(root, "do_lower_case") ?? true;
                stripAccents = ReadBool(root, "strip_accents");
                splitCjk = ReadBool(root, "tokenize_chinese_chars") ?? true;
                cls = ReadString(root, "cls_token") ?? cls;
                sep = ReadString(root, "sep_token") ?? sep;
                pad = ReadString(root, "pad_token") ?? pad;
                unk = ReadString(root, "unk_token") ?? unk;
            }
            catch (JsonException ex)
            {
                throw new EncoderLoadException(configPath, $"'{configPath}' is not valid JSON: {ex.Message}", ex);
            }
        }

        string vocabPath = Path.Combine(folder, "vocab.txt");
        string jsonPath = Path.Combine(folder, "tokenizer.json");
        List<string> tokens;
        if (File.Exists(vocabPath))
        {
            tokens = [.. File.ReadAllLines(vocabPath)];
        }
        else if (File.Exists(jsonPath))
        {
            tokens = ReadVocabFromTokenizerJson(jsonPath);
        }
        else
        {
            throw new EncoderLoadException(vocabPath, $"Tokenizer vocabulary not found: '{vocabPath}' (or '{jsonPath}') does not exist.");
        }
        return FromVocabulary(tokens, vocabPath, lowerCase, stripAccents, splitCjk, cls, sep, pad, unk);
    }

    /// <summary>
    /// Builds the tokenizer from vocabulary lines read elsewhere (a model packaged as an assembly resource), with
    /// the reference BERT defaults; <paramref name="source"/> names where the lines came from in error messages.
    /// </summary>
    /// <exception cref="EncoderLoadException">The vocabulary is empty or lacks a special token.</exception>
    public static BertTextTokenizer FromVocabulary(IReadOnlyList<string> vocabulary, string source, bool lowerCase = true, bool? stripAccents = null,
        bool splitCjk = true, string cls = "[CLS]", string sep = "[SEP]", string pad = "[PAD]", string unk = "[UNK]")
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        List<string> tokens = [.. vocabulary];
        // A trailing newline yields no extra token in the reference loader either.
        while (tokens.Count > 0 && tokens[^1].Length == 0)
        {
            tokens.RemoveAt(tokens.Count - 1);
        }
        if (tokens.Count == 0)
        {
            throw new EncoderLoadException(source, $"Tokenizer vocabulary '{source}' is empty.");
        }

        var vocab = new Dictionary<string, int>(tokens.Count, StringComparer.Ordinal);
        for (int i = 0; i < tokens.Count; i++)
        {
            vocab.TryAdd(tokens[i], i);
        }
        foreach (var special in new[] { cls, sep, pad, unk })
        {
            if (!vocab.ContainsKey(special))
            {
                throw new EncoderLoadException(source, $"Tokenizer vocabulary '{source}' has no '{special}' token.");
            }
        }

        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(string.Join('\n', tokens)));
        var wordPiece = WordPieceTokenizer.Create(stream, new WordPieceOptions
        {
            // Pre-tokenization and normalization are done by this class (reference BasicTokenizer rules).
            PreTokenizer = null,
            Normalizer = null,
            UnknownToken = unk,
            ContinuingSubwordPrefix = "##",
            MaxInputCharsPerWord = 100,
        });
        // Reference rule: strip_accents unset means "strip when lower-casing".
        return new BertTextTokenizer(wordPiece, vocab, lowerCase, stripAccents ?? lowerCase, splitCjk, cls, sep, pad, unk);
    }

    /// <summary>Encodes to ids with <c>[CLS]</c> first and <c>[SEP]</c> last, truncating word pieces to fit <paramref name="maxTokens"/>.</summary>
    public int[] Encode(string text, int maxTokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 2);
        var pieces = new List<TokenSpan>();
        Tokenize(text, pieces, maxTokens - 2);
        var ids = new int[pieces.Count + 2];
        ids[0] = ClsId;
        for (int i = 0; i < pieces.Count; i++)
        {
            ids[i + 1] = pieces[i].Id;
        }
        ids[^1] = SepId;
        return ids;
    }

    /// <summary>
    /// Appends the word pieces of <paramref name="text"/> (no special tokens) to <paramref name="output"/>, each with
    /// its character range in <paramref name="text"/>; stops after <paramref name="limit"/> pieces.
    /// </summary>
    public void Tokenize(string text, List<TokenSpan> output, int limit = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(output);
        int added = 0;
        var word = new StringBuilder();
        var starts = new List<int>();
        var ends = new List<int>();
        Span<char> buffer = stackalloc char[2];

        bool Flush()
        {
            if (word.Length == 0)
            {
                return true;
            }
            string w = word.ToString();
            var pieces = _wordPiece.EncodeToTokens(w, out _, considerPreTokenization: false, considerNormalization: false);
            foreach (var piece in pieces)
            {
                if (added == limit)
                {
                    break;
                }
                var (offset, length) = piece.Offset.GetOffsetAndLength(w.Length);
                int start = length == 0 ? starts[0] : starts[offset];
                int end = length == 0 ? ends[^1] : ends[offset + length - 1];
                output.Add(new TokenSpan(piece.Id, start, end));
                added++;
            }
            word.Clear();
            starts.Clear();
            ends.Clear();
            return added < limit;
        }

        for (int i = 0; i < text.Length && added < limit;)
        {
            var rune = Rune.GetRuneAt(text, i);
            int start = i;
            int end = i + rune.Utf16SequenceLength;
            i = end;
            int cp = rune.Value;
            if (cp == 0 || cp == 0xFFFD || IsControl(rune))
            {
                continue;
            }
            if (IsWhitespace(rune))
            {
                if (!Flush())
                {
                    break;
                }
                continue;
            }
            if (_splitCjk && IsCjk(cp))
            {
                if (!Flush())
                {
                    break;
                }
                Append(word, starts, ends, rune.ToString(), start, end);
                if (!Flush())
                {
                    break;
                }
                continue;
            }
            string normalized = Normalize(rune, buffer);
            // Punctuation is judged after normalisation, as the reference does (it lower-cases and strips first).
            foreach (var n in normalized.EnumerateRunes())
            {
                if (IsPunctuation(n))
                {
                    if (!Flush())
                    {
                        return;
                    }
                    Append(word, starts, ends, n.ToString(), start, end);
                    if (!Flush())
                    {
                        return;
                    }
                }
                else
                {
                    Append(word, starts, ends, n.ToString(), start, end);
                }
            }
        }
        Flush();
    }

    /// <summary>Counts the word pieces of a text (without special tokens).</summary>
    public int CountTokens(string text)
    {
        var pieces = new List<TokenSpan>();
        Tokenize(text, pieces);
        return pieces.Count;
    }

    /// <summary>
    /// Overlapping windows of <paramref name="text"/>'s word pieces with their character offsets: how every encoder
    /// built on this tokenizer chunks a long document.
    /// </summary>
    public IReadOnlyList<TextChunk> Chunk(string text, int windowTokens, int overlapTokens)
    {
        ArgumentNullException.ThrowIfNull(text);
        var pieces = new List<TokenSpan>();
        Tokenize(text, pieces);
        return TextChunker.Chunk(pieces, text, windowTokens, overlapTokens);
    }

    private static void Append(StringBuilder word, List<int> starts, List<int> ends, string chars, int start, int end)
    {
        foreach (char c in chars)
        {
            word.Append(c);
            starts.Add(start);
            ends.Add(end);
        }
    }

    private string Normalize(Rune rune, Span<char> buffer)
    {
        if (!_lowerCase && !_stripAccents)
        {
            return rune.ToString();
        }
        var r = _lowerCase ? Rune.ToLowerInvariant(rune) : rune;
        if (!_stripAccents || r.Value < 0x80)
        {
            return new string(buffer[..r.EncodeToUtf16(buffer)]);
        }
        var sb = new StringBuilder(4);
        AccentStripping.Append(r, sb);
        return sb.ToString();
    }

    private static bool IsWhitespace(Rune r) =>
        r.Value is ' ' or '\t' or '\n' or '\r' || Rune.GetUnicodeCategory(r) == UnicodeCategory.SpaceSeparator;

    private static bool IsControl(Rune r)
    {
        if (r.Value is '\t' or '\n' or '\r')
        {
            return false;
        }
        var category = Rune.GetUnicodeCategory(r);
        return category is UnicodeCategory.Control or UnicodeCategory.Format;
    }

    /// <summary>The reference rule: all non-letter/number ASCII symbols, plus every Unicode P* category.</summary>
    private static bool IsPunctuation(Rune r)
    {
        int cp = r.Value;
        if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126))
        {
            return true;
        }
        return Rune.GetUnicodeCategory(r) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }

    private static bool IsCjk(int cp) =>
        (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF)
        || (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF)
        || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);

    private static int Lookup(IReadOnlyDictionary<string, int> vocab, string token) => vocab[token];

    private static bool? ReadBool(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;

    private static string? ReadString(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var v))
        {
            return null;
        }
        if (v.ValueKind == JsonValueKind.String)
        {
            return v.GetString();
        }
        // Newer exports write special tokens as objects: {"content": "[CLS]", ...}.
        return v.ValueKind == JsonValueKind.Object && v.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
    }

    private static List<string> ReadVocabFromTokenizerJson(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            if (!doc.RootElement.TryGetProperty("model", out var model) || !model.TryGetProperty("vocab", out var vocab) || vocab.ValueKind != JsonValueKind.Object)
            {
                throw new EncoderLoadException(path, $"'{path}' has no WordPiece vocabulary (model.vocab); only BERT WordPiece tokenizers are supported.");
            }
            var pairs = new List<(string Token, int Id)>();
            foreach (var p in vocab.EnumerateObject())
            {
                pairs.Add((p.Name, p.Value.GetInt32()));
            }
            var tokens = new string[pairs.Count];
            foreach (var (token, id) in pairs)
            {
                if (id < 0 || id >= tokens.Length)
                {
                    throw new EncoderLoadException(path, $"'{path}' has a vocabulary id {id} outside 0..{tokens.Length - 1}.");
                }
                tokens[id] = token;
            }
            return [.. tokens.Select(t => t ?? string.Empty)];
        }
        catch (JsonException ex)
        {
            throw new EncoderLoadException(path, $"'{path}' is not valid JSON: {ex.Message}", ex);
        }
    }
}
