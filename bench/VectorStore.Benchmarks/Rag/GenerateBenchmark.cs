using System.CommandLine;
using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using VectorStoreDb.Rag;

namespace VectorStoreDb.Benchmarks.Rag;

/// <summary>
/// <c>generate [--model folder] [--runs n] [--threads n]</c>: time to first token and decode tokens/s of
/// <see cref="DecoderModel"/> (greedy, KV cache) against a minimal raw ONNX Runtime decode loop (OrtValue API,
/// presents fed back as pasts, argmax) on the same model, same thread settings, same prompts, same run.
/// </summary>
internal static class GenerateBenchmark
{
    public static Command CreateCommand()
    {
        var model = new Option<string?>("--model") { Description = "Decoder folder (default: shared/models/stories260k found by walking up)." };
        var runs = new Option<int>("--runs") { Description = "Measured runs per prompt length (after 3 warm-ups).", DefaultValueFactory = _ => 20 };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (both sides).", DefaultValueFactory = _ => 1 };
        var command = new Command("generate", "Decoder time-to-first-token and tokens/s for 64- and (context-64)-token prompts vs a raw ONNX Runtime decode loop.") { model, runs, threads };
        command.SetAction((result, _) => RunAsync(result.GetValue(model), result.GetValue(runs), result.GetValue(threads)));
        return command;
    }

