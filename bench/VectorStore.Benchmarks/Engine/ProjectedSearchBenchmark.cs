using System.CommandLine;
using System.Diagnostics;
using VectorStoreDb.Engine;

namespace VectorStoreDb.Benchmarks.Engine;

/// <summary>
/// Search through the engine on a projected HNSW collection next to a full-dimension HNSW collection holding the
/// same vectors (the baseline, same run): single-thread QPS, p50 latency and recall@10 against the exact answer.
/// Data: clustered vectors (what sentence embeddings look like), queries held out from the same clusters.
/// </summary>
internal static class ProjectedSearchBenchmark
{
    public static Command CreateCommand()
    {
        var documents = new Option<int>("--docs") { Description = "Vectors per collection.", DefaultValueFactory = _ => 20_000 };
        var dimension = new Option<int>("--dim") { Description = "Full vector dimension.", DefaultValueFactory = _ => 384 };
        var queries = new Option<int>("--queries") { Description = "Held-out queries.", DefaultValueFactory = _ => 500 };
        var command = new Command("projected-search", "QPS and recall@10 of projected (PCA, random) HNSW collections next to a full-dimension HNSW collection.")
        {
            documents, dimension, queries,
        };
        command.SetAction(result => Run(result.GetValue(documents), result.GetValue(dimension), result.GetValue(queries)));
        return command;
    }

    private static int Run(int documentCount, int dimension, int queryCount)
    {
        var all = Clustered(documentCount + queryCount, dimension, seed: 7);
        var vectors = all[..documentCount];
        var queries = all[documentCount..];
        string folder = Path.Combine(Path.GetTempPath(), $"vs-projected-{Guid.NewGuid():N}");
        try
        {
            using var engine = VectorStoreEngine.Open(folder, configure: o =>
            {
                o.Durability.Mode = DurabilityMode.Async;
                o.Durability.CheckpointIntervalSeconds = 0;
                o.Durability.CheckpointOnShutdown = false;
            });
            Console.WriteLine($"# Projected search  {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC  {Environment.ProcessorCount} cores  {documentCount:N0} × {dimension} clustered, {queryCount} held-out queries, k = 10, 1 thread");
            Console.WriteLine();
            Console.WriteLine("| collection | index dims | build s | QPS | p50 ms | recall@10 vs exact | QPS vs full |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
            var exact = Answers(engine, "full", queries, exactSearch: true, create: () => Create(engine, "full", "none", dimension, vectors), out _, out _, out double build);
            double baselineQps = 0;
            foreach (var (name, projection) in new[] { ("full", "none"), ("pca", "pca"), ("random", "random") })
            {
                if (name != "full")
                {
                    build = Time(() => Create(engine, name, projection, dimension, vectors));
                }
                var found = Answers(engine, name, queries, exactSearch: false, create: null, out double qps, out double p50, out _);
                double recall = found.Zip(exact).Average(p => p.First.Intersect(p.Second).Count() / 10.0);
                if (name == "full")
                {
                    baselineQps = qps;
                }
                int indexDimension = engine.GetCollection(name).Settings.IndexDimension;
                Console.WriteLine($"| {name}{(name == "full" ? " (baseline)" : "")} | {(indexDimension > 0 ? indexDimension : dimension)} | {build:F1} | {qps:N0} | {p50:F3} | {recall:F3} | {qps / baselineQps:F2}× |");
            }
            return 0;
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
    }

    private static void Create(VectorStoreEngine engine, string name, string projection, int dimension, List<float[]> vectors)
    {
        engine.CreateCollectionAsync(new CreateCollectionRequest
        {
            Name = name, Encoder = "none", Dimension = dimension, Metric = "cosine", Index = "hnsw", Projection = projection,
            PcaSampleSize = Math.Min(5_000, vectors.Count),
        }).GetAwaiter().GetResult();
        for (int start = 0; start < vectors.Count; start += 1_000)
        {
            int n = Math.Min(1_000, vectors.Count - start);
            engine.UpsertAsync(name, [.. Enumerable.Range(start, n).Select(i => new DocumentInput { Id = $"d{i}", Vector = vectors[i] })]).GetAwaiter().GetResult();
        }
    }

    private static double Time(Action action)
    {
        var watch = Stopwatch.StartNew();
        action();
        return watch.Elapsed.TotalSeconds;
    }

    private static List<string[]> Answers(VectorStoreEngine engine, string name, List<float[]> queries, bool exactSearch, Action? create, out double qps, out double p50, out double build)
    {
        build = create is null ? 0 : Time(create);
        var latencies = new double[queries.Count];
        var answers = new List<string[]>(queries.Count);
        // One warm-up pass so the first measured queries do not pay for JIT and cold caches.
        foreach (var query in queries.Take(50))
        {
            engine.QueryAsync(name, new QueryRequest { Vector = query, K = 10, Exact = exactSearch }).GetAwaiter().GetResult();
        }
        var total = Stopwatch.StartNew();
        for (int i = 0; i < queries.Count; i++)
        {
            long started = Stopwatch.GetTimestamp();
            var hits = engine.QueryAsync(name, new QueryRequest { Vector = queries[i], K = 10, Exact = exactSearch }).GetAwaiter().GetResult();
            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            answers.Add([.. hits.Select(h => h.Id)]);
        }
        qps = queries.Count / total.Elapsed.TotalSeconds;
        Array.Sort(latencies);
        p50 = latencies[latencies.Length / 2];
        return answers;
    }

    /// <summary>
    /// 200 Gaussian centres and points scattered around them with a decaying spectrum (dimension j's spread falls as
    /// 1/√(j+1)), as sentence embeddings' variance concentrates in their leading components.
    /// </summary>
    private static List<float[]> Clustered(int count, int dimension, int seed)
    {
        var random = new Random(seed);
        var centres = Enumerable.Range(0, 200).Select(_ => Gaussian(random, dimension, 1f).Select((c, j) => c / MathF.Sqrt(j + 1)).ToArray()).ToArray();
        var result = new List<float[]>(count);
        for (int i = 0; i < count; i++)
        {
            var centre = centres[random.Next(centres.Length)];
            var noise = Gaussian(random, dimension, 1.2f);
            result.Add([.. centre.Select((c, j) => c + (noise[j] / MathF.Sqrt(j + 1)))]);
        }
        return result;
    }

    private static float[] Gaussian(Random random, int dimension, float scale)
    {
        var vector = new float[dimension];
        for (int i = 0; i < dimension; i++)
        {
            vector[i] = scale * (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        }
        return vector;
    }
}
