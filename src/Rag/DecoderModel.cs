using System.Diagnostics;
using System.Runtime.CompilerServices;
using VectorStoreDb.Engine;

namespace VectorStoreDb.Rag;

/// <summary>What one generation did, filled in while it runs.</summary>
public sealed class GenerationStats
{
    public int PromptTokens { get; set; }

    public int CompletionTokens { get; set; }

    /// <summary><c>stop</c> (EOS or a stop string), <c>length</c> (max_tokens or the context window) or <c>cancelled</c>.</summary>
    public string FinishReason { get; set; } = "stop";

    /// <summary>From the call to the first token being chosen (prefill included).</summary>
    public double TimeToFirstTokenMs { get; set; }

    /// <summary>Prefill plus decoding.</summary>
    public double GenerationMs { get; set; }

    /// <summary>Generated tokens per second after the first (decode speed).</summary>
    public double TokensPerSecond { get; set; }
}

/// <summary>
/// A local decoder loaded from a model folder: <c>model.onnx</c> (or <c>onnx/model.onnx</c>), <c>config.json</c>
/// and a tokenizer. Generates text token by token with the KV cache; the session is shared, so several
/// generations may run at once (the caller bounds how many).
/// </summary>
public sealed class DecoderModel : IDisposable
{
    private DecoderModel(string folder, DecoderConfig config, DecoderTokenizer tokenizer, OnnxDecoder decoder, PromptTemplate template)
    {
        Folder = folder;
        Config = config;
        Tokenizer = tokenizer;
        Decoder = decoder;
        Prompts = new PromptBuilder(tokenizer, config, template);
        var stops = new HashSet<int>(config.StopTokenIds);
        if (stops.Count == 0 && config.BosTokenId is null)
        {
            stops.Add(2);
        }
        StopTokenIds = [.. stops];
    }

    public string Folder { get; }

    public DecoderConfig Config { get; }

    public DecoderTokenizer Tokenizer { get; }

    public OnnxDecoder Decoder { get; }

    public PromptBuilder Prompts { get; }

    /// <summary>Ids that end generation (from config.json / generation_config.json / tokenizer_config.json).</summary>
    public IReadOnlyList<int> StopTokenIds { get; }

    public int ContextWindow => Decoder.MaxContext;

    /// <summary>
    /// Loads a model folder. A missing folder or file is a clear error naming it, so a misconfigured server
    /// fails at start-up rather than on the first chat request.
    /// </summary>
    public static DecoderModel Load(string folder, int intraOpThreads = 1, PromptTemplate template = PromptTemplate.Auto, string? modelFile = null)
    {
        if (!Directory.Exists(folder))
        {
            throw new VectorStoreException(ErrorCode.Unavailable, $"Decoder folder '{folder}' does not exist.");
        }
        string model = modelFile is not null ? Path.Combine(folder, modelFile)
            : File.Exists(Path.Combine(folder, "model.onnx")) ? Path.Combine(folder, "model.onnx")
            : File.Exists(Path.Combine(folder, "onnx", "model.onnx")) ? Path.Combine(folder, "onnx", "model.onnx")
            : throw new VectorStoreException(ErrorCode.Unavailable, $"Decoder folder '{folder}' is missing 'model.onnx' (also looked for 'onnx/model.onnx').");
        if (!File.Exists(model))
        {
            throw new VectorStoreException(ErrorCode.Unavailable, $"Decoder folder '{folder}' is missing '{Path.GetRelativePath(folder, model)}'.");
        }
        if (!File.Exists(Path.Combine(folder, "config.json")))
        {
            throw new VectorStoreException(ErrorCode.Unavailable, $"Decoder folder '{folder}' is missing 'config.json' (context window, special token ids).");
        }
        var config = DecoderConfig.Load(folder);
        var tokenizer = DecoderTokenizer.Load(folder, config);
        var decoder = OnnxDecoder.Open(model, config, intraOpThreads);
        return new DecoderModel(folder, config, tokenizer, decoder, template);
    }

