using System.CommandLine;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
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
/// Fusions are chosen on one split (train) and reported on another (test): choosing on the reported split is refused,
/// because a fusion grid fitted to the 300 test queries would report an optimistic number.
/// </summary>
internal static class SciFactEncodersBenchmark
{
    /// <summary>MTEB's published SciFact nDCG@10 per model, where found (see docs/benchmarks/2026-12-06-encoders-scifact.md).</summary>
    private static readonly Dictionary<string, string> Published = new(StringComparer.Ordinal)
    {
        ["minilm"] = "0.645 (MTEB, all-MiniLM-L6-v2)",
        // The model card's MTEB results, as the MTEB results repository keeps them (Snowflake__snowflake-arctic-embed-xs/external/SciFact.json).
        ["arctic-xs"] = "0.645 (MTEB, snowflake-arctic-embed-xs: ndcg_at_10 64.512)",
    };

    private sealed record Options(string[] Encoders, string Split, string ChooseOn, bool Grid, int CompareTextIndex, string? DumpVectors, string? VectorCache);

    public static Command CreateCommand()
    {
        var path = new Option<string>("--data") { Description = "BEIR SciFact folder.", DefaultValueFactory = _ => "../shared/data/beir/scifact" };
        var encoders = new Option<string>("--encoders") { Description = "Comma-separated encoders.", DefaultValueFactory = _ => "minilm,arctic-xs,demo" };
        var split = new Option<string>("--split") { Description = "Judged queries the numbers are reported on: test (300) or train (809).", DefaultValueFactory = _ => "test" };
        var chooseOn = new Option<string>("--choose-on") { Description = "Split the best fusion is chosen on: train (default) or none. test is refused (it would fit the reported split).", DefaultValueFactory = _ => "train" };
        var grid = new Option<bool>("--grid") { Description = "Run the fusion/weight grid (false: dense, BM25 and the default hybrid only).", DefaultValueFactory = _ => true };
        var compareText = new Option<int>("--compare-text-index") { Description = "Ingest this many documents (embedded) into two more collections, with and without the text index, batches interleaved, and the whole corpus with its stored vectors (no embedding) the same way; print documents/s of each. 0: off." };
        var cache = new Option<string?>("--vector-cache") { Description = "Folder of <encoder>.jsonl ({id, vector} per line): documents found there are sent with their vector (embedded once, by an earlier run of this command); the file is rewritten with every stored vector after ingest." };
        var dump = new Option<string?>("--dump-vectors") { Description = "Write <folder>/<encoder>/scifact_base.fvecs (stored document vectors) and scifact_query.fvecs (report-split queries, query form) for the exact/quantization benchmark." };
        var command = new Command("scifact-encoders", "SciFact nDCG@10 over REST for the built-in encoders: dense (MTEB truncation), BM25 and hybrid fusions chosen on train, reported on test.")
        {
            path, encoders, split, chooseOn, grid, compareText, dump, cache,
        };
        command.SetAction((result, cancellationToken) => RunAsync(result.GetValue(path)!, new Options(
            result.GetValue(encoders)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            result.GetValue(split)!, result.GetValue(chooseOn)!, result.GetValue(grid), result.GetValue(compareText), result.GetValue(dump), result.GetValue(cache)), cancellationToken));
        return command;
    }

    private static readonly (string Name, object? Body)[] Baselines =
    [
        ("dense", new { mode = "dense" }),
        ("text (BM25)", new { mode = "text" }),
        ("hybrid default (no fusion or weights sent)", new { mode = "hybrid" }),
    ];

    // The grid the default is chosen from: DBSF and RRF at dense:text weights around 1:1 and RRF's k around 60.
    private static readonly (string Name, object? Body)[] Grid =
    [
        // DBSF 1:1 is the default row above (a query that names no fusion or weights).
        .. new[] { 0.5f, 2f }.Select(w => ($"hybrid DBSF dense {w} : text 1", (object?)new { mode = "hybrid", fusion = "dbsf", weights = new { dense = w, text = 1f } })),
        .. new[] { 0.5f, 1f, 2f }.Select(w => ($"hybrid RRF k=60 dense {w} : text 1", (object?)new { mode = "hybrid", fusion = "rrf", rrfK = 60, weights = new { dense = w, text = 1f } })),
    ];

