using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using VectorStoreDb.Engine;

namespace VectorStoreDb.Rag;

/// <summary>
/// A causal language model on ONNX Runtime in the common (Optimum / transformers.js) layout: inputs
/// <c>input_ids</c>, <c>attention_mask</c>, <c>position_ids</c>, <c>past_key_values.{i}.key/value</c>; outputs
/// <c>logits</c>, <c>present.{i}.key/value</c>. One session is shared; each generation gets its own
/// <see cref="DecoderState"/> holding the KV cache. Thread-safe.
/// </summary>
public sealed class OnnxDecoder : IDisposable
{
    private readonly InferenceSession _session;

    private OnnxDecoder(InferenceSession session, DecoderConfig config, string modelPath)
    {
        _session = session;
        ModelPath = modelPath;
        var inputs = session.InputMetadata;
        foreach (string required in new[] { "input_ids" })
        {
            if (!inputs.ContainsKey(required))
            {
                throw new VectorStoreException(ErrorCode.Unavailable, $"Decoder '{modelPath}' has no '{required}' input; expected the input_ids/attention_mask/position_ids/past_key_values.* layout.");
            }
        }
        if (inputs["input_ids"].ElementDataType != TensorElementType.Int64)
        {
            throw new VectorStoreException(ErrorCode.Unavailable, $"Decoder '{modelPath}': input_ids must be int64, is {inputs["input_ids"].ElementDataType}.");
        }
        HasAttentionMask = inputs.ContainsKey("attention_mask");
        HasPositionIds = inputs.ContainsKey("position_ids");
        // The session metadata is the ground truth for the cache shape; config.json fills in what it leaves symbolic.
        int layers = 0;
        while (inputs.ContainsKey($"past_key_values.{layers}.key"))
        {
            layers++;
        }
        if (layers == 0)
        {
            throw new VectorStoreException(ErrorCode.Unavailable, $"Decoder '{modelPath}' has no past_key_values.0.key input; export it with a KV cache (e.g. Optimum 'text-generation-with-past').");
        }
        if (config.NumLayers is { } configured && configured != layers)
        {
            throw new VectorStoreException(ErrorCode.Unavailable, $"Decoder '{modelPath}': config.json says {configured} layers but the model has {layers}.");
        }
        var past = inputs["past_key_values.0.key"];
        if (past.ElementDataType != TensorElementType.Float)
        {
            throw new VectorStoreException(ErrorCode.Unavailable, $"Decoder '{modelPath}': only float32 KV caches are supported, the model's is {past.ElementDataType}.");
        }
        int[] dims = past.Dimensions;
        NumLayers = layers;
        NumKvHeads = dims.Length == 4 && dims[1] > 0 ? dims[1] : config.NumKvHeads ?? throw Missing(modelPath, "the number of KV heads (n_kv_heads / num_key_value_heads)");
        HeadDim = dims.Length == 4 && dims[3] > 0 ? dims[3] : config.HeadDim ?? throw Missing(modelPath, "the head dimension (head_dim or hidden_size / num_attention_heads)");
        int[] logitDims = session.OutputMetadata.TryGetValue("logits", out var logits)
            ? logits.Dimensions
            : throw new VectorStoreException(ErrorCode.Unavailable, $"Decoder '{modelPath}' has no 'logits' output.");
        VocabSize = logitDims.Length == 3 && logitDims[2] > 0 ? logitDims[2] : config.VocabSize ?? throw Missing(modelPath, "the vocabulary size (vocab_size)");
        MaxContext = config.MaxContext;
        InputNames = BuildInputNames();
        OutputNames = ["logits", .. Enumerable.Range(0, layers).SelectMany(i => new[] { $"present.{i}.key", $"present.{i}.value" })];
        foreach (string output in OutputNames)
        {
            if (!session.OutputMetadata.ContainsKey(output))
            {
                throw new VectorStoreException(ErrorCode.Unavailable, $"Decoder '{modelPath}' has no '{output}' output.");
            }
        }
    }

