using System.CommandLine;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using VectorStoreDb.Server;
using VectorStoreDb.Server.Hosting;

namespace VectorStoreDb.Benchmarks.Engine;

/// <summary>
/// nDCG@10 on BEIR SciFact through the real server over REST, the way MTEB evaluates a model: each document is
/// title + " " + text embedded whole and truncated at the model's max_seq_length (chunking off), queries embedded in
/// the model's query form, exact search. Per encoder (built-in minilm and arctic-xs, demo) the same collection also
/// holds the BM25 index, so dense, text and every hybrid fusion are measured on identical data in one run.
/// </summary>
internal static class SciFactEncodersBenchmark
{
    /// <summary>MTEB's published SciFact nDCG@10 per model, where found (see docs/benchmarks/2026-12-06-encoders-scifact.md).</summary>
    private static readonly Dictionary<string, string> Published = new(StringComparer.Ordinal)
    {
        ["minilm"] = "0.645 (MTEB, all-MiniLM-L6-v2)",
    };

    public static Command CreateCommand()
    {
        var path = new Option<string>("--data") { Description = "BEIR SciFact folder.", DefaultValueFactory = _ => "../shared/data/beir/scifact" };
        var encoders = new Option<string>("--encoders") { Description = "Comma-separated encoders.", DefaultValueFactory = _ => "minilm,arctic-xs,demo" };
        var split = new Option<string>("--split") { Description = "Judged queries: test (300) or train (809).", DefaultValueFactory = _ => "test" };
        var command = new Command("scifact-encoders", "SciFact nDCG@10 over REST for the built-in encoders: dense (MTEB truncation), BM25 and hybrid fusions.") { path, encoders, split };
        command.SetAction((result, cancellationToken) => RunAsync(result.GetValue(path)!, result.GetValue(encoders)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            result.GetValue(split)!, cancellationToken));
        return command;
    }

    private static readonly (string Name, object? Body)[] Runs =
    [
        ("dense", new { mode = "dense" }),
        ("text (BM25)", new { mode = "text" }),
        ("hybrid default (DBSF 1:1)", new { mode = "hybrid" }),
        ("hybrid DBSF dense 0.5 : text 1", new { mode = "hybrid", fusion = "dbsf", weights = new { dense = 0.5f, text = 1f } }),
        ("hybrid DBSF dense 2 : text 1", new { mode = "hybrid", fusion = "dbsf", weights = new { dense = 2f, text = 1f } }),
        ("hybrid RRF k=60 1:1", new { mode = "hybrid", fusion = "rrf" }),
        ("hybrid RRF k=60 dense 0.5 : text 1", new { mode = "hybrid", fusion = "rrf", weights = new { dense = 0.5f, text = 1f } }),
    ];

