using System.Diagnostics;
using VectorStoreDb.Engine;

namespace VectorStoreDb.Benchmarks.Engine;

/// <summary>
/// Generated corpus (Zipf-distributed pseudo-words, 30–60 per document, random 256-d vectors given explicitly so
/// that embedding cost does not hide search and indexing cost). Measures ingest with and without the text index in
/// the same run, then single-thread latency and QPS per query mode, dense being the baseline.
/// </summary>
internal static class HybridBenchmark
{
    private const int Dimension = 256;
    private const int Vocabulary = 50_000;
    private const int Batch = 1_000;

    public static async Task<int> RunAsync(int documentCount, int queryCount, CancellationToken cancellationToken)
    {
        var random = new Random(42);
        string[] words = MakeWords(random);
        var zipf = new Zipf(Vocabulary, 1.0, random);
        Console.WriteLine($"Generating {documentCount:N0} documents ({Vocabulary:N0}-word Zipf vocabulary, 30-60 words, {Dimension}-d vectors)...");
        var documents = new DocumentInput[documentCount];
        for (int i = 0; i < documentCount; i++)
        {
            int length = random.Next(30, 61);
            var text = string.Join(' ', Enumerable.Range(0, length).Select(_ => words[zipf.Next()]));
            documents[i] = new DocumentInput { Id = $"doc-{i}", Text = text, Vector = RandomVector(random), Metadata = new Dictionary<string, MetadataValue> { ["bucket"] = MetadataValue.Of(i % 10) } };
        }

        string folder = Path.Combine(Path.GetTempPath(), "vectorstore-hybrid-bench", Guid.NewGuid().ToString("N"));
        try
        {
            using var engine = VectorStoreEngine.Open(folder);
            await engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "plain", Encoder = "none", Dimension = Dimension, Index = "exact" }, cancellationToken);
            await engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "text", Encoder = "none", Dimension = Dimension, Text = true, Index = "exact" }, cancellationToken);
            double plainRate = await IngestAsync(engine, "plain", documents, cancellationToken);
            double textRate = await IngestAsync(engine, "text", documents, cancellationToken);
            Console.WriteLine();
            Console.WriteLine("| ingest (embedded engine, batches of 1,000, vectors given) | documents/s | vs no text index |");
            Console.WriteLine("|---|---:|---:|");
            Console.WriteLine($"| no text index (baseline) | {plainRate:N0} | 1.00× |");
            Console.WriteLine($"| with text index (english analyser) | {textRate:N0} | {textRate / plainRate:F2}× |");

            // Queries: two to four mid-frequency words (ranks 50-5,000: the kind of words users type) plus a vector.
            var queries = Enumerable.Range(0, queryCount).Select(_ => (
                Text: string.Join(' ', Enumerable.Range(0, random.Next(2, 5)).Select(_ => words[random.Next(50, 5_000)])),
                Vector: RandomVector(random))).ToArray();
            var filter = VectorStoreDb.Engine.Filtering.MetadataFilter.Parse(System.Text.Json.JsonDocument.Parse("""{"bucket":{"$lt":5}}""").RootElement);
            var modes = new (string Name, Func<(string Text, float[] Vector), QueryRequest> Make)[]
            {
                ("dense (exact scan, baseline)", q => new QueryRequest { Vector = q.Vector, K = 10 }),
                ("text (BM25)", q => new QueryRequest { Text = q.Text, Mode = QueryModes.Text, K = 10 }),
                ("hybrid RRF (prefetch 100)", q => new QueryRequest { Text = q.Text, Vector = q.Vector, Mode = QueryModes.Hybrid, K = 10 }),
                ("hybrid DBSF (prefetch 100)", q => new QueryRequest { Text = q.Text, Vector = q.Vector, Mode = QueryModes.Hybrid, Fusion = FusionKinds.Dbsf, K = 10 }),
                ("dense + filter (50% pass)", q => new QueryRequest { Vector = q.Vector, K = 10, Filter = filter }),
                ("text + filter (50% pass)", q => new QueryRequest { Text = q.Text, Mode = QueryModes.Text, K = 10, Filter = filter }),
                ("hybrid RRF + filter (50% pass)", q => new QueryRequest { Text = q.Text, Vector = q.Vector, Mode = QueryModes.Hybrid, K = 10, Filter = filter }),
            };
            Console.WriteLine();
            Console.WriteLine($"| query mode ({documentCount:N0} docs, k = 10, 1 thread) | p50 ms | p99 ms | QPS | QPS vs dense |");
            Console.WriteLine("|---|---:|---:|---:|---:|");
            double baseline = 0;
            foreach (var (name, make) in modes)
            {
                for (int i = 0; i < Math.Min(20, queries.Length); i++)
                {
                    await engine.QueryAsync("text", make(queries[i]), cancellationToken); // warm-up
                }
                var latencies = new double[queries.Length];
                var total = Stopwatch.StartNew();
                for (int i = 0; i < queries.Length; i++)
                {
                    long start = Stopwatch.GetTimestamp();
                    await engine.QueryAsync("text", make(queries[i]), cancellationToken);
                    latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                }
                double qps = queries.Length / total.Elapsed.TotalSeconds;
                if (baseline == 0)
                {
                    baseline = qps;
                }
                Array.Sort(latencies);
                Console.WriteLine($"| {name} | {latencies[latencies.Length / 2]:F2} | {latencies[(int)(latencies.Length * 0.99)]:F2} | {qps:N0} | {qps / baseline:F2}× |");
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

    private static async Task<double> IngestAsync(VectorStoreEngine engine, string collection, DocumentInput[] documents, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        for (int i = 0; i < documents.Length; i += Batch)
        {
            await engine.UpsertAsync(collection, documents[i..Math.Min(documents.Length, i + Batch)], cancellationToken);
        }
        return documents.Length / stopwatch.Elapsed.TotalSeconds;
    }

    private static float[] RandomVector(Random random)
    {
        var vector = new float[Dimension];
        for (int i = 0; i < vector.Length; i++)
        {
            vector[i] = (float)(random.NextDouble() * 2 - 1);
        }
        return vector;
    }

    // Pronounceable pseudo-words, so the English analyser (stemmer, stop words) does real work on them.
    private static string[] MakeWords(Random random)
    {
        string[] onsets = ["b", "c", "d", "f", "g", "l", "m", "n", "p", "r", "s", "t", "v", "br", "cr", "st", "tr", "pl"];
        string[] vowels = ["a", "e", "i", "o", "u", "ai", "ea", "ou"];
        string[] codas = ["", "n", "r", "s", "t", "l", "ng", "st", "ing", "ed", "er", "ation"];
        var words = new HashSet<string>(StringComparer.Ordinal);
        while (words.Count < Vocabulary)
        {
            int syllables = random.Next(1, 4);
            var word = string.Concat(Enumerable.Range(0, syllables).Select(_ => onsets[random.Next(onsets.Length)] + vowels[random.Next(vowels.Length)])) + codas[random.Next(codas.Length)];
            words.Add(word);
        }
        return [.. words];
    }

    /// <summary>Samples ranks 0..n-1 with probability ∝ 1/(rank+1)^s by inverting the cumulative distribution.</summary>
    private sealed class Zipf
    {
        private readonly double[] _cumulative;
        private readonly Random _random;

        public Zipf(int n, double s, Random random)
        {
            _random = random;
            _cumulative = new double[n];
            double sum = 0;
            for (int i = 0; i < n; i++)
            {
                sum += 1.0 / Math.Pow(i + 1, s);
                _cumulative[i] = sum;
            }
            for (int i = 0; i < n; i++)
            {
                _cumulative[i] /= sum;
            }
        }

        public int Next()
        {
            int index = Array.BinarySearch(_cumulative, _random.NextDouble());
            return index < 0 ? Math.Min(~index, _cumulative.Length - 1) : index;
        }
    }
}
