using System.Diagnostics;
using System.Text.Json;
using VectorStoreDb.Embedding.Onnx;
using VectorStoreDb.Engine.Projection;
using VectorStoreDb.Index;

namespace VectorStoreDb.Benchmarks;

/// <summary>
/// How much a projected index loses: the held-out long texts are the documents, the short texts the queries; the
/// baseline is exact top-10 by full-dimension dot product (the same run), and each projection's top-10 — taken
/// directly, and after rescoring its top 4k candidates with the full vectors — is compared with it (recall@10).
/// </summary>
internal static class ProjectionBenchmark
{
    private const int K = 10;

    public static int Run(string modelFolder, int pairCount, double fraction)
    {
        using var encoder = OnnxTextEncoder.Load("bench", modelFolder, new EncoderOptions { IntraOpThreads = Environment.ProcessorCount });
        var pairs = File.ReadLines(Path.Combine(modelFolder, "heldout_pairs.jsonl")).Take(pairCount).Select(l =>
        {
            using var doc = JsonDocument.Parse(l);
            return (Short: doc.RootElement.GetProperty("short").GetString()!, Long: doc.RootElement.GetProperty("long").GetString()!);
        }).ToArray();
        var watch = Stopwatch.StartNew();
        var queries = encoder.EmbedAsync([.. pairs.Select(p => p.Short)]).GetAwaiter().GetResult();
        var documents = encoder.EmbedAsync([.. pairs.Select(p => p.Long)]).GetAwaiter().GetResult();
        int dim = encoder.Dimension;
        int indexDim = Math.Max(1, (int)Math.Round(dim * fraction));
        Console.WriteLine($"# Projection benchmark  {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC  {Environment.ProcessorCount} cores");
        Console.WriteLine($"{pairs.Length} documents / queries from heldout_pairs.jsonl embedded with {Path.GetFileName(Path.GetFullPath(modelFolder).TrimEnd('/'))} in {watch.Elapsed.TotalSeconds:F1} s; dimension {dim} -> index {indexDim}");
        Console.WriteLine();

        var exact = queries.Select(q => TopK(documents, q, K)).ToArray();
        int pairHits = queries.Select((q, i) => exact[i].Contains(i) ? 1 : 0).Sum();
        Console.WriteLine($"Task recall@10 (own long text in the exact top 10): {pairHits / (double)pairs.Length:F3}");
        Console.WriteLine();
        Console.WriteLine("| projection | index dims | recall@10 vs exact, no rescoring | rescored (top 40 candidates) | rescored (top 100) | fit ms |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (string kind in new[] { "random", "pca" })
        {
            var fit = Stopwatch.StartNew();
            // PCA is fitted on a sample of the documents, as a collection would at creation.
            var projection = ProjectionSerializer.Create(kind, dim, indexDim, [.. documents.Take(Math.Min(1000, documents.Length))], seed: 42);
            double fitMs = fit.Elapsed.TotalMilliseconds;
            var projectedDocs = documents.Select(d => Project(projection, d)).ToArray();
            var projectedQueries = queries.Select(q => Project(projection, q)).ToArray();
            double plain = 0, rescored40 = 0, rescored100 = 0;
            for (int q = 0; q < queries.Length; q++)
            {
                plain += Overlap(TopK(projectedDocs, projectedQueries[q], K), exact[q]);
                rescored40 += Overlap(Rescore(TopK(projectedDocs, projectedQueries[q], 4 * K), documents, queries[q]), exact[q]);
                rescored100 += Overlap(Rescore(TopK(projectedDocs, projectedQueries[q], 10 * K), documents, queries[q]), exact[q]);
            }
            int n = queries.Length * K;
            Console.WriteLine($"| {kind} | {indexDim} | {plain / n:F3} | {rescored40 / n:F3} | {rescored100 / n:F3} | {fitMs:F0} |");
        }
        return 0;
    }

    private static float[] Project(IProjection projection, float[] vector)
    {
        var output = new float[projection.OutputDimension];
        projection.Project(vector, output);
        return output;
    }

    private static int[] TopK(float[][] documents, float[] query, int k) =>
        [.. Enumerable.Range(0, documents.Length).OrderByDescending(i => VectorKernels.Dot(documents[i], query)).ThenBy(i => i).Take(k)];

    private static int[] Rescore(int[] candidates, float[][] documents, float[] query) =>
        [.. candidates.OrderByDescending(i => VectorKernels.Dot(documents[i], query)).ThenBy(i => i).Take(K)];

    private static int Overlap(int[] found, int[] truth) => found.Count(truth.Contains);
}
