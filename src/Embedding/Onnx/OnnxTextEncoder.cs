using System.Buffers;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using VectorStoreDb.Index;

namespace VectorStoreDb.Embedding.Onnx;

/// <summary>
/// A Transformer sentence encoder exported to ONNX (BERT family: all-MiniLM-L6-v2, bge-small, ...), run with
/// ONNX Runtime. Texts are tokenized with <see cref="BertTextTokenizer"/>, concurrent <see cref="EmbedAsync"/> calls are
/// coalesced into micro-batches (sorted by length so padding stays small) and the token states are pooled (mean over
/// the attention mask, or CLS) and L2-normalised as the model folder's configuration says.
/// </summary>
public sealed class OnnxTextEncoder : ITextEncoder, ITextChunker, ITokenCounter, IDisposable
{
    private static readonly string[] PooledOutputNames = ["sentence_embedding", "sentence_embeddings", "embeddings"];

    private readonly InferenceSession _session;
    private readonly ILogger _logger;
    private readonly string[] _inputNames;
    private readonly int _idsInput = -1, _maskInput = -1, _typesInput = -1;
    private readonly string _outputName;
    private readonly bool _outputIsPooled;
    private readonly bool _clsPooling;
    private readonly EncoderOptions _options;
    private readonly Channel<WorkItem> _queue = Channel.CreateUnbounded<WorkItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _runner;
    private readonly CancellationTokenSource _shutdown = new();
    // One inference at a time: either the batching loop or a lone caller running its own texts inline.
    private readonly SemaphoreSlim _runGate = new(1, 1);
    private int _inFlight;
    private long _runs;

