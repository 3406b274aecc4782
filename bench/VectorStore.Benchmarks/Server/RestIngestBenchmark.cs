using System.CommandLine;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using VectorStoreDb.Embedding.Onnx;
using VectorStoreDb.Server;
using VectorStoreDb.Server.Hosting;

namespace VectorStoreDb.Benchmarks.Server;

/// <summary>
/// End-to-end ingest over REST with an ONNX encoder: the real server in this process (Kestrel on loopback, sync
/// durability, HNSW), HTTP clients posting batches of texts. The baseline, in the same run, is the encoder alone
/// embedding exactly the texts the server embeds (each chunk of a chunked document), with the same batch size and
/// concurrency — the ratio is what HTTP, JSON, chunking, the log and the index cost on top of the model.
/// </summary>
internal static class RestIngestBenchmark
{
    public static Command CreateCommand()
    {
        var model = new Option<string>("--model") { Description = "Built-in encoder (minilm, arctic-xs) or an encoder model folder.", DefaultValueFactory = _ => "minilm" };
        var documents = new Option<int>("--docs") { Description = "Documents per run.", DefaultValueFactory = _ => 1_000 };
        var batch = new Option<int>("--batch") { Description = "Documents per request.", DefaultValueFactory = _ => 32 };
        var clients = new Option<int>("--clients") { Description = "Concurrent HTTP clients.", DefaultValueFactory = _ => 4 };
        var texts = new Option<string>("--texts") { Description = "JSON lines with a \"long\" text per line.", DefaultValueFactory = _ => "../shared/models/vs-encoder-small/heldout_pairs.jsonl" };
        var command = new Command("ingest-rest", "Documents/s ingested over REST with an ONNX encoder, next to the encoder alone on the same texts.")
        {
            model, documents, batch, clients, texts,
        };
        command.SetAction(result => Run(result.GetValue(model)!, result.GetValue(texts)!, result.GetValue(documents), result.GetValue(batch), result.GetValue(clients)).GetAwaiter().GetResult());
        return command;
    }

