using VectorStoreDb.Engine;

namespace VectorStoreDb.Rag;

/// <summary>How the next token is chosen and when generation stops. Defaults give greedy decoding.</summary>
public sealed record SamplingOptions
{
    /// <summary>Most tokens to generate.</summary>
    public int MaxTokens { get; init; } = 256;

    /// <summary>0 (default) picks the most likely token (greedy); higher values flatten the distribution.</summary>
    public float Temperature { get; init; }

    /// <summary>Sample only among the k most likely tokens; 0 = no limit; 1 = greedy.</summary>
    public int TopK { get; init; }

    /// <summary>Nucleus sampling: the smallest set of tokens whose probability reaches p; 1 = no limit.</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>&gt; 1 discourages tokens already in the prompt or output (CTRL-style: divide positive logits, multiply negative).</summary>
    public float RepetitionPenalty { get; init; } = 1f;

    /// <summary>Fixes the random sequence so the same request gives the same text.</summary>
    public int? Seed { get; init; }

    /// <summary>Generation ends before the first occurrence of any of these; the stop string is not returned.</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>Extra ids that end generation, besides the model's EOS ids.</summary>
    public IReadOnlyList<int> StopTokenIds { get; init; } = [];

    /// <summary>Keep going through EOS / stop ids until <see cref="MaxTokens"/> (benchmarks and tests that need a fixed length).</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>Checks ranges; bad values are refused naming the field.</summary>
    public void Validate()
    {
        if (MaxTokens < 1)
        {
            throw new VectorStoreException(ErrorCode.InvalidArgument, $"max_tokens: must be at least 1, was {MaxTokens}.", "max_tokens");
        }
        if (!float.IsFinite(Temperature) || Temperature < 0 || Temperature > 100)
        {
            throw new VectorStoreException(ErrorCode.InvalidArgument, $"temperature: must be between 0 and 100, was {Temperature}.", "temperature");
        }
        if (TopK < 0)
        {
            throw new VectorStoreException(ErrorCode.InvalidArgument, $"top_k: must be 0 (no limit) or more, was {TopK}.", "top_k");
        }
        if (!float.IsFinite(TopP) || TopP <= 0 || TopP > 1)
        {
            throw new VectorStoreException(ErrorCode.InvalidArgument, $"top_p: must be in (0, 1], was {TopP}.", "top_p");
        }
        if (!float.IsFinite(RepetitionPenalty) || RepetitionPenalty <= 0 || RepetitionPenalty > 10)
        {
            throw new VectorStoreException(ErrorCode.InvalidArgument, $"repetition_penalty: must be in (0, 10], was {RepetitionPenalty}.", "repetition_penalty");
        }
        if (Stop.Count > 16)
        {
            throw new VectorStoreException(ErrorCode.InvalidArgument, $"stop: at most 16 stop strings, got {Stop.Count}.", "stop");
        }
        for (int i = 0; i < Stop.Count; i++)
        {
            if (string.IsNullOrEmpty(Stop[i]) || Stop[i].Length > 256)
            {
                throw new VectorStoreException(ErrorCode.InvalidArgument, $"stop[{i}]: must be 1-256 characters.", $"stop[{i}]");
            }
        }
    }
}

/// <summary>
/// Picks next tokens from logits: repetition penalty, then greedy, or temperature + top-k + top-p sampling.
/// Buffers are sized to the vocabulary once, so a step allocates nothing. Not thread-safe (one per generation).
/// </summary>
public sealed class Sampler
{
    private readonly SamplingOptions _options;
    private readonly float[] _logits;
    private readonly float[] _probs;
    private readonly int[] _candidates;
    private readonly bool[] _seen;
    private readonly Random _random;

    public Sampler(int vocabSize, SamplingOptions options)
    {
        _options = options;
        _logits = new float[vocabSize];
        _probs = new float[vocabSize];
        _candidates = new int[vocabSize];
        _seen = new bool[vocabSize];
        _random = options.Seed is { } seed ? new Random(seed) : new Random();
    }

    /// <summary>True when the options make every choice the arg-max (no randomness).</summary>
    public bool IsGreedy => _options.Temperature <= 0 || _options.TopK == 1;

    /// <summary>Records tokens the repetition penalty applies to (the prompt, then each generated token).</summary>
    public void Observe(ReadOnlySpan<int> tokens)
    {
        foreach (int t in tokens)
        {
            if ((uint)t < (uint)_seen.Length)
            {
                _seen[t] = true;
            }
        }
    }

    public void Observe(int token)
    {
        if ((uint)token < (uint)_seen.Length)
        {
            _seen[token] = true;
        }
    }

