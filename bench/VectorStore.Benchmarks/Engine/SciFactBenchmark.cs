using System.Diagnostics;
using System.Text.Json;
using VectorStoreDb.Benchmarks.Embedding;
using VectorStoreDb.Engine;

namespace VectorStoreDb.Benchmarks.Engine;

/// <summary>
/// nDCG@10 on BEIR SciFact (5,183 abstracts, 300 test queries): documents are title + " " + text, embedded by the
/// demo encoder and indexed for BM25 (english analyser, k1 1.2, b 0.75). Every fused run is printed beside the
/// dense and text runs of the same collection; published BM25 (Lucene/Anserini) on SciFact is ≈ 0.665.
/// </summary>
internal static class SciFactBenchmark
{
    public static async Task<int> RunAsync(string path, string? onnxFolder, CancellationToken cancellationToken)
    {
        var qrels = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines(Path.Combine(path, "qrels", "test.tsv")).Skip(1))
        {
            var parts = line.Split('\t');
            if (parts.Length >= 3 && int.TryParse(parts[2], out int relevance) && relevance > 0)
            {
                (qrels.TryGetValue(parts[0], out var judged) ? judged : qrels[parts[0]] = new(StringComparer.Ordinal))[parts[1]] = relevance;
            }
        }
        var queries = new List<(string Id, string Text)>();
        foreach (string line in File.ReadLines(Path.Combine(path, "queries.jsonl")))
        {
            using var json = JsonDocument.Parse(line);
            string id = json.RootElement.GetProperty("_id").GetString()!;
            if (qrels.ContainsKey(id))
            {
                queries.Add((id, json.RootElement.GetProperty("text").GetString()!));
            }
        }
        var documents = new List<DocumentInput>();
        foreach (string line in File.ReadLines(Path.Combine(path, "corpus.jsonl")))
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            string title = root.TryGetProperty("title", out var t) ? t.GetString() ?? "" : "";
            documents.Add(new DocumentInput { Id = root.GetProperty("_id").GetString(), Text = (title + " " + root.GetProperty("text").GetString()).Trim() });
        }
        Console.WriteLine($"SciFact: {documents.Count:N0} documents, {queries.Count} test queries with judgements.");

        string folder = Path.Combine(Path.GetTempPath(), "vectorstore-scifact", Guid.NewGuid().ToString("N"));
        try
        {
            using var engine = VectorStoreEngine.Open(folder, configure: o => o.Limits.MaxTextLength = 1_000_000);
            await engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "scifact", Encoder = "demo", Text = true }, cancellationToken);
            var ingest = Stopwatch.StartNew();
            for (int i = 0; i < documents.Count; i += 500)
            {
                await engine.UpsertAsync("scifact", documents[i..Math.Min(documents.Count, i + 500)], cancellationToken);
            }
            Console.WriteLine($"Ingested (demo embeddings + BM25 index) in {ingest.Elapsed.TotalSeconds:F1} s.");

            await EvaluateAsync(engine, "scifact", "demo encoder", queries, qrels, null, cancellationToken);

            if (onnxFolder is not null)
            {
                using var encoder = new OnnxSentenceEncoder(onnxFolder);
                var check = encoder.Embed(["This is an example sentence"])[0];
                Console.WriteLine($"ONNX encoder {Path.GetFileName(onnxFolder.TrimEnd('/'))}: ids [{string.Join(", ", encoder.Tokenize("This is an example sentence"))}], embedding starts {check[0]:F6} {check[1]:F6}");
                ingest.Restart();
                var vectors = encoder.Embed([.. documents.Select(d => d.Text!)]);
                await engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "scifact-onnx", Encoder = "none", Dimension = vectors[0].Length, Text = true }, cancellationToken);
                for (int i = 0; i < documents.Count; i += 500)
                {
                    await engine.UpsertAsync("scifact-onnx", [.. documents[i..Math.Min(documents.Count, i + 500)].Select((d, j) => d with { Vector = vectors[i + j] })], cancellationToken);
                }
                Console.WriteLine($"Ingested (ONNX embeddings + BM25 index) in {ingest.Elapsed.TotalSeconds:F1} s.");
                var queryVectors = encoder.Embed([.. queries.Select(q => q.Text)]);
                await EvaluateAsync(engine, "scifact-onnx", "ONNX vs-encoder-small", queries, qrels, queryVectors, cancellationToken);
            }
        }
        finally
        {
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

    private static async Task EvaluateAsync(VectorStoreEngine engine, string collection, string dense, List<(string Id, string Text)> queries,
        Dictionary<string, Dictionary<string, int>> qrels, float[][]? queryVectors, CancellationToken cancellationToken)
    {
        var runs = new (string Name, QueryRequest Template)[]
        {
            ($"dense ({dense})", new QueryRequest { Mode = QueryModes.Dense }),
            ("text (BM25, english)", new QueryRequest { Mode = QueryModes.Text }),
            ("hybrid RRF k=60, weights 1:1", new QueryRequest { Mode = QueryModes.Hybrid }),
            ("hybrid RRF k=60, dense 0.5 : text 1", new QueryRequest { Mode = QueryModes.Hybrid, DenseWeight = 0.5f }),
            ("hybrid RRF k=60, dense 0.25 : text 1", new QueryRequest { Mode = QueryModes.Hybrid, DenseWeight = 0.25f }),
            ("hybrid RRF k=10, weights 1:1", new QueryRequest { Mode = QueryModes.Hybrid, RrfK = 10 }),
            ("hybrid DBSF, weights 1:1", new QueryRequest { Mode = QueryModes.Hybrid, Fusion = FusionKinds.Dbsf }),
            ("hybrid DBSF, dense 0.5 : text 1", new QueryRequest { Mode = QueryModes.Hybrid, Fusion = FusionKinds.Dbsf, DenseWeight = 0.5f }),
            ("hybrid DBSF, dense 0.25 : text 1", new QueryRequest { Mode = QueryModes.Hybrid, Fusion = FusionKinds.Dbsf, DenseWeight = 0.25f }),
        };
        Console.WriteLine();
        Console.WriteLine($"| run (SciFact test, {queries.Count} queries, dense = {dense}) | nDCG@10 | vs BM25 | recall@100 | ms/query |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        double bm25 = 0;
        var results = new List<(string, double, double, double)>();
        foreach (var (name, template) in runs)
        {
            double ndcg = 0, recall = 0;
            var stopwatch = Stopwatch.StartNew();
            for (int q = 0; q < queries.Count; q++)
            {
                var (id, text) = queries[q];
                var request = template with { Text = text, K = 100, Vector = template.Mode == QueryModes.Text ? null : queryVectors?[q] };
                var hits = await engine.QueryAsync(collection, request, cancellationToken);
                ndcg += Ndcg(hits, qrels[id], 10);
                recall += (double)hits.Count(h => qrels[id].ContainsKey(h.Id)) / qrels[id].Count;
            }
            double ms = stopwatch.Elapsed.TotalMilliseconds / queries.Count;
            ndcg /= queries.Count;
            recall /= queries.Count;
            if (template.Mode == QueryModes.Text)
            {
                bm25 = ndcg;
            }
            results.Add((name, ndcg, recall, ms));
        }
        foreach (var (name, ndcg, recall, ms) in results)
        {
            Console.WriteLine($"| {name} | {ndcg:F4} | {ndcg / bm25:F2}× | {recall:F4} | {ms:F1} |");
        }
        Console.WriteLine("| published BM25 (BEIR, Lucene/Anserini) | 0.665 | | | |");
    }

    /// <summary>nDCG@k with linear gains (pytrec_eval's ndcg_cut, as BEIR reports it).</summary>
    private static double Ndcg(IReadOnlyList<QueryHit> hits, Dictionary<string, int> judged, int k)
    {
        double dcg = 0;
        for (int i = 0; i < Math.Min(k, hits.Count); i++)
        {
            if (judged.TryGetValue(hits[i].Id, out int relevance))
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