    public static async Task<int> RunAsync(string path, string[] encoders, string split, CancellationToken cancellationToken)
    {
        var data = SciFactData.Load(path, split);
        Console.WriteLine($"SciFact ({split}): {data.Documents.Count:N0} documents, {data.Queries.Count} judged queries; server over REST on 127.0.0.1.");
        string folder = Path.Combine(Path.GetTempPath(), "vectorstore-scifact-enc", Guid.NewGuid().ToString("N"));
        var app = VectorStoreServer.Build(["--urls", "http://127.0.0.1:0", "--VectorStore:GrpcUrl=http://127.0.0.1:0", $"--VectorStore:DataPath={folder}",
            "--Logging:LogLevel:Default=Warning", "--VectorStore:Limits:MaxTextLength=1000000"]);
        var started = Stopwatch.StartNew();
        await app.StartAsync(cancellationToken);
        Console.WriteLine($"Server started (built-in models preloaded) in {started.Elapsed.TotalSeconds:F1} s.");
        try
        {
            using var http = new HttpClient { BaseAddress = app.Services.GetRequiredService<ListenAddresses>().Rest, Timeout = TimeSpan.FromMinutes(10) };
            foreach (string encoder in encoders)
            {
                await EvaluateAsync(http, encoder, data, cancellationToken);
            }
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
        return 0;
    }

    private static async Task EvaluateAsync(HttpClient http, string encoder, SciFactData data, CancellationToken cancellationToken)
    {
        string collection = $"scifact-{encoder}";
        (await http.PutAsJsonAsync($"/collections/{collection}", new { encoder, text = true, chunking = false, index = "exact" }, cancellationToken)).EnsureSuccessStatusCode();
        var ingest = Stopwatch.StartNew();
        for (int i = 0; i < data.Documents.Count; i += 64)
        {
            var batch = data.Documents.Skip(i).Take(64).Select(d => new { id = d.Id, text = d.Text }).ToArray();
            (await http.PostAsJsonAsync($"/collections/{collection}/documents", new { documents = batch }, cancellationToken)).EnsureSuccessStatusCode();
        }
        double seconds = ingest.Elapsed.TotalSeconds;
        Console.WriteLine();
        Console.WriteLine($"{encoder}: ingested {data.Documents.Count:N0} documents (embedding + BM25, chunking off) in {seconds:F1} s = {data.Documents.Count / seconds:F0} documents/s.");
        Console.WriteLine($"| {encoder} (SciFact {data.Split}, {data.Queries.Count} queries) | nDCG@10 | vs BM25 | recall@100 | ms/query |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        double bm25 = 0;
        var rows = new List<(string Name, double Ndcg, double Recall, double Ms)>();
        foreach (var (name, body) in Runs)
        {
            var element = JsonSerializer.SerializeToElement(body);
            double ndcg = 0, recall = 0;
            var stopwatch = Stopwatch.StartNew();
            foreach (var (id, text) in data.Queries)
            {
                var request = new Dictionary<string, object?> { ["text"] = text, ["k"] = 100 };
                foreach (var property in element.EnumerateObject())
                {
                    request[property.Name] = property.Value;
                }
                var response = await http.PostAsJsonAsync($"/collections/{collection}/query", request, cancellationToken);
                response.EnsureSuccessStatusCode();
                using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
                var ids = json.RootElement.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("id").GetString()!).ToList();
                ndcg += SciFactData.Ndcg(ids, data.Qrels[id], 10);
                recall += (double)ids.Count(data.Qrels[id].ContainsKey) / data.Qrels[id].Count;
            }
            double ms = stopwatch.Elapsed.TotalMilliseconds / data.Queries.Count;
            ndcg /= data.Queries.Count;
            recall /= data.Queries.Count;
            if (name.StartsWith("text", StringComparison.Ordinal))
            {
                bm25 = ndcg;
            }
            rows.Add((name, ndcg, recall, ms));
        }
        foreach (var (name, ndcg, recall, ms) in rows)
        {
            Console.WriteLine($"| {name} | {ndcg:F4} | {ndcg / bm25:F2}× | {recall:F4} | {ms:F1} |");
        }
        if (Published.TryGetValue(encoder, out var published))
        {
            Console.WriteLine($"| published dense: {published} | | | | |");
        }
        (await http.DeleteAsync($"/collections/{collection}", cancellationToken)).EnsureSuccessStatusCode();
    }
}

/// <summary>BEIR SciFact read from its folder: documents as title + " " + text (BEIR's and MTEB's concatenation) and the judged queries of one split.</summary>
internal sealed record SciFactData(string Split, List<(string Id, string Text)> Documents, List<(string Id, string Text)> Queries,
    Dictionary<string, Dictionary<string, int>> Qrels)
{
    public static SciFactData Load(string path, string split)
    {
        var qrels = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines(Path.Combine(path, "qrels", $"{split}.tsv")).Skip(1))
        {
            var parts = line.Split('\t');
            if (parts.Length >= 3 && int.TryParse(parts[2], out int relevance) && relevance > 0)
            {
                (qrels.TryGetValue(parts[0], out var judged) ? judged : qrels[parts[0]] = new(StringComparer.Ordinal))[parts[1]] = relevance;
            }
        }
        var queries = new List<(string, string)>();
        foreach (string line in File.ReadLines(Path.Combine(path, "queries.jsonl")))
        {
            using var json = JsonDocument.Parse(line);
            string id = json.RootElement.GetProperty("_id").GetString()!;
            if (qrels.ContainsKey(id))
            {
                queries.Add((id, json.RootElement.GetProperty("text").GetString()!));
            }
        }
        var documents = new List<(string, string)>();
        foreach (string line in File.ReadLines(Path.Combine(path, "corpus.jsonl")))
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            string title = root.TryGetProperty("title", out var t) ? t.GetString() ?? "" : "";
            documents.Add((root.GetProperty("_id").GetString()!, (title + " " + root.GetProperty("text").GetString()).Trim()));
        }
        return new SciFactData(split, documents, queries, qrels);
    }

    /// <summary>nDCG@k with linear gains (pytrec_eval's ndcg_cut, as BEIR and MTEB report it).</summary>
    public static double Ndcg(IReadOnlyList<string> ranked, Dictionary<string, int> judged, int k)
    {
        double dcg = 0;
        for (int i = 0; i < Math.Min(k, ranked.Count); i++)
        {
            if (judged.TryGetValue(ranked[i], out int relevance))
            {
                dcg += relevance / Math.Log2(i + 2);
            }
        }
        double ideal = 0;
        int rank = 0;
        foreach (int relevance in judged.Values.OrderDescending().Take(k))
        {
            ideal += relevance / Math.Log2(rank++ + 2);
        }
        return ideal == 0 ? 0 : dcg / ideal;
    }
}