    private static async Task<int> RunAsync(string? modelFolder, int runs, int threads)
    {
        string folder = modelFolder ?? FindModel() ?? throw new InvalidOperationException("stories260k not found; pass --model <folder>.");
        const int NewTokens = 64;
        using var model = DecoderModel.Load(folder, threads);
        using var raw = new RawLoop(Path.Combine(folder, "model.onnx"), model.Decoder, threads);
        Console.WriteLine($"generate: {Path.GetFileName(folder)} ({model.Decoder.NumLayers} layers, vocab {model.Decoder.VocabSize}, context {model.ContextWindow}), " +
            $"{threads} intra-op thread(s), {runs} runs each, greedy, {NewTokens} new tokens, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}");
        var story = model.EncodePrompt(string.Concat(Enumerable.Repeat(
            "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. ", 40)));
        Console.WriteLine();
        Console.WriteLine("| prompt tokens | engine TTFT ms | raw TTFT ms | engine tok/s | raw tok/s | tok/s ratio |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
        // stories260k has a 512-token window: the "512" case is a 448-token prompt + 64 new tokens (the whole context).
        foreach (int promptLength in new[] { 64, model.ContextWindow - NewTokens })
        {
            int[] prompt = [.. story.Take(promptLength)];
            var options = new SamplingOptions { MaxTokens = NewTokens, IgnoreEos = true };
            for (int w = 0; w < 3; w++)
            {
                await Engine(model, prompt, options);
                raw.Run(prompt, NewTokens);
            }
            var engineTtft = new List<double>();
            var engineTps = new List<double>();
            var rawTtft = new List<double>();
            var rawTps = new List<double>();
            for (int r = 0; r < runs; r++)
            {
                // Interleave so machine noise (other engineers' builds) hits both sides alike.
                var stats = await Engine(model, prompt, options);
                engineTtft.Add(stats.TimeToFirstTokenMs);
                engineTps.Add(stats.TokensPerSecond);
                var (ttft, tps) = raw.Run(prompt, NewTokens);
                rawTtft.Add(ttft);
                rawTps.Add(tps);
            }
            double e = Median(engineTps), b = Median(rawTps);
            Console.WriteLine($"| {promptLength} | {Median(engineTtft):F2} | {Median(rawTtft):F2} | {e:F0} | {b:F0} | {e / b:F2}x |");
        }
        return 0;
    }

    private static async Task<GenerationStats> Engine(DecoderModel model, int[] prompt, SamplingOptions options)
    {
        var stats = new GenerationStats();
        await foreach (string _ in model.GenerateAsync(prompt, options, stats))
        {
        }
        if (stats.CompletionTokens != options.MaxTokens)
        {
            throw new InvalidOperationException($"generated {stats.CompletionTokens} tokens, expected {options.MaxTokens}");
        }
        return stats;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }

    private static string? FindModel()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "models", "stories260k");
            if (File.Exists(Path.Combine(candidate, "model.onnx")))
            {
                return candidate;
            }
        }
        return null;
    }

    /// <summary>The baseline: the shortest correct ONNX Runtime greedy loop, with nothing but arg-max on top.</summary>
    private sealed class RawLoop : IDisposable
    {
        private readonly InferenceSession _session;
        private readonly int _layers, _kvHeads, _headDim, _vocab;
        private readonly string[] _inputNames, _outputNames;
        private readonly RunOptions _runOptions = new();

        public RawLoop(string path, OnnxDecoder shape, int threads)
        {
            using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = threads, InterOpNumThreads = 1 };
            _session = new InferenceSession(path, options);
            (_layers, _kvHeads, _headDim, _vocab) = (shape.NumLayers, shape.NumKvHeads, shape.HeadDim, shape.VocabSize);
            _inputNames = ["input_ids", "attention_mask", "position_ids", .. Enumerable.Range(0, _layers).SelectMany(i => new[] { $"past_key_values.{i}.key", $"past_key_values.{i}.value" })];
            _outputNames = ["logits", .. Enumerable.Range(0, _layers).SelectMany(i => new[] { $"present.{i}.key", $"present.{i}.value" })];
        }

        public (double TtftMs, double TokensPerSecond) Run(int[] prompt, int newTokens)
        {
            long start = Stopwatch.GetTimestamp(), first = 0;
            var inputs = new OrtValue[_inputNames.Length];
            var empty = new List<OrtValue>();
            for (int i = 0; i < 2 * _layers; i++)
            {
                var value = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, [1, _kvHeads, 0, _headDim]);
                empty.Add(value);
                inputs[3 + i] = value;
            }
            long[] ids = [.. prompt.Select(t => (long)t)];
            int past = 0;
            IDisposableReadOnlyCollection<OrtValue>? outputs = null;
            for (int step = 0; step < newTokens; step++)
            {
                int n = ids.Length;
                using var inputIds = OrtValue.CreateTensorValueFromMemory(ids, [1, n]);
                using var mask = OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat(1L, past + n).ToArray(), [1, past + n]);
                using var positions = OrtValue.CreateTensorValueFromMemory(Enumerable.Range(past, n).Select(p => (long)p).ToArray(), [1, n]);
                inputs[0] = inputIds;
                inputs[1] = mask;
                inputs[2] = positions;
                var next = _session.Run(_runOptions, _inputNames, inputs, _outputNames);
                outputs?.Dispose();
                outputs = next;
                var list = (IReadOnlyList<OrtValue>)outputs;
                for (int i = 0; i < 2 * _layers; i++)
                {
                    inputs[3 + i] = list[1 + i];
                }
                var logits = list[0].GetTensorDataAsSpan<float>().Slice((n - 1) * _vocab, _vocab);
                int best = 0;
                for (int v = 1; v < logits.Length; v++)
                {
                    if (logits[v] > logits[best])
                    {
                        best = v;
                    }
                }
                if (step == 0)
                {
                    first = Stopwatch.GetTimestamp();
                }
                past += n;
                ids = [best];
            }
            long end = Stopwatch.GetTimestamp();
            outputs?.Dispose();
            empty.ForEach(v => v.Dispose());
            return (Stopwatch.GetElapsedTime(start, first).TotalMilliseconds, (newTokens - 1) / Stopwatch.GetElapsedTime(first, end).TotalSeconds);
        }

        public void Dispose()
        {
            _runOptions.Dispose();
            _session.Dispose();
        }
    }
}
