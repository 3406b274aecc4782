using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using VectorStoreDb.Embedding.Onnx;

namespace VectorStoreDb.Benchmarks.Embedding;

/// <summary>
/// Texts/s and p50 latency of <see cref="OnnxTextEncoder.EmbedAsync(IReadOnlyList{string}, CancellationToken)"/> next to raw <see cref="InferenceSession.Run(IReadOnlyCollection{NamedOnnxValue})"/>
/// on the same already-tokenized, padded batches, in the same process and the same session, alternating sides so
/// machine noise hits both. The ratio is the cost of the service layer: tokenization, queueing, pooling, normalising.
/// </summary>
internal static class EncoderBenchmark
{
    public static int Run(string[] modelFolders, int[] batchSizes, double seconds, int threads)
    {
        Console.WriteLine($"# Encoder benchmark  {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC  {Environment.ProcessorCount} cores  {System.Runtime.InteropServices.RuntimeInformation.OSDescription}  intra-op threads {threads}");
        Console.WriteLine();
        Console.WriteLine("| model | texts | batch | tokens/text | service texts/s | raw texts/s | service p50 ms | raw p50 ms | overhead (mean) | overhead (p50) |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var folder in modelFolders)
        {
            string name = Path.GetFileName(Path.GetFullPath(folder).TrimEnd('/'));
            using var encoder = OnnxTextEncoder.Load(name, folder, new EncoderOptions { IntraOpThreads = threads, MaxBatchSize = Math.Max(32, batchSizes.Max()), MaxBatchTokens = 1 << 20 });
            var (shortTexts, longTexts) = Texts(folder, encoder);
            int longTokens = Math.Min(256, encoder.MaxTokens);
            foreach (var (kind, texts) in new[] { ("short", shortTexts), ($"{longTokens}-token", longTexts) })
            {
                foreach (int batch in batchSizes)
                {
                    Measure(encoder, name, kind, texts, batch, seconds);
                }
            }
            Concurrent(encoder, name, shortTexts, 32, seconds);
        }
        Console.WriteLine();
        Console.WriteLine("| model | mixed-length passages, calls of 32 | padding-aware runs texts/s | one run padded to the longest texts/s (baseline) | ratio | runs per call |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var folder in modelFolders)
        {
            MixedLengths(folder, threads, seconds);
        }
        return 0;
    }

    /// <summary>
    /// Real ingest batches mix short and long texts. The same service embeds the same calls of 32 held-out passages
    /// twice, alternating: with its padding-aware run planner (default) and with <c>RunOverheadTokens</c> so high that
    /// every call is one run padded to its longest text (what the service did before the planner).
    /// </summary>
    private static void MixedLengths(string folder, int threads, double seconds)
    {
        string name = Path.GetFileName(Path.GetFullPath(folder).TrimEnd('/'));
        string pairsPath = Path.Combine(folder, "..", "vs-encoder-small", "heldout_pairs.jsonl");
        var passages = File.ReadLines(pairsPath).Take(640).Select(l =>
        {
            using var doc = JsonDocument.Parse(l);
            return doc.RootElement.GetProperty("long").GetString()!;
        }).ToArray();
        using var planned = OnnxTextEncoder.Load(name, folder, new EncoderOptions { IntraOpThreads = threads });
        using var padded = OnnxTextEncoder.Load(name, folder, new EncoderOptions { IntraOpThreads = threads, RunOverheadTokens = int.MaxValue / 2 });
        planned.EmbedAsync(passages[..32]).GetAwaiter().GetResult();
        padded.EmbedAsync(passages[..32]).GetAwaiter().GetResult();
        double plannedSeconds = 0, paddedSeconds = 0;
        long plannedTexts = 0, paddedTexts = 0;
        long runsBefore = planned.InferenceRuns;
        int calls = 0;
        for (int i = 0; plannedSeconds + paddedSeconds < 2 * seconds; i = (i + 32) % (passages.Length - 32))
        {
            var call = passages[i..(i + 32)];
            var watch = Stopwatch.StartNew();
            planned.EmbedAsync(call).GetAwaiter().GetResult();
            plannedSeconds += watch.Elapsed.TotalSeconds;
            plannedTexts += call.Length;
            watch.Restart();
            padded.EmbedAsync(call).GetAwaiter().GetResult();
            paddedSeconds += watch.Elapsed.TotalSeconds;
            paddedTexts += call.Length;
            calls++;
        }
        double plannedRate = plannedTexts / plannedSeconds;
        double paddedRate = paddedTexts / paddedSeconds;
        Console.WriteLine($"| {name} | {passages.Length} held-out passages, {Math.Min(256, planned.MaxTokens)}-token window | {plannedRate:F1} | {paddedRate:F1} | {plannedRate / paddedRate:F2}× | {(planned.InferenceRuns - runsBefore) / (double)calls:F1} |");
    }

    private static (string[] Short, string[] Long) Texts(string folder, OnnxTextEncoder encoder)
    {
        string pairsPath = Path.Combine(folder, "..", "vs-encoder-small", "heldout_pairs.jsonl");
        var shorts = new List<string>();
        var longs = new List<string>();
        foreach (var line in File.ReadLines(pairsPath).Take(400))
        {
            using var doc = JsonDocument.Parse(line);
            shorts.Add(doc.RootElement.GetProperty("short").GetString()!);
            longs.Add(doc.RootElement.GetProperty("long").GetString()!);
        }
        // Long texts: concatenate descriptions until each fills the window (256 tokens, or the model's limit).
        int target = Math.Min(256, encoder.MaxTokens);
        var longTexts = new List<string>();
        for (int i = 0; i < longs.Count && longTexts.Count < 64; i++)
        {
            string text = longs[i];
            for (int j = i + 1; encoder.CountAllTokens(text) < target; j++)
            {
                text += " " + longs[j % longs.Count];
            }
            longTexts.Add(text);
        }
        return ([.. shorts.Take(256)], [.. longTexts]);
    }

    private static void Measure(OnnxTextEncoder encoder, string model, string kind, string[] texts, int batch, double seconds)
    {
        // Same batches on both sides: the service tokenizes them itself; the raw side gets them pre-tokenized.
        var batches = new List<string[]>();
        for (int i = 0; i + batch <= texts.Length && batches.Count < 16; i += batch)
        {
            batches.Add(texts[i..(i + batch)]);
        }
        var tokenized = batches.Select(b => b.Select(t => encoder.Tokenizer.Encode(t, encoder.MaxTokens)).ToArray()).ToList();
        var rawInputs = tokenized.Select(t => RawInputs(encoder, t)).ToList();
        double avgTokens = tokenized.SelectMany(t => t).Average(t => t.Length);

        // Warm up both paths (first runs allocate arenas and JIT).
        encoder.EmbedAsync(batches[0]).GetAwaiter().GetResult();
        RunRaw(encoder, rawInputs[0]);

        var service = new List<double>();
        var raw = new List<double>();
        double serviceTotal = 0, rawTotal = 0;
        int round = 0;
        while ((serviceTotal < seconds || rawTotal < seconds || service.Count < 5) && service.Count < 2000)
        {
            int b = round++ % batches.Count;
            long start = Stopwatch.GetTimestamp();
            encoder.EmbedAsync(batches[b]).GetAwaiter().GetResult();
            double s = Stopwatch.GetElapsedTime(start).TotalSeconds;
            service.Add(s);
            serviceTotal += s;
            start = Stopwatch.GetTimestamp();
            RunRaw(encoder, rawInputs[b]);
            double r = Stopwatch.GetElapsedTime(start).TotalSeconds;
            raw.Add(r);
            rawTotal += r;
        }
        foreach (var inputs in rawInputs)
        {
            foreach (var input in inputs)
            {
                (input.Value as IDisposable)?.Dispose();
            }
        }
        double serviceRate = service.Count * batch / serviceTotal;
        double rawRate = raw.Count * batch / rawTotal;
        Console.WriteLine($"| {model} | {kind} | {batch} | {avgTokens:F1} | {serviceRate:F1} | {rawRate:F1} | {Median(service) * 1000:F2} | {Median(raw) * 1000:F2} | {(rawRate / serviceRate - 1) * 100:+0.0;-0.0}% | {(Median(service) / Median(raw) - 1) * 100:+0.0;-0.0}% |");
    }

    /// <summary>32 callers each embedding one text at once: micro-batching turns them into few runs.</summary>
    private static void Concurrent(OnnxTextEncoder encoder, string model, string[] texts, int callers, double seconds)
    {
        double total = 0, sequentialTotal = 0;
        int rounds = 0, sequentialRounds = 0;
        long runsBefore = encoder.InferenceRuns;
        while (total < seconds || rounds < 3)
        {
            long start = Stopwatch.GetTimestamp();
            Task.WhenAll(Enumerable.Range(0, callers).Select(i => Task.Run(() => encoder.EmbedAsync([texts[(rounds * callers + i) % texts.Length]])))).GetAwaiter().GetResult();
            total += Stopwatch.GetElapsedTime(start).TotalSeconds;
            rounds++;
        }
        double runsPerRound = (encoder.InferenceRuns - runsBefore) / (double)rounds;
        while (sequentialTotal < seconds || sequentialRounds < 3)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < callers; i++)
            {
                encoder.EmbedAsync([texts[(sequentialRounds * callers + i) % texts.Length]]).GetAwaiter().GetResult();
            }
            sequentialTotal += Stopwatch.GetElapsedTime(start).TotalSeconds;
            sequentialRounds++;
        }
        double rate = rounds * callers / total;
        double sequentialRate = sequentialRounds * callers / sequentialTotal;
        Console.WriteLine($"| {model} | short, {callers} concurrent callers × 1 text | micro-batched ({runsPerRound:F1} runs per {callers} calls) | | {rate:F1} | {sequentialRate:F1} (one at a time) | | | {rate / sequentialRate:F2}× | |");
    }

    internal static List<NamedOnnxValue> RawInputs(OnnxTextEncoder encoder, int[][] sequences)
    {
        int batch = sequences.Length;
        int length = sequences.Max(s => s.Length);
        var ids = new DenseTensor<long>([batch, length]);
        var mask = new DenseTensor<long>([batch, length]);
        var types = new DenseTensor<long>([batch, length]);
        for (int b = 0; b < batch; b++)
        {
            for (int t = 0; t < sequences[b].Length; t++)
            {
                ids[b, t] = sequences[b][t];
                mask[b, t] = 1;
            }
        }
        var inputs = new List<NamedOnnxValue>();
        foreach (var name in encoder.Session.InputMetadata.Keys)
        {
            inputs.Add(NamedOnnxValue.CreateFromTensor(name, name switch { "input_ids" => ids, "attention_mask" => mask, _ => types }));
        }
        return inputs;
    }

    internal static void RunRaw(OnnxTextEncoder encoder, List<NamedOnnxValue> inputs)
    {
        using var outputs = encoder.Session.Run(inputs);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
