using System.Text;
using VectorStoreDb.Engine;

namespace VectorStoreDb.Rag;

/// <summary>One turn of a conversation: <c>system</c>, <c>user</c> or <c>assistant</c>.</summary>
public sealed record RagMessage(string Role, string Content);

/// <summary>A prompt ready for the decoder, and how much of the retrieved context made it in.</summary>
public sealed record BuiltPrompt(string Text, IReadOnlyList<int> Ids, int PassagesUsed, bool PassageTruncated);

/// <summary>Prompt layouts a decoder folder can use.</summary>
public enum PromptTemplate
{
    /// <summary>ChatML when the folder's tokenizer_config.json chat_template uses &lt;|im_start|&gt;, else plain.</summary>
    Auto,
    /// <summary><c>&lt;|im_start|&gt;role\n…&lt;|im_end|&gt;</c> (Qwen, SmolLM, many instruction-tuned models).</summary>
    ChatMl,
    /// <summary>Plain text: system prompt, "Context:", the turns as "User:"/"Assistant:", ending "Assistant:".</summary>
    Plain,
}

/// <summary>
/// Builds the prompt: system prompt, numbered context passages [1]…[n], the conversation, the question, laid
/// out with the model's chat template. Keeps prompt + max_tokens within the context window by dropping the
/// lowest-ranked passages first, then shortening the last remaining passage, then the oldest turns.
/// </summary>
public sealed class PromptBuilder
{
    private readonly DecoderTokenizer _tokenizer;
    private readonly DecoderConfig _config;

    public PromptBuilder(DecoderTokenizer tokenizer, DecoderConfig config, PromptTemplate template = PromptTemplate.Auto)
    {
        _tokenizer = tokenizer;
        _config = config;
        Template = template != PromptTemplate.Auto
            ? template
            : config.ChatTemplate is { } t && t.Contains("<|im_start|>", StringComparison.Ordinal) ? PromptTemplate.ChatMl : PromptTemplate.Plain;
    }

    /// <summary>The layout in use (never <see cref="PromptTemplate.Auto"/>).</summary>
    public PromptTemplate Template { get; }

    private bool AddBos => _config.AddBos ?? (_tokenizer.Kind == "sentencepiece");

    /// <summary>Builds a prompt of at most <paramref name="budget"/> tokens from passages given best first.</summary>
    public BuiltPrompt Build(string systemPrompt, IReadOnlyList<RagMessage> history, string question, IReadOnlyList<string> passages, int budget)
    {
        int used = passages.Count;
        var texts = passages.ToList();
        var turns = history.ToList();
        var (text, ids) = Render(systemPrompt, turns, question, texts);
        while (ids.Count > budget && used > 1)
        {
            used--;
            texts.RemoveAt(used);
            (text, ids) = Render(systemPrompt, turns, question, texts);
        }
        bool truncated = false;
        if (ids.Count > budget && used == 1)
        {
            // Binary search the longest prefix of the best passage that still fits.
            string full = texts[0];
            int lo = 0, hi = full.Length;
            while (lo < hi)
            {
                int mid = (lo + hi + 1) / 2;
                texts[0] = full[..mid] + "…";
                if (Render(systemPrompt, turns, question, texts).Ids.Count <= budget)
                {
                    lo = mid;
                }
                else
                {
                    hi = mid - 1;
                }
            }
            truncated = true;
            if (lo == 0)
            {
                texts.Clear();
                used = 0;
            }
            else
            {
                texts[0] = full[..lo] + "…";
            }
            (text, ids) = Render(systemPrompt, turns, question, texts);
        }
        while (ids.Count > budget && turns.Count > 0)
        {
            turns.RemoveAt(0);
            (text, ids) = Render(systemPrompt, turns, question, texts);
        }
        if (ids.Count > budget)
        {
            throw new VectorStoreException(ErrorCode.LimitExceeded,
                $"question: the prompt needs {ids.Count} tokens without any context, but only {budget} fit (the model's context window minus max_tokens); shorten the question or lower max_tokens.", "question");
        }
        return new BuiltPrompt(text, ids, used, truncated);
    }

    /// <summary>Lays the parts out with the template and tokenises the result.</summary>
    public (string Text, List<int> Ids) Render(string systemPrompt, IReadOnlyList<RagMessage> history, string question, IReadOnlyList<string> passages)
    {
        var context = new StringBuilder();
        for (int i = 0; i < passages.Count; i++)
        {
            context.Append('[').Append(i + 1).Append("] ").Append(passages[i].ReplaceLineEndings(" ")).Append('\n');
        }
        var sb = new StringBuilder();
        if (Template == PromptTemplate.ChatMl)
        {
            sb.Append("<|im_start|>system\n").Append(systemPrompt);
            if (passages.Count > 0)
            {
                sb.Append("\n\nContext:\n").Append(context);
            }
            sb.Append("<|im_end|>\n");
            foreach (var turn in history)
            {
                sb.Append("<|im_start|>").Append(turn.Role).Append('\n').Append(turn.Content).Append("<|im_end|>\n");
            }
            sb.Append("<|im_start|>user\n").Append(question).Append("<|im_end|>\n<|im_start|>assistant\n");
        }
        else
        {
            sb.Append(systemPrompt).Append("\n\n");
            if (passages.Count > 0)
            {
                sb.Append("Context:\n").Append(context).Append('\n');
            }
            foreach (var turn in history)
            {
                sb.Append(Label(turn.Role)).Append(": ").Append(turn.Content).Append('\n');
            }
            sb.Append("User: ").Append(question).Append("\nAssistant:");
        }
        string text = sb.ToString();
        return (text, _tokenizer.Encode(text, AddBos, _config.BosTokenId ?? -1));
    }

    private static string Label(string role) => role switch
    {
        "assistant" => "Assistant",
        "system" => "System",
        _ => "User",
    };
}