    private static async Task<int> Run(string modelFolder, string textFile, int documentCount, int batchSize, int clientCount)
    {
        var passages = File.ReadLines(textFile).Select(line =>
        {
            using var json = JsonDocument.Parse(line);
            return json.RootElement.GetProperty("long").GetString()!;
        }).ToArray();
        // Short: one held-out passage per document. Long: ten passages joined, several encoder windows each.
        string[] shortTexts = [.. Enumerable.Range(0, documentCount).Select(i => passages[i % passages.Length])];
        string[] longTexts = [.. Enumerable.Range(0, documentCount / 4).Select(i => string.Join(" ", Enumerable.Range(0, 10).Select(j => passages[((i * 10) + j) % passages.Length])))];

        string data = Path.Combine(Path.GetTempPath(), $"vs-rest-ingest-{Guid.NewGuid():N}");
        var builtIn = BuiltInEncoders.Models.FirstOrDefault(m => m.Name == modelFolder);
        using var baselineRegistry = new VectorStoreDb.Embedding.EncoderRegistry();
        var app = VectorStoreServer.Build(
        [
            "--urls", "http://127.0.0.1:0",
            "--VectorStore:GrpcUrl=http://127.0.0.1:0",
            $"--VectorStore:DataPath={data}",
            "--Logging:LogLevel:Default=Warning",
            // Long documents on a loaded machine can exceed the 120 s request timeout; the benchmark measures the work.
            "--VectorStore:Server:RequestTimeoutSeconds=0",
            .. builtIn is null ? [$"--VectorStore:Encoders:bench:Path={modelFolder}"] : Array.Empty<string>(),
        ]);
        string encoderName = builtIn?.Name ?? "bench";
        await app.StartAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = app.Services.GetRequiredService<ListenAddresses>().Rest, Timeout = TimeSpan.FromMinutes(10) };
            while (!(await http.GetAsync("/readyz")).IsSuccessStatusCode)
            {
                await Task.Delay(50);
            }
            // The baseline is a second, separate session on the same model bytes.
            var encoder = builtIn is null
                ? OnnxTextEncoder.Load("baseline", modelFolder, new EncoderOptions())
                : BuiltInEncoders.AddTo(baselineRegistry, new BuiltInEncoderOptions { Preload = false }).Single(e => e.Name == builtIn.Name).Load();
            using var ownedEncoder = builtIn is null ? encoder : null;
            Console.WriteLine($"# REST ingest  {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC  load {File.ReadAllText("/proc/loadavg").Trim()}  {Environment.ProcessorCount} cores  model {Path.GetFileName(Path.GetFullPath(modelFolder).TrimEnd('/'))}, batches of {batchSize}, {clientCount} clients, sync durability, HNSW");
            Console.WriteLine();
            Console.WriteLine("| documents | count | vectors | REST documents/s | REST vectors/s | encoder alone texts/s | raw ONNX Runtime loop texts/s (baseline) | REST vs encoder | REST vs raw |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            // Warm the server's own encoder session (and Kestrel, JSON, the log) the way the baseline's is warmed.
            (await http.PutAsJsonAsync("/collections/warmup", new { encoder = encoderName })).EnsureSuccessStatusCode();
            (await http.PostAsJsonAsync("/collections/warmup/documents", new { documents = shortTexts.Take(64).Select(t => new { text = t }) })).EnsureSuccessStatusCode();
            await encoder.EmbedAsync(shortTexts[..64]);
            foreach (var (label, texts) in new[] { ("held-out passages (1 window)", shortTexts), ("10 passages joined (chunked)", longTexts) })
            {
                string collection = $"c{Guid.NewGuid():N}"[..20];
                (await http.PutAsJsonAsync($"/collections/{collection}", new { encoder = encoderName })).EnsureSuccessStatusCode();
                // Warm both paths on a few texts so neither pays for JIT or first-run graph optimisation in the measurement.
                await encoder.EmbedAsync(texts[..Math.Min(8, texts.Length)]);
                var embedded = texts.SelectMany(t => encoder.Chunk(t, 32).Select(c => c.Text)).ToArray();

                // The three sides run interleaved, one round (clients x batch documents) at a time and in rotating
                // order, so that load from other processes on a shared machine falls on all three alike.
                double restSeconds = 0, encoderSeconds = 0, rawSeconds = 0;
                int roundSize = batchSize * clientCount;
                for (int first = 0, round = 0; first < texts.Length; first += roundSize, round++)
                {
                    int count = Math.Min(roundSize, texts.Length - first);
                    string[] roundChunks = [.. texts.Skip(first).Take(count).SelectMany(t => encoder.Chunk(t, 32).Select(c => c.Text))];
                    for (int side = 0; side < 3; side++)
                    {
                        switch ((side + round) % 3)
                        {
                            case 0:
                                int offset = first;
                                restSeconds += await Parallel(count, batchSize, clientCount, async (from, n) =>
                                {
                                    var documents = Enumerable.Range(offset + from, n).Select(i => new { id = $"d{i}", text = texts[i] });
                                    (await http.PostAsJsonAsync($"/collections/{collection}/documents", new { documents })).EnsureSuccessStatusCode();
                                });
                                break;
                            case 1:
                                encoderSeconds += await Parallel(roundChunks.Length, batchSize, clientCount, (from, n) => encoder.EmbedAsync(roundChunks[from..(from + n)]));
                                break;
                            default:
                                rawSeconds += RawLoopSeconds(encoder, roundChunks, batchSize);
                                break;
                        }
                    }
                }
                long stored = JsonDocument.Parse(await http.GetStringAsync($"/collections/{collection}")).RootElement.GetProperty("documentCount").GetInt64();
                double restDocs = texts.Length / restSeconds;
                double encoderTexts = embedded.Length / encoderSeconds;
                double restVectors = embedded.Length / restSeconds;
                double rawTexts = embedded.Length / rawSeconds;
                Console.WriteLine($"| {label} | {stored:N0} | {embedded.Length:N0} | {restDocs:N1} | {restVectors:N1} | {encoderTexts:N1} | {rawTexts:N1} | {restVectors / encoderTexts:F2}× | {restVectors / rawTexts:F2}× |");
            }
            // Query latency over REST (dense, text embedded per query) next to embedding the query alone.
            string queryCollection = $"q{Guid.NewGuid():N}"[..20];
            (await http.PutAsJsonAsync($"/collections/{queryCollection}", new { encoder = encoderName })).EnsureSuccessStatusCode();
            (await http.PostAsJsonAsync($"/collections/{queryCollection}/documents", new { documents = shortTexts.Take(500).Select((t, i) => new { id = $"d{i}", text = t }) })).EnsureSuccessStatusCode();
            var restMs = new List<double>();
            var aloneMs = new List<double>();
            for (int i = 0; i < 200; i++)
            {
                string question = string.Join(' ', shortTexts[(i * 7) % shortTexts.Length].Split(' ').Take(8));
                var watch = Stopwatch.StartNew();
                (await http.PostAsJsonAsync($"/collections/{queryCollection}/query", new { text = question, k = 10 })).EnsureSuccessStatusCode();
                restMs.Add(watch.Elapsed.TotalMilliseconds);
                watch.Restart();
                await encoder.EmbedAsync([question]);
                aloneMs.Add(watch.Elapsed.TotalMilliseconds);
            }
            restMs.Sort();
            aloneMs.Sort();
            Console.WriteLine();
            Console.WriteLine("| query (500 documents, k 10, one client) | p50 ms | p99 ms |");
            Console.WriteLine("|---|---:|---:|");
            Console.WriteLine($"| REST /query with text | {restMs[100]:F1} | {restMs[197]:F1} |");
            Console.WriteLine($"| embedding the query alone (baseline) | {aloneMs[100]:F1} | {aloneMs[197]:F1} |");
            return 0;
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            try
            {
                Directory.Delete(data, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>
    /// The raw loop: the same texts tokenized beforehand (not timed), padded batches of <paramref name="batch"/> in
    /// input order run straight through the session, token states not pooled. No batcher, no HTTP, no storage.
    /// </summary>
    private static double RawLoopSeconds(OnnxTextEncoder encoder, string[] texts, int batch)
    {
        var sequences = texts.Select(t => encoder.Tokenizer.Encode(t, encoder.MaxTokens)).ToArray();
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < sequences.Length; i += batch)
        {
            Embedding.EncoderBenchmark.RunRaw(encoder, Embedding.EncoderBenchmark.RawInputs(encoder, sequences[i..Math.Min(sequences.Length, i + batch)]));
        }
        return watch.Elapsed.TotalSeconds;
    }

    /// <summary>Runs <paramref name="work"/> over [0, total) in batches from <paramref name="clients"/> concurrent loops; returns seconds.</summary>
    private static async Task<double> Parallel(int total, int batch, int clients, Func<int, int, Task> work)
    {
        int next = 0;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            for (int from; (from = Interlocked.Add(ref next, batch) - batch) < total;)
            {
                await work(from, Math.Min(batch, total - from));
            }
        })));
        return watch.Elapsed.TotalSeconds;
    }
}
