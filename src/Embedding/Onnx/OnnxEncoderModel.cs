using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace VectorStoreDb.Embedding.Onnx;

/// <summary>
/// A loaded sentence-encoder model: the ONNX Runtime session, its tokenizer, which session inputs and output to use,
/// and the settings resolved from the model folder and <see cref="EncoderOptions"/> (max tokens, pooling,
/// normalisation, query/document prefixes). Loading only; running is <see cref="EncoderInference"/>'s job.
/// </summary>
public sealed class OnnxEncoderModel : IDisposable
{
    private static readonly string[] PooledOutputNames = ["sentence_embedding", "sentence_embeddings", "embeddings"];

    private OnnxEncoderModel(string name, string source, InferenceSession session, BertTextTokenizer tokenizer, EncoderModelSettings settings, string executionProvider)
    {
        Name = name;
        Source = source;
        Session = session;
        Tokenizer = tokenizer;
        Settings = settings;
        ExecutionProvider = executionProvider;

        InputNames = [.. session.InputMetadata.Keys];
        IdsInput = MaskInput = TypesInput = -1;
        for (int i = 0; i < InputNames.Length; i++)
        {
            switch (InputNames[i])
            {
                case "input_ids": IdsInput = i; break;
                case "attention_mask": MaskInput = i; break;
                case "token_type_ids": TypesInput = i; break;
                default:
                    throw new EncoderLoadException(source,
                        $"'{source}' has an input '{InputNames[i]}'; expected input_ids, attention_mask and optionally token_type_ids.");
            }
        }
        if (IdsInput < 0)
        {
            throw new EncoderLoadException(source, $"'{source}' has no 'input_ids' input.");
        }

        // A model that pools itself (sentence-transformers exports with a "sentence_embedding" output) is used as is;
        // otherwise the token states are pooled by the caller.
        var outputs = session.OutputMetadata;
        string? pooled = PooledOutputNames.FirstOrDefault(outputs.ContainsKey);
        if (pooled is not null && outputs[pooled].Dimensions.Length == 2)
        {
            OutputName = pooled;
            OutputIsPooled = true;
        }
        else if (outputs.ContainsKey("last_hidden_state"))
        {
            OutputName = "last_hidden_state";
        }
        else
        {
            OutputName = outputs.FirstOrDefault(o => o.Value.Dimensions.Length == 3).Key
                ?? throw new EncoderLoadException(source, $"'{source}' has no 'last_hidden_state' (or other [batch, sequence, hidden]) output.");
        }
        DeclaredDimension = outputs[OutputName].Dimensions[^1];
    }

    /// <summary>The encoder name the model was loaded for.</summary>
    public string Name { get; }

    /// <summary>Where the graph came from: the model file, or <c>resource:{assembly}/{name}</c> for a built-in model.</summary>
    public string Source { get; }

    public InferenceSession Session { get; }

    public BertTextTokenizer Tokenizer { get; }

    public EncoderModelSettings Settings { get; }

    /// <summary>Where inference runs: <c>CPU</c> or <c>CUDA</c>.</summary>
    public string ExecutionProvider { get; }

    /// <summary>Session input names in the order the session reports them; the three indexes below point into it.</summary>
    internal string[] InputNames { get; }

    internal int IdsInput { get; }

    internal int MaskInput { get; }

    internal int TypesInput { get; }

    internal string OutputName { get; }

    /// <summary>True when the graph outputs one pooled vector per text rather than token states.</summary>
    internal bool OutputIsPooled { get; }

    /// <summary>Hidden size as the graph declares it; 0 or less when dynamic (then probed by a run).</summary>
    internal int DeclaredDimension { get; }

    /// <summary>
    /// Loads a model folder (<c>model.onnx</c> or <c>onnx/model.onnx</c>, the tokenizer files, and the optional
    /// <c>config.json</c>, <c>sentence_bert_config.json</c>, <c>tokenizer_config.json</c> and
    /// <c>config_sentence_transformers.json</c>). Options override what the folder says.
    /// </summary>
    /// <exception cref="EncoderLoadException">A file is missing or invalid; the message names it.</exception>
    public static OnnxEncoderModel Load(string name, string folder, EncoderOptions options, ILogger logger)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        if (!Directory.Exists(folder))
        {
            throw new EncoderLoadException(folder, $"Model folder '{folder}' for encoder '{name}' does not exist.");
        }
        ValidateOptions(name, options);
        string modelPath = Path.Combine(folder, "model.onnx");
        if (!File.Exists(modelPath))
        {
            // Hugging Face ONNX exports often keep the graph in an onnx/ sub-folder.
            string nested = Path.Combine(folder, "onnx", "model.onnx");
            if (!File.Exists(nested))
            {
                throw new EncoderLoadException(modelPath, $"Model file '{modelPath}' for encoder '{name}' does not exist.");
            }
            modelPath = nested;
        }

        var tokenizer = BertTextTokenizer.FromFolder(folder);
        var config = ReadJson(Path.Combine(folder, "config.json"));
        var sbert = ReadJson(Path.Combine(folder, "sentence_bert_config.json"));
        var tokenizerConfig = ReadJson(Path.Combine(folder, "tokenizer_config.json"));
        var prompts = ReadJson(Path.Combine(folder, "config_sentence_transformers.json")) is { ValueKind: JsonValueKind.Object } st
            && st.TryGetProperty("prompts", out var p) && p.ValueKind == JsonValueKind.Object ? p : (JsonElement?)null;

