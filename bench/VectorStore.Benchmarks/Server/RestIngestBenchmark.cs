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
        var model = new Option<string>("--model") { Description = "Encoder model folder.", DefaultValueFactory = _ => "../shared/models/vs-encoder-small" };
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
        var app = VectorStoreServer.Build(
        [
            "--urls", "http://127.0.0.1:0",
            "--VectorStore:GrpcUrl=http://127.0.0.1:0",
            $"--VectorStore:DataPath={data}",
            $"--VectorStore:Encoders:bench:Path={modelFolder}",
            "--Logging:LogLevel:Default=Warning",
        ]);
        await app.StartAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = app.Services.GetRequiredService<ListenAddresses>().Rest, Timeout = TimeSpan.FromMinutes(10) };
            while (!(await http.GetAsync("/readyz")).IsSuccessStatusCode)
            {
                await Task.Delay(50);
            }
            using var encoder = OnnxTextEncoder.Load("baseline", modelFolder, new EncoderOptions());
            Console.WriteLine($"# REST ingest  {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC  {Environment.ProcessorCount} cores  model {Path.GetFileName(Path.GetFullPath(modelFolder).TrimEnd('/'))}, batches of {batchSize}, {clientCount} clients, sync durability, HNSW");
            Console.WriteLine();
            Console.WriteLine("| documents | count | vectors | REST documents/s | REST vectors/s | encoder alone texts/s (baseline) | REST vs encoder |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
            // Warm the server's own encoder session (and Kestrel, JSON, the log) the way the baseline's is warmed.
            (await http.PutAsJsonAsync("/collections/warmup", new { encoder = "bench" })).EnsureSuccessStatusCode();
            (await http.PostAsJsonAsync("/collections/warmup/documents", new { documents = shortTexts.Take(64).Select(t => new { text = t }) })).EnsureSuccessStatusCode();
            await encoder.EmbedAsync(shortTexts[..64]);
            foreach (var (label, texts) in new[] { ("held-out passages (1 window)", shortTexts), ("10 passages joined (chunked)", longTexts) })
            {
                string collection = $"c{Guid.NewGuid():N}"[..20];
                (await http.PutAsJsonAsync($"/collections/{collection}", new { encoder = "bench" })).EnsureSuccessStatusCode();
                // Warm both paths on a few texts so neither pays for JIT or first-run graph optimisation in the measurement.
                await encoder.EmbedAsync(texts[..Math.Min(8, texts.Length)]);
                var embedded = texts.SelectMany(t => encoder.Chunk(t, 32).Select(c => c.Text)).ToArray();

                double restSeconds = await Parallel(texts.Length, batchSize, clientCount, async (from, count) =>
                {
                    var documents = Enumerable.Range(from, count).Select(i => new { id = $"d{i}", text = texts[i] });
                    (await http.PostAsJsonAsync($"/collections/{collection}/documents", new { documents })).EnsureSuccessStatusCode();
                });
                long stored = JsonDocument.Parse(await http.GetStringAsync($"/collections/{collection}")).RootElement.GetProperty("documentCount").GetInt64();
                double encoderSeconds = await Parallel(embedded.Length, batchSize, clientCount, (from, count) => encoder.EmbedAsync(embedded[from..(from + count)]));
                double restDocs = texts.Length / restSeconds;
                double encoderTexts = embedded.Length / encoderSeconds;
                double restVectors = embedded.Length / restSeconds;
                Console.WriteLine($"| {label} | {stored:N0} | {embedded.Length:N0} | {restDocs:N1} | {restVectors:N1} | {encoderTexts:N1} | {restVectors / encoderTexts:F2}× |");
            }
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