    private static async Task<int> RunAsync(string path, Options options, CancellationToken cancellationToken)
    {
        if (options.ChooseOn == "test")
        {
            await Console.Error.WriteLineAsync("Refused: --choose-on test would pick the fusion on the queries the result is reported on (over-fitting). Choose on train, report on test.");
            return 2;
        }
        if (options.ChooseOn is not ("train" or "none") || options.Split is not ("train" or "test"))
        {
            await Console.Error.WriteLineAsync("--split is test or train; --choose-on is train or none.");
            return 2;
        }
        var report = SciFactData.Load(path, options.Split);
        var choose = options.ChooseOn == "none" ? null : options.ChooseOn == options.Split ? report : SciFactData.Load(path, options.ChooseOn);
        Console.WriteLine($"SciFact: {report.Documents.Count:N0} documents; reported on {options.Split} ({report.Queries.Count} judged queries)"
            + (choose is null ? ", no fusion chosen" : $", fusion chosen on {choose.Split} ({choose.Queries.Count} queries)")
            + (choose == report ? " — FLAG: chosen and reported on the same split, the chosen row is optimistic" : "")
            + $"; server over REST on 127.0.0.1; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load {Load()}.");
        string folder = Path.Combine(Path.GetTempPath(), "vectorstore-scifact-enc", Guid.NewGuid().ToString("N"));
        var app = VectorStoreServer.Build(["--urls", "http://127.0.0.1:0", "--VectorStore:GrpcUrl=http://127.0.0.1:0", $"--VectorStore:DataPath={folder}",
            "--Logging:LogLevel:Default=Warning", "--VectorStore:Limits:MaxTextLength=1000000",
            // A batch of 64 abstracts at 512 tokens can exceed the server's 120 s request timeout on a loaded machine.
            "--VectorStore:Server:RequestTimeoutSeconds=0"]);
        var started = Stopwatch.StartNew();
        await app.StartAsync(cancellationToken);
        Console.WriteLine($"Server started (built-in models preloaded) in {started.Elapsed.TotalSeconds:F1} s.");
        try
        {
            using var http = new HttpClient { BaseAddress = app.Services.GetRequiredService<ListenAddresses>().Rest, Timeout = TimeSpan.FromMinutes(10) };
            foreach (string encoder in options.Encoders)
            {
                await EvaluateAsync(http, encoder, report, choose, options, cancellationToken);
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

    /// <summary>The machine's load average (1, 5, 15 min), printed with every table: the CPU is shared.</summary>
    private static string Load()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static async Task EvaluateAsync(HttpClient http, string encoder, SciFactData report, SciFactData? choose, Options options, CancellationToken cancellationToken)
    {
        string collection = $"scifact-{encoder}";
        (await http.PutAsJsonAsync($"/collections/{collection}", new { encoder, text = true, chunking = false, index = "exact" }, cancellationToken)).EnsureSuccessStatusCode();
        string? cacheFile = options.VectorCache is null ? null : Path.Combine(options.VectorCache, $"{encoder}.jsonl");
        var cached = cacheFile is not null && File.Exists(cacheFile) ? ReadCache(cacheFile) : [];
        int embedded = report.Documents.Count(d => !cached.ContainsKey(d.Id));
        string loadBefore = Load();
        var ingest = Stopwatch.StartNew();
        foreach (var chunk in report.Documents.Chunk(64))
        {
            // A cached vector was computed by this same server path (document form, chunking off, same truncation).
            var documents = chunk.Select(d => cached.TryGetValue(d.Id, out var v) ? (object)new { id = d.Id, text = d.Text, vector = v } : new { id = d.Id, text = d.Text }).ToArray();
            (await http.PostAsJsonAsync($"/collections/{collection}/documents", new { documents }, cancellationToken)).EnsureSuccessStatusCode();
        }
        double seconds = ingest.Elapsed.TotalSeconds;
        Console.WriteLine();
        Console.WriteLine($"{encoder}: ingested {report.Documents.Count:N0} documents over REST (batches of 64, one client, chunking off, text index on), {embedded:N0} of them embedded "
            + $"({report.Documents.Count - embedded:N0} sent with cached vectors), in {seconds:F1} s. Load before {loadBefore}, after {Load()}.");
        var stored = await ReadVectorsAsync(http, collection, cancellationToken);
        if (cacheFile is not null)
        {
            Directory.CreateDirectory(options.VectorCache!);
            await File.WriteAllLinesAsync(cacheFile, stored.Select(v => JsonSerializer.Serialize(new { id = v.Id, vector = v.Vector })), cancellationToken);
        }
        if (options.DumpVectors is not null)
        {
            await DumpVectorsAsync(http, encoder, stored, report, Path.Combine(options.DumpVectors, encoder), cancellationToken);
        }
        if (options.CompareTextIndex > 0)
        {
            var vectors = stored.ToDictionary(v => v.Id, v => v.Vector, StringComparer.Ordinal);
            await CompareTextIndexAsync(http, encoder, [.. report.Documents.Take(options.CompareTextIndex)], null, cancellationToken);
            await CompareTextIndexAsync(http, encoder, report.Documents, vectors, cancellationToken);
        }

        var runs = options.Grid ? [.. Baselines, .. Grid] : Baselines;
        string? chosen = null;
        if (choose is not null && choose != report && options.Grid)
        {
            var chooseRows = await RunAllAsync(http, collection, choose, runs, cancellationToken);
            PrintTable($"{encoder}: choosing on SciFact {choose.Split} ({choose.Queries.Count} queries), load {Load()}", chooseRows, null);
            chosen = chooseRows.Where(r => r.Name.StartsWith("hybrid", StringComparison.Ordinal)).MaxBy(r => r.Ndcg).Name;
            Console.WriteLine($"Best hybrid on {choose.Split}: {chosen}.");
        }
        var rows = await RunAllAsync(http, collection, report, runs, cancellationToken);
        if (choose == report && options.Grid)
        {
            chosen = rows.Where(r => r.Name.StartsWith("hybrid", StringComparison.Ordinal)).MaxBy(r => r.Ndcg).Name;
        }
        PrintTable($"{encoder}: reported on SciFact {report.Split} ({report.Queries.Count} queries), load {Load()}", rows, chosen);
        double dense = rows.Single(r => r.Name == "dense").Ndcg;
        double bm25 = rows.Single(r => r.Name.StartsWith("text", StringComparison.Ordinal)).Ndcg;
        double hybrid = rows.Single(r => r.Name.StartsWith("hybrid default", StringComparison.Ordinal)).Ndcg;
        Console.WriteLine($"Default hybrid {hybrid:F4} vs max(dense {dense:F4}, BM25 {bm25:F4}) = {Math.Max(dense, bm25):F4}: {(hybrid >= Math.Max(dense, bm25) ? "holds" : "FAILS")} on {report.Split}.");
        if (Published.TryGetValue(encoder, out var published))
        {
            Console.WriteLine($"Published dense: {published}; ours {dense:F4}.");
        }
        (await http.DeleteAsync($"/collections/{collection}", cancellationToken)).EnsureSuccessStatusCode();
    }

    private static void PrintTable(string title, List<(string Name, double Ndcg, double Recall, double Ms)> rows, string? chosen)
    {
        double bm25 = rows.Single(r => r.Name.StartsWith("text", StringComparison.Ordinal)).Ndcg;
        Console.WriteLine();
        Console.WriteLine($"| {title} | nDCG@10 | vs BM25 | recall@100 | ms/query |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var (name, ndcg, recall, ms) in rows)
        {
            Console.WriteLine($"| {name}{(name == chosen ? " (chosen on train)" : "")} | {ndcg:F4} | {ndcg / bm25:F3}× | {recall:F4} | {ms:F1} |");
        }
    }

    private static async Task<List<(string Name, double Ndcg, double Recall, double Ms)>> RunAllAsync(HttpClient http, string collection, SciFactData data,
        (string Name, object? Body)[] runs, CancellationToken cancellationToken)
    {
        var rows = new List<(string Name, double Ndcg, double Recall, double Ms)>();
        foreach (var (name, body) in runs)
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
            rows.Add((name, ndcg / data.Queries.Count, recall / data.Queries.Count, stopwatch.Elapsed.TotalMilliseconds / data.Queries.Count));
        }
        return rows;
    }

    /// <summary>
    /// Ingest documents/s with and without the BM25 index, same documents, batches of 32 alternating between the two
    /// collections (and which goes first) so load changes on the shared machine hit both alike. With
    /// <paramref name="vectors"/> the documents carry their stored vectors: the text index's own cost, without embedding.
    /// </summary>
    private static async Task CompareTextIndexAsync(HttpClient http, string encoder, IReadOnlyList<(string Id, string Text)> documents,
        Dictionary<string, float[]>? vectors, CancellationToken cancellationToken)
    {
        string tag = vectors is null ? "embed" : "vectors";
        string[] names = [$"cmp-{tag}-text", $"cmp-{tag}-notext"];
        foreach (var (name, text) in new[] { (names[0], true), (names[1], false) })
        {
            (await http.PutAsJsonAsync($"/collections/{name}", new { encoder, text, chunking = false, index = "exact" }, cancellationToken)).EnsureSuccessStatusCode();
        }
        double[] seconds = [0, 0];
        string loadBefore = Load();
        int b = 0;
        foreach (var chunk in documents.Chunk(32))
        {
            var body = new { documents = chunk.Select(d => vectors is null ? (object)new { id = d.Id, text = d.Text } : new { id = d.Id, text = d.Text, vector = vectors[d.Id] }).ToArray() };
            foreach (int side in b++ % 2 == 0 ? [0, 1] : new[] { 1, 0 })
            {
                var watch = Stopwatch.StartNew();
                (await http.PostAsJsonAsync($"/collections/{names[side]}/documents", body, cancellationToken)).EnsureSuccessStatusCode();
                seconds[side] += watch.Elapsed.TotalSeconds;
            }
        }
        int n = documents.Count;
        Console.WriteLine($"Text index on/off, {n:N0} documents {(vectors is null ? $"embedded by {encoder}" : "sent with their stored vectors (no embedding)")}, batches of 32 interleaved: "
            + $"with {n / seconds[0]:F1} documents/s ({seconds[0] * 1e3 / n:F2} ms/document), without {n / seconds[1]:F1} documents/s ({seconds[1] * 1e3 / n:F2} ms/document); "
            + $"the index costs {(seconds[0] - seconds[1]) * 1e3 / n:F2} ms/document = {(seconds[0] / seconds[1] - 1) * 100:F1} % of ingest time. Load before {loadBefore}, after {Load()}.");
        foreach (string name in names)
        {
            (await http.DeleteAsync($"/collections/{name}", cancellationToken)).EnsureSuccessStatusCode();
        }
    }

    private static Dictionary<string, float[]> ReadCache(string file)
    {
        var vectors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines(file))
        {
            using var json = JsonDocument.Parse(line);
            vectors[json.RootElement.GetProperty("id").GetString()!] = json.RootElement.GetProperty("vector").Deserialize<float[]>()!;
        }
        return vectors;
    }

    /// <summary>Every stored document vector, read back over REST (each was computed once, at ingest).</summary>
    private static async Task<List<(string Id, float[] Vector)>> ReadVectorsAsync(HttpClient http, string collection, CancellationToken cancellationToken)
    {
        var vectors = new List<(string, float[])>();
        string? after = null;
        do
        {
            using var page = JsonDocument.Parse(await http.GetStringAsync(
                $"/collections/{collection}/documents?limit=1000&includeVectors=true{(after is null ? "" : "&after=" + Uri.EscapeDataString(after))}", cancellationToken));
            foreach (var document in page.RootElement.GetProperty("documents").EnumerateArray())
            {
                vectors.Add((document.GetProperty("id").GetString()!, document.GetProperty("vector").Deserialize<float[]>()!));
            }
            after = page.RootElement.TryGetProperty("nextAfter", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
        }
        while (after is not null);
        return vectors;
    }

    /// <summary>
    /// The stored document vectors and the report split's queries embedded in the query form, as fvecs for
    /// <c>exact --data</c> (binary/int8 recall on real embeddings).
    /// </summary>
    private static async Task DumpVectorsAsync(HttpClient http, string encoder, List<(string Id, float[] Vector)> stored, SciFactData data, string folder, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        var queries = new List<float[]>();
        foreach (var chunk in data.Queries.Chunk(64))
        {
            var response = await http.PostAsJsonAsync("/embed", new { texts = chunk.Select(q => q.Text).ToArray(), encoder, inputType = "query" }, cancellationToken);
            response.EnsureSuccessStatusCode();
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            queries.AddRange(json.RootElement.GetProperty("embeddings").EnumerateArray().Select(e => e.Deserialize<float[]>()!));
        }
        WriteFvecs(Path.Combine(folder, "scifact_base.fvecs"), [.. stored.Select(v => v.Vector)]);
        WriteFvecs(Path.Combine(folder, "scifact_query.fvecs"), queries);
        Console.WriteLine($"Wrote {stored.Count:N0} document and {queries.Count} query vectors ({stored[0].Vector.Length}-d) to {folder}.");
    }

    private static void WriteFvecs(string path, List<float[]> rows)
    {
        using var stream = new BufferedStream(File.Create(path), 1 << 20);
        foreach (var row in rows)
        {
            stream.Write(BitConverter.GetBytes(row.Length));
            stream.Write(MemoryMarshal.AsBytes(row.AsSpan()));
        }
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