    public string ModelPath { get; }

    public int NumLayers { get; }

    public int NumKvHeads { get; }

    public int HeadDim { get; }

    public int VocabSize { get; }

    /// <summary>Positions the model can attend over (prompt + generated).</summary>
    public int MaxContext { get; }

    public bool HasAttentionMask { get; }

    public bool HasPositionIds { get; }

    internal string[] InputNames { get; }

    internal string[] OutputNames { get; }

    internal InferenceSession Session => _session;

    /// <summary>Opens <paramref name="modelPath"/> with <paramref name="intraOpThreads"/> threads per run (0 = ONNX Runtime's default).</summary>
    public static OnnxDecoder Open(string modelPath, DecoderConfig config, int intraOpThreads = 1)
    {
        if (!File.Exists(modelPath))
        {
            throw new VectorStoreException(ErrorCode.Unavailable, $"Decoder model file '{modelPath}' does not exist.");
        }
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (intraOpThreads > 0)
        {
            options.IntraOpNumThreads = intraOpThreads;
        }
        options.InterOpNumThreads = 1;
        options.ExecutionMode = ExecutionMode.ORT_SEQUENTIAL;
        InferenceSession session;
        try
        {
            session = new InferenceSession(modelPath, options);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new VectorStoreException(ErrorCode.Unavailable, $"Decoder model '{modelPath}' could not be loaded: {ex.Message}");
        }
        try
        {
            return new OnnxDecoder(session, config, modelPath);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>A fresh, empty KV cache for one generation.</summary>
    public DecoderState CreateState() => new(this);

    private string[] BuildInputNames()
    {
        var names = new List<string> { "input_ids" };
        if (HasAttentionMask)
        {
            names.Add("attention_mask");
        }
        if (HasPositionIds)
        {
            names.Add("position_ids");
        }
        for (int i = 0; i < NumLayers; i++)
        {
            names.Add($"past_key_values.{i}.key");
            names.Add($"past_key_values.{i}.value");
        }
        return [.. names];
    }

    private static VectorStoreException Missing(string modelPath, string what) =>
        new(ErrorCode.Unavailable, $"Decoder '{modelPath}': cannot tell {what} from the model or its config.json.");

    public void Dispose() => _session.Dispose();
}

/// <summary>
/// One sequence's KV cache and position. <see cref="Prefill"/> runs the whole prompt once; <see cref="Step"/>
/// feeds one token, passing the previous run's <c>present.*</c> OrtValues straight in as <c>past_key_values.*</c>
/// (no copy). Input buffers are allocated once per state and wrapped, not copied, into OrtValues. Not thread-safe.
/// </summary>
public sealed class DecoderState : IDisposable
{
    private readonly OnnxDecoder _decoder;
    private readonly long[] _ids;
    private readonly long[] _mask;
    private readonly long[] _positions;
    private readonly OrtValue[] _inputs;
    private readonly OrtValue[] _emptyPast;
    private readonly OrtValue[] _created;
    private readonly long[] _idsShape = [1, 0];
    private readonly long[] _maskShape = [1, 0];
    private readonly RunOptions _runOptions = new();
    private readonly int _pastOffset;
    private IDisposableReadOnlyCollection<OrtValue>? _outputs;
    private IReadOnlyList<OrtValue> _outputList = [];
    private bool _disposed;

    internal DecoderState(OnnxDecoder decoder)
    {
        _decoder = decoder;
        int max = decoder.MaxContext;
        _ids = new long[max];
        _mask = new long[max];
        Array.Fill(_mask, 1L);
        _positions = new long[max];
        _inputs = new OrtValue[decoder.InputNames.Length];
        _pastOffset = 1 + (decoder.HasAttentionMask ? 1 : 0) + (decoder.HasPositionIds ? 1 : 0);
        _created = new OrtValue[_pastOffset];
        _emptyPast = new OrtValue[decoder.NumLayers * 2];
        long[] emptyShape = [1, decoder.NumKvHeads, 0, decoder.HeadDim];
        for (int i = 0; i < _emptyPast.Length; i++)
        {
            _emptyPast[i] = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, emptyShape);
        }
    }

    /// <summary>Tokens in the cache so far.</summary>
    public int Length { get; private set; }

    /// <summary>Runs the prompt through the model, filling the cache; returns the logits of its last position.</summary>
    public ReadOnlySpan<float> Prefill(ReadOnlySpan<int> tokens)
    {
        if (tokens.IsEmpty)
        {
            throw new ArgumentException("The prompt must have at least one token.", nameof(tokens));
        }
        return Run(tokens);
    }

    /// <summary>Appends one token; returns the logits predicting the next.</summary>
    public ReadOnlySpan<float> Step(int token) => Run([token]);

    /// <summary>Logits of every position of the last run (for parity checks against a full recomputation).</summary>
    internal ReadOnlySpan<float> AllLogits => _outputs is null ? [] : _outputList[0].GetTensorDataAsSpan<float>();

    /// <summary>Aborts a run in progress (used when a request is cancelled mid-prefill).</summary>
    public void Terminate() => _runOptions.Terminate = true;

    private ReadOnlySpan<float> Run(scoped ReadOnlySpan<int> tokens)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int past = Length, count = tokens.Length, total = past + count;
        if (total > _decoder.MaxContext)
        {
            throw new VectorStoreException(ErrorCode.LimitExceeded, $"The sequence would be {total} tokens; the model's context window is {_decoder.MaxContext}.", "max_tokens");
        }
        for (int i = 0; i < count; i++)
        {
            _ids[i] = tokens[i];
            _positions[i] = past + i;
        }
        var memory = OrtMemoryInfo.DefaultInstance;
        int n = 0;
        var created = _created;
        // ORT copies the shape when the OrtValue is created, so the two shape arrays can be reused every step.
        _idsShape[1] = count;
        _maskShape[1] = total;
        try
        {
            created[n] = OrtValue.CreateTensorValueFromMemory(memory, _ids.AsMemory(0, count), _idsShape);
            _inputs[n] = created[n];
            n++;
            if (_decoder.HasAttentionMask)
            {
                created[n] = OrtValue.CreateTensorValueFromMemory(memory, _mask.AsMemory(0, total), _maskShape);
                _inputs[n] = created[n];
                n++;
            }
            if (_decoder.HasPositionIds)
            {
                created[n] = OrtValue.CreateTensorValueFromMemory(memory, _positions.AsMemory(0, count), _idsShape);
                _inputs[n] = created[n];
                n++;
            }
            for (int i = 0; i < _emptyPast.Length; i++)
            {
                // present.* of the previous run (output index i + 1, after logits) is this run's past_key_values.*.
                _inputs[_pastOffset + i] = _outputs is null ? _emptyPast[i] : _outputList[i + 1];
            }
            IDisposableReadOnlyCollection<OrtValue> outputs;
            try
            {
                outputs = _decoder.Session.Run(_runOptions, _decoder.InputNames, _inputs, _decoder.OutputNames);
            }
            catch (OnnxRuntimeException) when (_runOptions.Terminate)
            {
                throw new OperationCanceledException("Generation was cancelled.");
            }
            _outputs?.Dispose();
            _outputs = outputs;
            _outputList = outputs as IReadOnlyList<OrtValue> ?? [.. outputs];
        }
        finally
        {
            for (int i = 0; i < n; i++)
            {
                created[i].Dispose();
            }
        }
        Length = total;
        var logits = _outputList[0].GetTensorDataAsSpan<float>();
        int vocab = _decoder.VocabSize;
        return logits.Slice((count - 1) * vocab, vocab);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _outputs?.Dispose();
        foreach (var value in _emptyPast)
        {
            value.Dispose();
        }
        _runOptions.Dispose();
    }
}