    /// <summary>Chooses the next token.</summary>
    public int Next(ReadOnlySpan<float> logits)
    {
        int vocab = Math.Min(logits.Length, _logits.Length);
        var work = _logits.AsSpan(0, vocab);
        logits[..vocab].CopyTo(work);
        float penalty = _options.RepetitionPenalty;
        if (penalty != 1f)
        {
            for (int i = 0; i < vocab; i++)
            {
                if (_seen[i])
                {
                    work[i] = work[i] > 0 ? work[i] / penalty : work[i] * penalty;
                }
            }
        }
        if (IsGreedy)
        {
            return ArgMax(work);
        }
        float inverseT = 1f / _options.Temperature;
        float max = work[ArgMax(work)];
        // Candidates: the top-k, or (without a k) every token within e^-30 of the best; lower ones cannot
        // change a float32 nucleus and skipping them keeps a 150k vocabulary cheap to sort.
        int count;
        if (_options.TopK > 0 && _options.TopK < vocab)
        {
            count = SelectTopK(work, _options.TopK);
        }
        else
        {
            count = 0;
            float floor = max - 30f * _options.Temperature;
            for (int i = 0; i < vocab; i++)
            {
                if (work[i] >= floor)
                {
                    _candidates[count++] = i;
                }
            }
        }
        var candidates = _candidates.AsSpan(0, count);
        var probs = _probs.AsSpan(0, count);
        // Softmax over the candidates, shifted by the max so exp never overflows.
        float sum = 0;
        for (int i = 0; i < count; i++)
        {
            float p = MathF.Exp((work[candidates[i]] - max) * inverseT);
            probs[i] = p;
            sum += p;
        }
        if (_options.TopP < 1f)
        {
            // Sort candidates by probability, descending, and keep the smallest prefix reaching top_p.
            probs.Sort(candidates, static (a, b) => b.CompareTo(a));
            float target = _options.TopP * sum, cumulative = 0;
            int keep = count;
            for (int i = 0; i < count; i++)
            {
                cumulative += probs[i];
                if (cumulative >= target)
                {
                    keep = i + 1;
                    break;
                }
            }
            count = keep;
            sum = cumulative >= target ? cumulative : sum;
        }
        float r = (float)_random.NextDouble() * sum;
        for (int i = 0; i < count; i++)
        {
            r -= probs[i];
            if (r <= 0)
            {
                return candidates[i];
            }
        }
        return candidates[count - 1];
    }

    internal static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        float bestValue = values[0];
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > bestValue)
            {
                bestValue = values[i];
                best = i;
            }
        }
        return best;
    }

    /// <summary>Puts the ids of the k largest values into the candidate buffer (min-heap, O(V log k)).</summary>
    private int SelectTopK(ReadOnlySpan<float> values, int k)
    {
        var heap = _candidates.AsSpan(0, k);
        for (int i = 0; i < k; i++)
        {
            heap[i] = i;
        }
        for (int i = k / 2 - 1; i >= 0; i--)
        {
            SiftDown(heap, values, i);
        }
        for (int i = k; i < values.Length; i++)
        {
            if (values[i] > values[heap[0]])
            {
                heap[0] = i;
                SiftDown(heap, values, 0);
            }
        }
        return k;
    }

    private static void SiftDown(Span<int> heap, ReadOnlySpan<float> values, int i)
    {
        while (true)
        {
            int left = 2 * i + 1, right = left + 1, smallest = i;
            if (left < heap.Length && values[heap[left]] < values[heap[smallest]])
            {
                smallest = left;
            }
            if (right < heap.Length && values[heap[right]] < values[heap[smallest]])
            {
                smallest = right;
            }
            if (smallest == i)
            {
                return;
            }
            (heap[i], heap[smallest]) = (heap[smallest], heap[i]);
            i = smallest;
        }
    }
}

/// <summary>
/// Cuts streamed text at the first stop string. Text that could still become a stop string is held back
/// until the next delta decides it, so a stop string never leaks into the output.
/// </summary>
internal sealed class StopStringMatcher(IReadOnlyList<string> stops)
{
    private readonly System.Text.StringBuilder _text = new();
    private readonly int _longest = stops.Count == 0 ? 0 : stops.Max(s => s.Length);
    private int _emitted;

    /// <summary>Adds a delta; returns the text safe to emit now and whether a stop string was reached.</summary>
    public (string Emit, bool Stopped) Add(string delta)
    {
        if (stops.Count == 0)
        {
            return (delta, false);
        }
        _text.Append(delta);
        string all = _text.ToString();
        int from = Math.Max(0, _emitted - _longest);
        int stopAt = -1;
        foreach (string stop in stops)
        {
            int at = all.IndexOf(stop, from, StringComparison.Ordinal);
            if (at >= 0 && (stopAt < 0 || at < stopAt))
            {
                stopAt = at;
            }
        }
        if (stopAt >= 0)
        {
            string emit = stopAt > _emitted ? all[_emitted..stopAt] : "";
            _emitted = Math.Max(_emitted, stopAt);
            return (emit, true);
        }
        int hold = 0;
        foreach (string stop in stops)
        {
            for (int len = Math.Min(stop.Length - 1, all.Length); len > hold; len--)
            {
                if (all.AsSpan(all.Length - len).SequenceEqual(stop.AsSpan(0, len)))
                {
                    hold = len;
                    break;
                }
            }
        }
        int end = Math.Max(_emitted, all.Length - hold);
        string safe = all[_emitted..end];
        _emitted = end;
        return (safe, false);
    }

    /// <summary>Text still held back when generation ends for another reason.</summary>
    public string Flush()
    {
        if (stops.Count == 0)
        {
            return "";
        }
        string rest = _text.ToString()[_emitted..];
        _emitted = _text.Length;
        return rest;
    }
}