    private OnnxTextEncoder(string name, string folder, InferenceSession session, BertTextTokenizer tokenizer, EncoderOptions options, ILogger logger,
        int maxTokens, bool normalize, bool clsPooling, string executionProvider)
    {
        Name = name;
        Folder = folder;
        _session = session;
        Tokenizer = tokenizer;
        _options = options;
        _logger = logger;
        MaxTokens = maxTokens;
        Normalized = normalize;
        _clsPooling = clsPooling;
        ExecutionProvider = executionProvider;

        _inputNames = [.. session.InputMetadata.Keys];
        for (int i = 0; i < _inputNames.Length; i++)
        {
            switch (_inputNames[i])
            {
                case "input_ids": _idsInput = i; break;
                case "attention_mask": _maskInput = i; break;
                case "token_type_ids": _typesInput = i; break;
                default:
                    throw new EncoderLoadException(Path.Combine(folder, "model.onnx"),
                        $"'{Path.Combine(folder, "model.onnx")}' has an input '{_inputNames[i]}'; expected input_ids, attention_mask and optionally token_type_ids.");
            }
        }
        if (_idsInput < 0)
        {
            throw new EncoderLoadException(Path.Combine(folder, "model.onnx"), $"'{Path.Combine(folder, "model.onnx")}' has no 'input_ids' input.");
        }

        // A model that pools itself (sentence-transformers exports with a "sentence_embedding" output) is used as is;
        // otherwise the token states are pooled here.
        var outputs = session.OutputMetadata;
        string? pooled = PooledOutputNames.FirstOrDefault(outputs.ContainsKey);
        if (pooled is not null && outputs[pooled].Dimensions.Length == 2)
        {
            _outputName = pooled;
            _outputIsPooled = true;
        }
        else if (outputs.ContainsKey("last_hidden_state"))
        {
            _outputName = "last_hidden_state";
        }
        else
        {
            _outputName = outputs.FirstOrDefault(o => o.Value.Dimensions.Length == 3).Key
                ?? throw new EncoderLoadException(Path.Combine(folder, "model.onnx"),
                    $"'{Path.Combine(folder, "model.onnx")}' has no 'last_hidden_state' (or other [batch, sequence, hidden]) output.");
        }
        int hidden = outputs[_outputName].Dimensions[^1];
        if (hidden <= 0)
        {
            // Dynamic hidden size: ask the model once.
            using var probe = Run([[tokenizer.ClsId, tokenizer.SepId]], 1, 2, out int probed);
            hidden = probed;
        }
        Dimension = hidden;
        _runner = Task.Run(RunLoopAsync);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public int Dimension { get; }

    /// <inheritdoc />
    public int MaxTokens { get; }

    /// <inheritdoc />
    public bool Normalized { get; }

    /// <summary>The model folder this encoder was loaded from.</summary>
    public string Folder { get; }

    /// <summary>The tokenizer of the model folder.</summary>
    public BertTextTokenizer Tokenizer { get; }

    /// <summary>Where inference runs: <c>CPU</c> or <c>CUDA</c>.</summary>
    public string ExecutionProvider { get; }

    /// <summary>The ONNX Runtime session (benchmarks compare against raw runs on it).</summary>
    internal InferenceSession Session => _session;

    /// <summary>Calls of <see cref="EmbedAsync"/> not yet completed.</summary>
    internal int PendingCalls => Volatile.Read(ref _inFlight);

    /// <summary>
    /// Holds the run gate as a running batch would, until disposed: lets tests queue callers "during a run"
    /// deterministically, whatever the machine's speed.
    /// </summary>
    internal IDisposable HoldRunsForTest()
    {
        _runGate.Wait();
        return new GateRelease(_runGate);
    }

    private sealed class GateRelease(SemaphoreSlim gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Release();
            }
        }
    }

    /// <summary>Inference runs so far (one per micro-batch).</summary>
    public long InferenceRuns => Interlocked.Read(ref _runs);

    /// <summary>
    /// Loads an encoder from a model folder. Every file is checked and the model is run once, so a broken folder
    /// fails here (with the file named) rather than at the first request.
    /// </summary>
    /// <exception cref="EncoderLoadException">A file is missing or invalid.</exception>
    public static OnnxTextEncoder Load(string name, string folder, EncoderOptions? options = null, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        options ??= new EncoderOptions();
        logger ??= NullLogger.Instance;
        if (!Directory.Exists(folder))
        {
            throw new EncoderLoadException(folder, $"Model folder '{folder}' for encoder '{name}' does not exist.");
        }
        if (options.MaxBatchSize < 1 || options.MaxBatchTokens < 1 || options.MaxWaitMs < 0 || options.IntraOpThreads is < 1 || options.RunOverheadTokens < 0)
        {
            throw new EncoderLoadException($"VectorStore:Encoders:{name}",
                $"Encoder '{name}': MaxBatchSize and MaxBatchTokens must be at least 1, MaxWaitMs and RunOverheadTokens at least 0 and IntraOpThreads at least 1.");
        }
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
                $"Encoder '{name}': MaxTokens {maxTokens} must be between 2 and the model's max_position_embeddings ({maxPositions?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown"}).");
        }
        // sentence-transformers layouts normalise unless the folder says otherwise.
        bool normalize = options.Normalize ?? ReadBool(config, "normalize") ?? true;
        string pooling = options.Pooling ?? ReadString(config, "pooling") ?? "mean";
        if (pooling is not ("mean" or "cls"))
        {
            throw new EncoderLoadException($"VectorStore:Encoders:{name}:Pooling", $"Encoder '{name}': pooling '{pooling}' is not supported (mean or cls).");
        }

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
            session = new InferenceSession(modelPath, sessionOptions);
        }
        catch (OnnxRuntimeException ex)
        {
            sessionOptions.Dispose();
            throw new EncoderLoadException(modelPath, $"Model file '{modelPath}' for encoder '{name}' could not be loaded: {ex.Message}", ex);
        }
        try
        {
            var encoder = new OnnxTextEncoder(name, folder, session, tokenizer, options, logger, maxTokens, normalize, pooling == "cls", provider);
            logger.LogInformation("Loaded encoder {Encoder} from {Folder}: dimension {Dimension}, max tokens {MaxTokens}, {Provider}, {Threads} threads",
                name, folder, encoder.Dimension, maxTokens, provider, sessionOptions.IntraOpNumThreads);
            return encoder;
        }
        catch (Exception ex) when (ex is not EncoderLoadException)
        {
            session.Dispose();
            throw new EncoderLoadException(modelPath, $"Model file '{modelPath}' for encoder '{name}' failed a test run: {ex.Message}", ex);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public async Task<float[][]> EmbedAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ObjectDisposedException.ThrowIf(_shutdown.IsCancellationRequested, this);
        if (texts.Count == 0)
        {
            return [];
        }
        var tokens = new int[texts.Count][];
        for (int i = 0; i < texts.Count; i++)
        {
            tokens[i] = Tokenizer.Encode(texts[i] ?? throw new ArgumentException("A text is null.", nameof(texts)), MaxTokens);
        }
        return await EmbedTokensAsync(tokens, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Embeds already tokenized sequences (each with <c>[CLS]</c> and <c>[SEP]</c>, at most <see cref="MaxTokens"/> long).</summary>
    internal Task<float[][]> EmbedTokensAsync(int[][] tokens, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var request = new Request(tokens, cancellationToken);
        // Fast path: the only caller, and nothing running. Its texts form the batch anyway, so run them on this
        // thread and skip the two thread hops through the batching loop. Callers arriving meanwhile queue up and
        // are batched together once this run finishes.
        if (Interlocked.Increment(ref _inFlight) == 1 && tokens.Length <= _options.MaxBatchSize && _runGate.Wait(0, CancellationToken.None))
        {
            try
            {
                var items = new List<WorkItem>(tokens.Length);
                for (int i = 0; i < tokens.Length; i++)
                {
                    items.Add(new WorkItem(request, i));
                }
                Process(items);
            }
            finally
            {
                _runGate.Release();
            }
            return request.Completion.Task;
        }
        // Registered before queueing so the runner's release always sees (and disposes) the registration.
        if (cancellationToken.CanBeCanceled)
        {
            request.Registration = cancellationToken.Register(static r => ((Request)r!).TryCancel(), request);
        }
        for (int i = 0; i < tokens.Length; i++)
        {
            _queue.Writer.TryWrite(new WorkItem(request, i));
        }
        return request.Completion.Task;
    }

    /// <summary>Number of tokens a text has with <c>[CLS]</c>/<c>[SEP]</c>, before truncation.</summary>
    public int CountAllTokens(string text) => Tokenizer.CountTokens(text) + 2;

    /// <inheritdoc />
    public int CountTokens(string text) => Math.Min(CountAllTokens(text), MaxTokens);

    /// <inheritdoc />
    public int WindowTokens => MaxTokens - 2;

    /// <inheritdoc />
    public IReadOnlyList<TextChunk> Chunk(string text, int overlapTokens = 32, int? windowTokens = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var pieces = new List<TokenSpan>();
        Tokenizer.Tokenize(text, pieces);
        return TextChunker.Chunk(pieces, text, windowTokens ?? WindowTokens, overlapTokens);
    }

    public void Dispose()
    {
        if (_shutdown.IsCancellationRequested)
        {
            return;
        }
        _shutdown.Cancel();
        _queue.Writer.TryComplete();
        try
        {
            _runner.Wait(TimeSpan.FromSeconds(10));
        }
        catch (AggregateException)
        {
        }
        // Let an inline run on a caller's thread finish before the session goes away.
        _runGate.Wait(TimeSpan.FromSeconds(10));
        _session.Dispose();
        _shutdown.Dispose();
        _runGate.Dispose();
    }

    private async Task RunLoopAsync()
    {
        var reader = _queue.Reader;
        var pending = new List<WorkItem>();
        var distinct = new HashSet<Request>(ReferenceEqualityComparer.Instance);
        int window = Math.Max(_options.MaxBatchSize * 4, 64);
        using var waitCts = new CancellationTokenSource();
        try
        {
            while (await reader.WaitToReadAsync(_shutdown.Token).ConfigureAwait(false))
            {
                pending.Clear();
                distinct.Clear();
                while (pending.Count < window && reader.TryRead(out var item))
                {
                    pending.Add(item);
                    distinct.Add(item.Request);
                }
                // Wait briefly for other callers only when some are in flight but have not queued yet: a lone
                // caller never pays the wait.
                if (_options.MaxWaitMs > 0 && pending.Count < _options.MaxBatchSize && distinct.Count < Volatile.Read(ref _inFlight))
                {
                    long deadline = Environment.TickCount64 + _options.MaxWaitMs;
                    while (pending.Count < _options.MaxBatchSize && distinct.Count < Volatile.Read(ref _inFlight))
                    {
                        if (reader.TryRead(out var item))
                        {
                            pending.Add(item);
                            distinct.Add(item.Request);
                            continue;
                        }
                        long remaining = deadline - Environment.TickCount64;
                        if (remaining <= 0)
                        {
                            break;
                        }
                        waitCts.TryReset();
                        waitCts.CancelAfter(TimeSpan.FromMilliseconds(remaining));
                        try
                        {
                            if (!await reader.WaitToReadAsync(waitCts.Token).ConfigureAwait(false))
                            {
                                break;
                            }
                        }
                        catch (OperationCanceledException) when (!_shutdown.IsCancellationRequested)
                        {
                            break;
                        }
                    }
                }
                await _runGate.WaitAsync(_shutdown.Token).ConfigureAwait(false);
                try
                {
                    Process(pending);
                }
                finally
                {
                    _runGate.Release();
                }
            }
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
        }
        // Fail whatever is still queued so no caller waits forever.
        while (reader.TryRead(out var item))
        {
            item.Request.Fail(new ObjectDisposedException(nameof(OnnxTextEncoder)), this);
        }
    }

    /// <summary>
    /// Splits length-sorted work into runs that minimise padded tokens plus a fixed cost per run
    /// (<see cref="EncoderOptions.RunOverheadTokens"/>), within <see cref="EncoderOptions.MaxBatchSize"/> and
    /// <see cref="EncoderOptions.MaxBatchTokens"/>: one request of 32 texts from 10 to 128 tokens is no longer padded
    /// to 128 throughout. Dynamic programming over at most a few hundred items; returns each run's end index.
    /// </summary>
    private List<int> PlanBatches(List<WorkItem> sorted)
    {
        int n = sorted.Count;
        var cost = new long[n + 1];
        var cut = new int[n + 1];
        for (int end = 1; end <= n; end++)
        {
            cost[end] = long.MaxValue;
            int length = sorted[end - 1].Tokens.Length; // the longest of any run ending here
            for (int start = end - 1; start >= 0 && end - start <= _options.MaxBatchSize; start--)
            {
                int count = end - start;
                if (count > 1 && (long)count * length > _options.MaxBatchTokens)
                {
                    break;
                }
                long candidate = cost[start] + ((long)count * length) + _options.RunOverheadTokens;
                if (candidate < cost[end])
                {
                    cost[end] = candidate;
                    cut[end] = start;
                }
            }
        }
        var ends = new List<int>();
        for (int end = n; end > 0; end = cut[end])
        {
            ends.Add(end);
        }
        ends.Reverse();
        return ends;
    }

    private void Process(List<WorkItem> pending)
    {
        foreach (var item in pending)
        {
            item.Request.ReleaseIfCancelled(this);
        }
        pending.RemoveAll(w => w.Request.Completion.Task.IsCompleted);
        // Similar lengths together keep padding (wasted FLOPs) small.
        pending.Sort(static (a, b) => a.Tokens.Length.CompareTo(b.Tokens.Length));
        var ends = PlanBatches(pending);
        int start = 0;
        foreach (int end in ends)
        {
            int count = end - start;
            int maxLength = pending[end - 1].Tokens.Length;
            var batch = pending.GetRange(start, count);
            start = end;
            try
            {
                var sequences = new int[batch.Count][];
                for (int i = 0; i < batch.Count; i++)
                {
                    sequences[i] = batch[i].Tokens;
                }
                var vectors = Infer(sequences, maxLength);
                for (int i = 0; i < batch.Count; i++)
                {
                    batch[i].Request.Complete(batch[i].Index, vectors[i], this);
                }
            }
            catch (Exception ex)
            {
                _logger.LogError(ex, "Encoder {Encoder}: inference failed for a batch of {Count}", Name, batch.Count);
                foreach (var item in batch)
                {
                    item.Request.Fail(ex, this);
                }
            }
        }
    }

    /// <summary>Runs one padded batch and pools it into one vector per sequence.</summary>
    internal float[][] Infer(int[][] sequences, int maxLength)
    {
        using var run = Run(sequences, sequences.Length, maxLength, out int hidden);
        Interlocked.Increment(ref _runs);
        var output = run.Output;
        var result = new float[sequences.Length][];
        for (int b = 0; b < sequences.Length; b++)
        {
            var vector = new float[hidden];
            if (_outputIsPooled)
            {
                output.Slice(b * hidden, hidden).CopyTo(vector);
            }
            else if (_clsPooling)
            {
                output.Slice(b * maxLength * hidden, hidden).CopyTo(vector);
            }
            else
            {
                // Mean over real tokens only: padded positions carry states too and must not leak in.
                int length = sequences[b].Length;
                var states = output.Slice(b * maxLength * hidden, length * hidden);
                for (int t = 0; t < length; t++)
                {
                    var row = states.Slice(t * hidden, hidden);
                    for (int h = 0; h < hidden; h++)
                    {
                        vector[h] += row[h];
                    }
                }
                float inv = 1f / length;
                for (int h = 0; h < hidden; h++)
                {
                    vector[h] *= inv;
                }
            }
            if (Normalized)
            {
                VectorKernels.NormalizeInPlace(vector);
            }
            result[b] = vector;
        }
        return result;
    }

    /// <summary>Fills pooled input buffers, runs the session and returns the output (valid until disposed).</summary>
    private RunResult Run(int[][] sequences, int batch, int maxLength, out int hidden)
    {
        int cells = batch * maxLength;
        long[] ids = ArrayPool<long>.Shared.Rent(cells);
        long[] mask = ArrayPool<long>.Shared.Rent(cells);
        long[] types = ArrayPool<long>.Shared.Rent(cells);
        var inputs = new OrtValue[_inputNames.Length];
        try
        {
            Array.Fill(ids, Tokenizer.PadId, 0, cells);
            Array.Clear(mask, 0, cells);
            Array.Clear(types, 0, cells);
            for (int b = 0; b < batch; b++)
            {
                var seq = sequences[b];
                int offset = b * maxLength;
                for (int t = 0; t < seq.Length; t++)
                {
                    ids[offset + t] = seq[t];
                    mask[offset + t] = 1;
                }
            }
            long[] shape = [batch, maxLength];
            var memoryInfo = OrtMemoryInfo.DefaultInstance;
            inputs[_idsInput] = OrtValue.CreateTensorValueFromMemory(memoryInfo, ids.AsMemory(0, cells), shape);
            if (_maskInput >= 0)
            {
                inputs[_maskInput] = OrtValue.CreateTensorValueFromMemory(memoryInfo, mask.AsMemory(0, cells), shape);
            }
            if (_typesInput >= 0)
            {
                inputs[_typesInput] = OrtValue.CreateTensorValueFromMemory(memoryInfo, types.AsMemory(0, cells), shape);
            }
            using var runOptions = new RunOptions();
            var outputs = _session.Run(runOptions, _inputNames, inputs, [_outputName]);
            var tensorShape = outputs[0].GetTensorTypeAndShape().Shape;
            hidden = (int)tensorShape[^1];
            return new RunResult(outputs, [ids, mask, types]);
        }
        catch
        {
            ArrayPool<long>.Shared.Return(ids);
            ArrayPool<long>.Shared.Return(mask);
            ArrayPool<long>.Shared.Return(types);
            throw;
        }
        finally
        {
            foreach (var input in inputs)
            {
                input?.Dispose();
            }
        }
    }

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

    private readonly record struct WorkItem(Request Request, int Index)
    {
        public int[] Tokens => Request.Tokens[Index];
    }

    private sealed class RunResult(IDisposableReadOnlyCollection<OrtValue> outputs, long[][] buffers) : IDisposable
    {
        public ReadOnlySpan<float> Output => outputs[0].GetTensorDataAsSpan<float>();

        public void Dispose()
        {
            outputs.Dispose();
            foreach (var buffer in buffers)
            {
                ArrayPool<long>.Shared.Return(buffer);
            }
        }
    }

    private sealed class Request(int[][] tokens, CancellationToken cancellationToken)
    {
        private int _remaining = tokens.Length;
        private int _released;

        public int[][] Tokens { get; } = tokens;

        public float[][] Results { get; } = new float[tokens.Length][];

        public TaskCompletionSource<float[][]> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Registration { get; set; }

        public void Complete(int index, float[] vector, OnnxTextEncoder owner)
        {
            Results[index] = vector;
            if (Interlocked.Decrement(ref _remaining) == 0)
            {
                Release(owner);
                Completion.TrySetResult(Results);
            }
        }

        public void Fail(Exception ex, OnnxTextEncoder owner)
        {
            Release(owner);
            Completion.TrySetException(ex);
        }

        public void TryCancel()
        {
            // The runner skips the remaining items of a cancelled request; _inFlight is released when it sees them
            // or, if all were already taken, by the caller-visible completion below.
            Completion.TrySetCanceled(cancellationToken);
        }

        private void Release(OnnxTextEncoder owner)
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                Registration.Dispose();
                Interlocked.Decrement(ref owner._inFlight);
            }
        }

        public void ReleaseIfCancelled(OnnxTextEncoder owner)
        {
            if (Completion.Task.IsCanceled)
            {
                Release(owner);
            }
        }
    }
}
