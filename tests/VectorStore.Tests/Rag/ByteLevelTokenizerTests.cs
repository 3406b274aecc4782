using System.Text.Json;
using VectorStoreDb.Rag;

namespace VectorStoreDb.Tests.Rag;

/// <summary>The byte-level BPE path (vocab.json + merges.txt, GPT-2/Qwen/SmolLM style) on a small hand-made vocabulary.</summary>
public sealed class ByteLevelTokenizerTests
{
    private static TestData.TempFolder MakeFolder()
    {
        var folder = new TestData.TempFolder();
        // GPT-2's byte alphabet: printable bytes stand for themselves, the other 68 get U+0100 onwards in byte order.
        var vocab = new Dictionary<string, int>();
        int shifted = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= 33 and <= 126 or >= 161 and <= 172 or >= 174 and <= 255;
            vocab[((char)(printable ? b : 256 + shifted++)).ToString()] = b;
        }
        vocab["he"] = 256;
        vocab["ll"] = 257;
        vocab["\u0120he"] = 258; // "Ġhe": " he"
        File.WriteAllText(Path.Combine(folder.Path, "vocab.json"), JsonSerializer.Serialize(vocab));
        File.WriteAllText(Path.Combine(folder.Path, "merges.txt"), "#version: 0.2\nh e\nl l\n\u0120 he\n");
        File.WriteAllText(Path.Combine(folder.Path, "tokenizer_config.json"), """
            {"add_bos_token": false, "eos_token": "<|im_end|>",
             "chat_template": "{% for message in messages %}<|im_start|>{{ message.role }}\n{{ message.content }}<|im_end|>\n{% endfor %}",
             "added_tokens_decoder": {"300": {"content": "<|im_start|>", "special": true}, "301": {"content": "<|im_end|>", "special": true}}}
            """);
        return folder;
    }

    [Fact]
    public void Byte_level_bpe_round_trips_and_maps_chat_markers_to_single_ids()
    {
        using var folder = MakeFolder();
        var config = DecoderConfig.Load(folder.Path);
        Assert.Contains(301, config.StopTokenIds);
        var tokenizer = DecoderTokenizer.Load(folder.Path, config);
        Assert.Equal("bpe", tokenizer.Kind);

        var ids = tokenizer.Encode("<|im_start|>user\nhello he said, héllo 🙂<|im_end|>");
        Assert.Equal(300, ids[0]);
        Assert.Equal(301, ids[^1]);
        Assert.Contains(256, ids);
        Assert.Contains(257, ids);
        Assert.Contains(258, ids);
        // Special tokens decode to nothing; everything else back to the exact text, multi-byte characters included.
        Assert.Equal("user\nhello he said, héllo 🙂", tokenizer.Decode(ids));

        var detokenizer = new StreamingDetokenizer(tokenizer);
        var deltas = tokenizer.Encode("é🙂").Select(detokenizer.Append).ToList();
        Assert.Equal(6, deltas.Count);
        Assert.Equal(["", "é", "", "", "", "🙂"], deltas);

        var builder = new PromptBuilder(tokenizer, config);
        Assert.Equal(PromptTemplate.ChatMl, builder.Template);
        var (_, promptIds) = builder.Render("Sys", [], "hello", []);
        Assert.Equal(300, promptIds[0]);
    }
}