        int? maxPositions = ReadInt(config, "max_position_embeddings");
        int? modelMax = ReadInt(tokenizerConfig, "model_max_length") is int m && m <= 100_000 ? m : null;
        int maxTokens = options.MaxTokens
            ?? ReadInt(sbert, "max_seq_length") ?? ReadInt(config, "max_seq_length") ?? modelMax ?? maxPositions ?? 512;
        if (options.MaxTokens is null && maxPositions is int positions)
        {
            maxTokens = Math.Min(maxTokens, positions);
        }
        if (maxTokens < 2 || (maxPositions is int mp && maxTokens > mp))
        {
            throw new EncoderLoadException($"VectorStore:Encoders:{name}:MaxTokens",
                $"Encoder '{name}': MaxTokens {maxTokens} must be between 2 and the model's max_position_embeddings ({maxPositions?.ToString(CultureInfo.InvariantCulture) ?? "unknown"}).");
        }
        // sentence-transformers layouts normalise unless the folder says otherwise.
        bool normalize = options.Normalize ?? ReadBool(config, "normalize") ?? true;
        string pooling = options.Pooling ?? ReadString(config, "pooling") ?? "mean";
        var settings = new EncoderModelSettings(maxTokens, normalize, ParsePooling(name, pooling),
            options.QueryPrefix ?? ReadString(prompts, "query") ?? string.Empty,
            options.DocumentPrefix ?? ReadString(prompts, "document") ?? ReadString(prompts, "passage") ?? string.Empty);
        return Create(name, modelPath, tokenizer, settings, options, logger, sessionOptions => new InferenceSession(modelPath, sessionOptions));
    }

    /// <summary>
    /// Loads a model whose graph is already in memory (a model packaged as an assembly resource). The settings come
    /// from the caller, with <see cref="EncoderOptions"/> overriding them as for a folder.
    /// </summary>
    /// <exception cref="EncoderLoadException">The graph cannot be loaded; the message names <paramref name="source"/>.</exception>
    public static OnnxEncoderModel FromBytes(string name, string source, byte[] model, BertTextTokenizer tokenizer, EncoderModelSettings defaults,
        EncoderOptions options, ILogger logger)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(defaults);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        ValidateOptions(name, options);
        int maxTokens = options.MaxTokens ?? defaults.MaxTokens;
        if (maxTokens < 2 || maxTokens > defaults.MaxTokens)
        {
            throw new EncoderLoadException($"VectorStore:Encoders:{name}:MaxTokens",
                $"Encoder '{name}': MaxTokens {maxTokens} must be between 2 and the model's {defaults.MaxTokens}.");
        }
        var settings = defaults with
        {
            MaxTokens = maxTokens,
            Normalize = options.Normalize ?? defaults.Normalize,
            Pooling = options.Pooling is { } pooling ? ParsePooling(name, pooling) : defaults.Pooling,
            QueryPrefix = options.QueryPrefix ?? defaults.QueryPrefix,
            DocumentPrefix = options.DocumentPrefix ?? defaults.DocumentPrefix,
        };
        return Create(name, source, tokenizer, settings, options, logger, sessionOptions => new InferenceSession(model, sessionOptions));
    }

    public void Dispose() => Session.Dispose();

    private static OnnxEncoderModel Create(string name, string source, BertTextTokenizer tokenizer, EncoderModelSettings settings, EncoderOptions options,
        ILogger logger, Func<SessionOptions, InferenceSession> open)
    {
        var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = options.IntraOpThreads ?? Environment.ProcessorCount,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        string provider = "CPU";
#if ONNXRUNTIME_GPU
        if (options.UseGpu)
        {
            try
            {
                sessionOptions.AppendExecutionProvider_CUDA(options.GpuDeviceId);
                provider = "CUDA";
            }
            catch (Exception ex) when (ex is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
            {
                logger.LogWarning("Encoder {Encoder}: CUDA is not available ({Reason}); running on CPU.", name, ex.Message);
            }
        }
#endif
        InferenceSession session;
        try
        {
            session = open(sessionOptions);
        }
        catch (OnnxRuntimeException ex)
        {
            sessionOptions.Dispose();
            throw new EncoderLoadException(source, $"Model file '{source}' for encoder '{name}' could not be loaded: {ex.Message}", ex);
        }
        try
        {
            return new OnnxEncoderModel(name, source, session, tokenizer, settings, provider);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static void ValidateOptions(string name, EncoderOptions options)
    {
        if (options.MaxBatchSize < 1 || options.MaxBatchTokens < 1 || options.MaxWaitMs < 0 || options.IntraOpThreads is < 1 || options.RunOverheadTokens < 0)
        {
            throw new EncoderLoadException($"VectorStore:Encoders:{name}",
                $"Encoder '{name}': MaxBatchSize and MaxBatchTokens must be at least 1, MaxWaitMs and RunOverheadTokens at least 0 and IntraOpThreads at least 1.");
        }
    }

    private static EncoderPooling ParsePooling(string name, string pooling) => pooling switch
    {
        "mean" => EncoderPooling.Mean,
        "cls" => EncoderPooling.Cls,
        _ => throw new EncoderLoadException($"VectorStore:Encoders:{name}:Pooling", $"Encoder '{name}': pooling '{pooling}' is not supported (mean or cls)."),
    };

    private static JsonElement? ReadJson(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            return doc.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new EncoderLoadException(path, $"'{path}' is not valid JSON: {ex.Message}", ex);
        }
    }

    private static int? ReadInt(JsonElement? root, string name) =>
        root is { ValueKind: JsonValueKind.Object } r && r.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : null;

    private static bool? ReadBool(JsonElement? root, string name) =>
        root is { ValueKind: JsonValueKind.Object } r && r.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;

    private static string? ReadString(JsonElement? root, string name) =>
        root is { ValueKind: JsonValueKind.Object } r && r.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
