using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace VectorStoreDb.Embedding.Onnx;

/// <summary>
/// A built-in model (see <see cref="BuiltInEncoders"/>) that reads its ONNX graph from its package assembly's
/// resource stream when first needed — or at start-up when preloaded — and then runs as an ordinary
/// <see cref="OnnxTextEncoder"/>. Name, dimension and token limit are known without loading, so a registry can list
/// the model and a collection can be created on it before the graph is read.
/// </summary>
public sealed class BuiltInEncoder : ITextEncoder, ITextChunker, ITokenCounter, IDisposable
{
    private readonly BuiltInEncoderModel _model;
    private readonly string _assemblyPath;
    private readonly Lazy<BertTextTokenizer> _tokenizer;
    private readonly Lazy<OnnxTextEncoder> _encoder;
    private int _disposed;

    internal BuiltInEncoder(BuiltInEncoderModel model, string assemblyPath, EncoderOptions options, ILogger logger)
    {
        _model = model;
        _assemblyPath = assemblyPath;
        Settings = model.Settings with { MaxTokens = options.MaxTokens ?? model.Settings.MaxTokens };
        _tokenizer = new(() =>
        {
            using var reader = new StreamReader(new MemoryStream(BuiltInEncoders.ReadResource(assemblyPath, model.VocabularyResource)));
            var lines = new List<string>(32_000);
            // ReadLine drops the packaged vocab.txt's CRLF endings, which would otherwise end up inside every token.
            while (reader.ReadLine() is { } line)
            {
                lines.Add(line);
            }
            return BertTextTokenizer.FromVocabulary(lines, Source);
        });
        _encoder = new(() =>
        {
            long started = Stopwatch.GetTimestamp();
            var tokenizer = _tokenizer.Value;
            var bytes = BuiltInEncoders.ReadResource(assemblyPath, model.ModelResource);
            var loaded = OnnxEncoderModel.FromBytes(model.Name, Source, bytes, tokenizer, model.Settings, options, logger);
            var encoder = OnnxTextEncoder.Start(loaded, options, logger);
            if (encoder.Dimension != model.Dimension)
            {
                encoder.Dispose();
                throw new EncoderLoadException(Source, $"Built-in encoder '{model.Name}' produced {encoder.Dimension}-dimensional vectors, expected {model.Dimension}.");
            }
            logger.LogInformation("Loaded built-in encoder {Encoder} from {Source} ({Megabytes} MB) in {Milliseconds} ms: dimension {Dimension}, max tokens {MaxTokens}, {Provider}",
                model.Name, Source, bytes.Length / (1 << 20), (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds, encoder.Dimension, encoder.MaxTokens,
                encoder.ExecutionProvider);
            return encoder;
        });
    }

    /// <inheritdoc />
    public string Name => _model.Name;

    /// <inheritdoc />
    public int Dimension => _model.Dimension;

    /// <inheritdoc />
    public int MaxTokens => Settings.MaxTokens;

    /// <inheritdoc />
    public bool Normalized => Settings.Normalize;

    /// <summary>Pooling, prefixes and limits of the model.</summary>
    public EncoderModelSettings Settings { get; }

    /// <summary>Where the graph comes from: <c>resource:{assembly file}/{resource}</c>.</summary>
    public string Source => $"resource:{_assemblyPath}/{_model.ModelResource}";

    /// <summary>True once the graph has been read and test-run.</summary>
    public bool IsLoaded => _encoder.IsValueCreated;

    /// <summary>The tokenizer, read from the vocabulary resource on first use.</summary>
    public BertTextTokenizer Tokenizer => _tokenizer.Value;

    /// <summary>The running encoder, loading (and test-running) the graph on first use.</summary>
    /// <exception cref="EncoderLoadException">The resource is missing or the graph does not load or run.</exception>
    public OnnxTextEncoder Load()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _encoder.Value;
    }

    /// <inheritdoc />
    public Task<float[][]> EmbedAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
        Load().EmbedAsync(texts, cancellationToken);

    /// <inheritdoc />
    public Task<float[][]> EmbedAsync(IReadOnlyList<string> texts, EmbeddingInputType inputType, CancellationToken cancellationToken = default) =>
        Load().EmbedAsync(texts, inputType, cancellationToken);

    /// <inheritdoc />
    public int CountTokens(string text) => Math.Min(Tokenizer.CountTokens(text) + 2, MaxTokens);

    /// <inheritdoc />
    public int WindowTokens => MaxTokens - 2;

    /// <inheritdoc />
    public IReadOnlyList<TextChunk> Chunk(string text, int overlapTokens = 32, int? windowTokens = null) =>
        Tokenizer.Chunk(text, windowTokens ?? WindowTokens, overlapTokens);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0 && _encoder.IsValueCreated)
        {
            _encoder.Value.Dispose();
        }
    }
}
