using System.ComponentModel.DataAnnotations;

namespace VectorStoreDb.Rag;

/// <summary>
/// RAG settings, bound from the <c>VectorStore</c> configuration section: generators live under
/// <c>VectorStore:Generators:{name}</c> (for example <c>VectorStore:Generators:stories:Path</c>) and chat
/// defaults under <c>VectorStore:Rag</c>.
/// </summary>
public sealed class RagOptions
{
    /// <summary>Local ONNX decoders by name. The built-in <c>extractive</c> generator is always available.</summary>
    public Dictionary<string, GeneratorOptions> Generators { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public RagDefaults Rag { get; set; } = new();
}

/// <summary>Defaults for chat requests that leave a setting out.</summary>
public sealed class RagDefaults
{
    /// <summary>Generator used when a request names none: this, else the only/first configured decoder, else <c>extractive</c>.</summary>
    public string? DefaultGenerator { get; set; }

    /// <summary>The instruction placed before the context passages.</summary>
    public string SystemPrompt { get; set; } =
        "You are a helpful assistant. Answer the question using only the numbered context passages, and cite them like [1]. If the context does not contain the answer, say that you don't know.";

    /// <summary>Passages retrieved when a request gives no <c>k</c>.</summary>
    [Range(1, 100)]
    public int K { get; set; } = 4;

    /// <summary>Largest <c>k</c> a chat request may ask for.</summary>
    [Range(1, 1000)]
    public int MaxK { get; set; } = 32;

    /// <summary>Tokens generated when a request gives no <c>max_tokens</c>.</summary>
    [Range(1, 100_000)]
    public int MaxTokens { get; set; } = 256;

    /// <summary>Sentences the extractive generator returns.</summary>
    [Range(1, 50)]
    public int ExtractiveSentences { get; set; } = 3;
}

/// <summary>One generator (<c>VectorStore:Generators:{name}</c>).</summary>
public sealed class GeneratorOptions
{
    /// <summary>Model folder: <c>model.onnx</c> (or <c>onnx/model.onnx</c>), <c>config.json</c>, and <c>tokenizer.model</c> / <c>*.model</c> or <c>vocab.json</c> + <c>merges.txt</c>.</summary>
    public string? Path { get; set; }

    /// <summary>ONNX file inside the folder when it is not <c>model.onnx</c> (e.g. <c>onnx/model_quantized.onnx</c>).</summary>
    public string? ModelFile { get; set; }

    /// <summary>Generations running at once; more wait in the queue.</summary>
    [Range(1, 1024)]
    public int MaxConcurrent { get; set; } = 1;

    /// <summary>Generations waiting for a slot; beyond it requests are refused as busy (HTTP 429 / RESOURCE_EXHAUSTED).</summary>
    [Range(0, 100_000)]
    public int QueueLimit { get; set; } = 16;

    /// <summary>ONNX Runtime intra-op threads per generation (0 = ONNX Runtime's default of one per core).</summary>
    [Range(0, 256)]
    public int IntraOpThreads { get; set; } = 1;

    /// <summary><c>auto</c> (ChatML when the folder's chat_template uses it, else plain), <c>chatml</c> or <c>plain</c>.</summary>
    public PromptTemplate Template { get; set; } = PromptTemplate.Auto;
}
