using System.Text.Json;
using VectorStoreDb.Engine;

namespace VectorStoreDb.Rag;

/// <summary>
/// What a decoder folder says about its model: shape of the KV cache, context window, special token ids and
/// chat template. Read from <c>config.json</c> (llama2.c names such as <c>n_layers</c> or Hugging Face names such
/// as <c>num_hidden_layers</c>), <c>generation_config.json</c> and <c>tokenizer_config.json</c>; what is missing
/// is inferred from the ONNX session's input metadata by <see cref="OnnxDecoder"/>.
/// </summary>
public sealed record DecoderConfig
{
    public int? NumLayers { get; init; }

    public int? NumKvHeads { get; init; }

    public int? HeadDim { get; init; }

    public int? VocabSize { get; init; }

    /// <summary>Longest sequence (prompt + generated) the model was trained for.</summary>
    public int MaxContext { get; init; } = 2048;

    public int? BosTokenId { get; init; }

    /// <summary>Ids that end generation (EOS and, for llama2.c models, BOS which separates stories).</summary>
    public IReadOnlyList<int> StopTokenIds { get; init; } = [];

    /// <summary>Whether prompts start with BOS (SentencePiece Llama models do; most byte-level BPE chat models do not).</summary>
    public bool? AddBos { get; init; }

    /// <summary>The Jinja chat template from <c>tokenizer_config.json</c>, when the model has one.</summary>
    public string? ChatTemplate { get; init; }

    /// <summary>Added/special tokens by text (for example <c>&lt;|im_start|&gt;</c>) that must map to one id each.</summary>
    public IReadOnlyDictionary<string, int> SpecialTokens { get; init; } = new Dictionary<string, int>();

    public string? BosToken { get; init; }

    public string? EosToken { get; init; }

    /// <summary>Reads the JSON files of a model folder; absent files simply leave members unset.</summary>
    public static DecoderConfig Load(string folder)
    {
        var config = new DecoderConfig();
        string path = Path.Combine(folder, "config.json");
        var stops = new List<int>();
        int? bos = null;
        if (File.Exists(path))
        {
            using var doc = Parse(path);
            var root = doc.RootElement;
            int? layers = Int(root, "n_layers") ?? Int(root, "num_hidden_layers") ?? Int(root, "n_layer");
            int? heads = Int(root, "n_heads") ?? Int(root, "num_attention_heads") ?? Int(root, "n_head");
            int? kvHeads = Int(root, "n_kv_heads") ?? Int(root, "num_key_value_heads") ?? heads;
            int? hidden = Int(root, "dim") ?? Int(root, "hidden_size") ?? Int(root, "n_embd");
            int? headDim = Int(root, "head_dim") ?? (hidden is { } h && heads is { } n && n > 0 ? h / n : null);
            bos = Int(root, "bos_token_id");
            AddIds(root, "eos_token_id", stops);
            AddIds(root, "stop_token_ids", stops);
            config = config with
            {
                NumLayers = layers,
                NumKvHeads = kvHeads,
                HeadDim = headDim,
                VocabSize = Int(root, "vocab_size"),
                MaxContext = Int(root, "max_seq_len") ?? Int(root, "max_position_embeddings") ?? Int(root, "n_positions") ?? config.MaxContext,
            };
        }
        string generation = Path.Combine(folder, "generation_config.json");
        if (File.Exists(generation))
        {
            using var doc = Parse(generation);
            bos ??= Int(doc.RootElement, "bos_token_id");
            AddIds(doc.RootElement, "eos_token_id", stops);
        }
        string tokenizerConfig = Path.Combine(folder, "tokenizer_config.json");
        var special = new Dictionary<string, int>(StringComparer.Ordinal);
        string? template = null, bosToken = null, eosToken = null;
        bool? addBos = null;
        if (File.Exists(tokenizerConfig))
        {
            using var doc = Parse(tokenizerConfig);
            var root = doc.RootElement;
            if (root.TryGetProperty("chat_template", out var t) && t.ValueKind == JsonValueKind.String)
            {
                template = t.GetString();
            }
            if (root.TryGetProperty("add_bos_token", out var ab) && ab.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                addBos = ab.GetBoolean();
            }
            bosToken = TokenText(root, "bos_token");
            eosToken = TokenText(root, "eos_token");
            if (root.TryGetProperty("added_tokens_decoder", out var added) && added.ValueKind == JsonValueKind.Object)
            {
                foreach (var entry in added.EnumerateObject())
                {
                    if (int.TryParse(entry.Name, out int id) && entry.Value.TryGetProperty("content", out var content) && content.GetString() is { Length: > 0 } text)
                    {
                        special[text] = id;
                    }
                }
            }
        }
        // tokenizer.json (HF fast tokenizers) lists the same added tokens; read it too so a folder without
        // tokenizer_config.json still maps <|im_start|> and friends to single ids.
        string tokenizerJson = Path.Combine(folder, "tokenizer.json");
        if (File.Exists(tokenizerJson))
        {
            using var doc = Parse(tokenizerJson);
            if (doc.RootElement.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
            {
                foreach (var token in added.EnumerateArray())
                {
                    if (Int(token, "id") is { } id && token.TryGetProperty("content", out var content) && content.GetString() is { Length: > 0 } text)
                    {
                        special.TryAdd(text, id);
                    }
                }
            }
        }
        if (eosToken is not null && special.TryGetValue(eosToken, out int eosId) && !stops.Contains(eosId))
        {
            stops.Add(eosId);
        }
        if (bos is null && bosToken is not null && special.TryGetValue(bosToken, out int bosId))
        {
            bos = bosId;
        }
        return config with
        {
            BosTokenId = bos,
            StopTokenIds = stops,
            ChatTemplate = template,
            AddBos = addBos,
            SpecialTokens = special,
            BosToken = bosToken,
            EosToken = eosToken,
        };
    }

    private static JsonDocument Parse(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new VectorStoreException(ErrorCode.Unavailable, $"Model file '{path}' is not valid JSON: {ex.Message}");
        }
    }

    private static int? Int(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int i) ? i : null;

    private static void AddIds(JsonElement element, string name, List<int> ids)
    {
        if (!element.TryGetProperty(name, out var value))
        {
            return;
        }
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int one))
        {
            if (!ids.Contains(one))
            {
                ids.Add(one);
            }
        }
        else if (value.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in value.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.Number && item.TryGetInt32(out int id) && !ids.Contains(id))
                {
                    ids.Add(id);
                }
            }
        }
    }

    private static string? TokenText(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value))
        {
            return null;
        }
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object when value.TryGetProperty("content", out var c) => c.GetString(),
            _ => null,
        };
    }
}
