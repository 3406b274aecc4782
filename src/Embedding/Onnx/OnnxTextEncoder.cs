using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;

namespace VectorStoreDb.Embedding.Onnx;

/// <summary>
/// A Transformer sentence encoder exported to ONNX (BERT family: all-MiniLM-L6-v2, bge-small, arctic-embed, ...), run
/// with ONNX Runtime. Three parts, each owning its state: <see cref="OnnxEncoderModel"/> (session, tokenizer and
/// settings), <see cref="EncoderBatcher"/> (concurrent calls coalesced into padding-aware micro-batches) and
/// <see cref="EncoderInference"/> (one padded run, pooled and normalised). This class tokenizes and ties them up.
/// </summary>
public sealed class OnnxTextEncoder : ITextEncoder, ITextChunker, ITokenCounter, IDisposable
{
    private readonly OnnxEncoderModel _model;
    private readonly EncoderInference _inference;
    private readonly EncoderBatcher _batcher;

    private OnnxTextEncoder(OnnxEncoderModel model, EncoderInference inference, EncoderOptions options, ILogger logger)
    {
        _model = model;
        _inference = inference;
        _batcher = new EncoderBatcher(model.Name, options, logger, inference.Infer);
    }

    /// <inheritdoc />
    public string Name => _model.Name;

    /// <inheritdoc />
    public int Dimension => _inference.Dimension;

    /// <inheritdoc />
    public int MaxTokens => _model.Settings.MaxTokens;

    /// <inheritdoc />
    public bool Normalized => _model.Settings.Normalize;

    /// <summary>Where the model came from: its <c>model.onnx</c>, or <c>resource:…</c> for a built-in model.</summary>
    public string Source => _model.Source;

    /// <summary>The resolved model settings (pooling, prefixes, ...).</summary>
    public EncoderModelSettings Settings => _model.Settings;

    /// <summary>The tokenizer of the model.</summary>
    public BertTextTokenizer Tokenizer => _model.Tokenizer;

    /// <summary>Where inference runs: <c>CPU</c> or <c>CUDA</c>.</summary>
    public string ExecutionProvider => _model.ExecutionProvider;

    /// <summary>Inference runs so far (one per micro-batch).</summary>
    public long InferenceRuns => _inference.Runs;

    /// <summary>The ONNX Runtime session (benchmarks compare against raw runs on it).</summary>
    internal InferenceSession Session => _model.Session;

    /// <summary>Calls of <see cref="EmbedAsync(IReadOnlyList{string}, CancellationToken)"/> not yet completed.</summary>
    internal int PendingCalls => _batcher.PendingCalls;

    /// <summary>Holds the run gate as a running batch would, until disposed (see <see cref="EncoderBatcher.HoldRuns"/>).</summary>
    internal IDisposable HoldRunsForTest() => _batcher.HoldRuns();

    /// <summary>
    /// Loads an encoder from a model folder. Every file is checked and the model is run once, so a broken folder
    /// fails here (with the file named) rather than at the first request.
    /// </summary>
    /// <exception cref="EncoderLoadException">A file is missing or invalid.</exception>
    public static OnnxTextEncoder Load(string name, string folder, EncoderOptions? options = null, ILogger? logger = null)
    {
        options ??= new EncoderOptions();
        logger ??= NullLogger.Instance;
        var model = OnnxEncoderModel.Load(name, folder, options, logger);
        var encoder = Start(model, options, logger);
        logger.LogInformation("Loaded encoder {Encoder} from {Folder}: dimension {Dimension}, max tokens {MaxTokens}, {Provider}, {Threads} threads",
            name, folder, encoder.Dimension, encoder.MaxTokens, model.ExecutionProvider, options.IntraOpThreads ?? Environment.ProcessorCount);
        return encoder;
    }

    /// <summary>Starts an encoder over a loaded model (which it then owns), after one test run of the model.</summary>
    /// <exception cref="EncoderLoadException">The test run failed.</exception>
    public static OnnxTextEncoder Start(OnnxEncoderModel model, EncoderOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        try
        {
            return new OnnxTextEncoder(model, new EncoderInference(model), options, logger);
        }
        catch (Exception ex)
        {
            model.Dispose();
            throw new EncoderLoadException(model.Source, $"Model file '{model.Source}' for encoder '{model.Name}' failed a test run: {ex.Message}", ex);
        }
    }

    /// <inheritdoc />
    public async Task<float[][]> EmbedAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ObjectDisposedException.ThrowIf(_batcher.IsDisposed, this);
        if (texts.Count == 0)
        {
            return [];
        }
        var tokens = new int[texts.Count][];
        for (int i = 0; i < texts.Count; i++)
        {
            tokens[i] = Tokenizer.Encode(texts[i] ?? throw new ArgumentException("A text is null.", nameof(texts)), MaxTokens);
        }
        return await _batcher.EmbedAsync(tokens, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<float[][]> EmbedAsync(IReadOnlyList<string> texts, EmbeddingInputType inputType, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        string prefix = inputType == EmbeddingInputType.Query ? _model.Settings.QueryPrefix : _model.Settings.DocumentPrefix;
        if (prefix.Length == 0)
        {
            return EmbedAsync(texts, cancellationToken);
        }
        var prefixed = new string[texts.Count];
        for (int i = 0; i < prefixed.Length; i++)
        {
            prefixed[i] = prefix + (texts[i] ?? throw new ArgumentException("A text is null.", nameof(texts)));
        }
        return EmbedAsync(prefixed, cancellationToken);
    }

    /// <summary>Runs one padded batch and pools it into one vector per sequence, bypassing the batcher.</summary>
    internal float[][] Infer(int[][] sequences, int maxLength) => _inference.Infer(sequences, maxLength);

    /// <summary>Number of tokens a text has with <c>[CLS]</c>/<c>[SEP]</c>, before truncation.</summary>
    public int CountAllTokens(string text) => Tokenizer.CountTokens(text) + 2;

    /// <inheritdoc />
    public int CountTokens(string text) => Math.Min(CountAllTokens(text), MaxTokens);

    /// <inheritdoc />
    public int WindowTokens => MaxTokens - 2;

    /// <inheritdoc />
    public IReadOnlyList<TextChunk> Chunk(string text, int overlapTokens = 32, int? windowTokens = null) =>
        Tokenizer.Chunk(text, windowTokens ?? WindowTokens, overlapTokens);

    public void Dispose()
    {
        if (_batcher.IsDisposed)
        {
            return;
        }
        // The batcher waits for a running batch before the session goes away.
        _batcher.Dispose();
        _model.Dispose();
    }
}
