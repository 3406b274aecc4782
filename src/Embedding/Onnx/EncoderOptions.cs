namespace VectorStoreDb.Embedding.Onnx;

/// <summary>
/// One configured encoder, bound from <c>VectorStore:Encoders:{name}</c>. Only <see cref="Path"/> is required; the
/// rest default from the model folder (<c>sentence_bert_config.json</c>, <c>config.json</c>) or to values that suit
/// a CPU server.
/// </summary>
public sealed class EncoderOptions
{
    /// <summary>Encoder kind; only <c>onnx</c> is loaded from a folder.</summary>
    public string Kind { get; set; } = "onnx";

    /// <summary>Model folder holding <c>model.onnx</c> and the tokenizer files.</summary>
    public string? Path { get; set; }

    /// <summary>Longest input in tokens including <c>[CLS]</c>/<c>[SEP]</c>; defaults to the folder's <c>max_seq_length</c>.</summary>
    public int? MaxTokens { get; set; }

    /// <summary>Most texts in one inference run.</summary>
    public int MaxBatchSize { get; set; } = 32;

    /// <summary>Most padded tokens (batch size × longest sequence) in one inference run; bounds memory per run.</summary>
    public int MaxBatchTokens { get; set; } = 8192;

    /// <summary>
    /// What one inference run costs beyond its tokens, in padded-token equivalents: the batcher splits a group of
    /// texts into runs where padding to the longest wastes more than this. Small on CPU (runs are cheap, padding is
    /// not); raise it for a GPU, where each run has a larger fixed cost.
    /// </summary>
    public int RunOverheadTokens { get; set; } = 64;

    /// <summary>How long the batcher waits for concurrent requests to join a batch (it never waits when no other caller is in flight).</summary>
    public int MaxWaitMs { get; set; } = 2;

    /// <summary>ONNX Runtime intra-op threads; defaults to the number of cores.</summary>
    public int? IntraOpThreads { get; set; }

    /// <summary>Overrides <c>normalize</c> of <c>config.json</c> (L2-normalise the pooled vector).</summary>
    public bool? Normalize { get; set; }

    /// <summary>Overrides <c>pooling</c> of <c>config.json</c>: <c>mean</c> (default) or <c>cls</c>.</summary>
    public string? Pooling { get; set; }

    /// <summary>
    /// Put before every query text (<c>/query</c>, hybrid, RAG retrieval, <c>input_type: query</c>); defaults to the
    /// <c>query</c> prompt of the folder's <c>config_sentence_transformers.json</c>, or nothing.
    /// </summary>
    public string? QueryPrefix { get; set; }

    /// <summary>Put before every document text (ingest, <c>input_type: document</c>); defaults to the folder's <c>document</c> prompt, or nothing.</summary>
    public string? DocumentPrefix { get; set; }

    /// <summary>When built with <c>-p:OnnxRuntimeGpu=true</c>: try CUDA (falling back to CPU). Ignored by the CPU build.</summary>
    public bool UseGpu { get; set; } = true;

    /// <summary>CUDA device for <see cref="UseGpu"/>.</summary>
    public int GpuDeviceId { get; set; }
}