    /// <summary>Encodes a raw prompt (BOS first when the model expects it).</summary>
    public List<int> EncodePrompt(string text) =>
        Tokenizer.Encode(text, Config.AddBos ?? (Tokenizer.Kind == "sentencepiece"), Config.BosTokenId ?? -1);

    /// <summary>
    /// Generates from <paramref name="promptIds"/>: prefill once, then one token per step on the KV cache.
    /// Yields text deltas as soon as they form complete characters; cancelling stops at once (a prefill in
    /// progress is terminated). <paramref name="stats"/> is filled as it goes.
    /// </summary>
    public async IAsyncEnumerable<string> GenerateAsync(IReadOnlyList<int> promptIds, SamplingOptions options, GenerationStats? stats = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(promptIds);
        options.Validate();
        stats ??= new GenerationStats();
        stats.PromptTokens = promptIds.Count;
        if (promptIds.Count == 0)
        {
            throw new VectorStoreException(ErrorCode.InvalidArgument, "prompt: must have at least one token.", "prompt");
        }
        if (promptIds.Count >= ContextWindow)
        {
            throw new VectorStoreException(ErrorCode.LimitExceeded, $"prompt: {promptIds.Count} tokens; the model's context window is {ContextWindow}.", "prompt");
        }
        // Generation is CPU work; leave the caller's thread before the first (possibly long) prefill.
        await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
        var started = Stopwatch.GetTimestamp();
        using var state = Decoder.CreateState();
        using var registration = cancellationToken.Register(static s => ((DecoderState)s!).Terminate(), state);
        var sampler = new Sampler(Decoder.VocabSize, options);
        var detokenizer = new StreamingDetokenizer(Tokenizer);
        var stopStrings = new StopStringMatcher(options.Stop);
        int[] prompt = promptIds as int[] ?? [.. promptIds];
        if (options.RepetitionPenalty != 1f)
        {
            sampler.Observe(prompt);
        }
        var stopIds = StopTokenIds.Concat(options.StopTokenIds).ToHashSet();
        int limit = Math.Min(options.MaxTokens, ContextWindow - prompt.Length);
        long firstTokenAt = 0;
        stats.FinishReason = "length";
        bool stoppedByString = false;
        int token = sampler.Next(state.Prefill(prompt));
        for (int generated = 0; ;)
        {
            if (generated == 0)
            {
                firstTokenAt = Stopwatch.GetTimestamp();
                stats.TimeToFirstTokenMs = Stopwatch.GetElapsedTime(started, firstTokenAt).TotalMilliseconds;
            }
            if (!options.IgnoreEos && stopIds.Contains(token))
            {
                stats.FinishReason = "stop";
                break;
            }
            generated++;
            stats.CompletionTokens = generated;
            sampler.Observe(token);
            var (emit, stopped) = stopStrings.Add(detokenizer.Append(token));
            if (emit.Length > 0)
            {
                yield return emit;
            }
            if (stopped)
            {
                stats.FinishReason = "stop";
                stoppedByString = true;
                break;
            }
            if (generated >= limit)
            {
                break;
            }
            cancellationToken.ThrowIfCancellationRequested();
            token = sampler.Next(state.Step(token));
        }
        if (!stoppedByString)
        {
            var (tail, hit) = stopStrings.Add(detokenizer.Flush());
            string rest = hit ? tail : tail + stopStrings.Flush();
            if (rest.Length > 0 && !rest.All(c => c == '\uFFFD'))
            {
                yield return rest;
            }
        }
        var finished = Stopwatch.GetTimestamp();
        stats.GenerationMs = Stopwatch.GetElapsedTime(started, finished).TotalMilliseconds;
        double decodeSeconds = Stopwatch.GetElapsedTime(firstTokenAt, finished).TotalSeconds;
        stats.TokensPerSecond = stats.CompletionTokens > 1 && decodeSeconds > 0 ? (stats.CompletionTokens - 1) / decodeSeconds : 0;
    }

    public void Dispose() => Decoder.Dispose();
}
