using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using VectorStoreDb.Index;
using VectorStoreDb.Index.Quantization;

namespace VectorStoreDb.Benchmarks.Index;

/// <summary>
/// Exact-scan throughput, one query at a time on one thread, against the memory-bandwidth ceiling (a plain
/// streaming sum over the same bytes) and hnswlib's BruteforceSearch / FAISS IndexFlat on the same data.
/// Every row is the best of several interleaved rounds timed in thread CPU time, so a busy machine hurts all rows alike.
/// </summary>
internal static class ExactBenchmark
{
    private const int K = 10;
    private const int Rounds = 5;

    // dataFolder: *_base.fvecs and *_query.fvecs (e.g. siftsmall) scanned instead of generated data; its queries repeat to fill larger batches.
    public static int Run(int count, int dimension, int queries, string? baselineBinary, int[] batches, string? dataFolder = null, int[]? binaryOversampling = null)
    {
        int generated = Math.Max(queries, batches.Length == 0 ? 0 : batches.Max());
        float[] flat;
        float[] queryFlat;
        if (dataFolder is not null)
        {
            var baseRows = AnnBenchmark.ReadVecs<float>(Directory.GetFiles(dataFolder, "*_base.fvecs").Single());
            var queryRows = AnnBenchmark.ReadVecs<float>(Directory.GetFiles(dataFolder, "*_query.fvecs").Single());
            (count, dimension) = (baseRows.Length, baseRows[0].Length);
            flat = [.. baseRows.SelectMany(r => r)];
            queryFlat = [.. Enumerable.Range(0, generated).SelectMany(q => queryRows[q % queryRows.Length])];
        }
        else
        {
            var random = new Random(1);
            flat = new float[(long)count * dimension];
            for (long i = 0; i < flat.LongLength; i++)
            {
                flat[i] = (float)(random.NextDouble() * 2 - 1);
            }
            queryFlat = new float[generated * dimension];
            for (int i = 0; i < queryFlat.Length; i++)
            {
                queryFlat[i] = (float)(random.NextDouble() * 2 - 1);
            }
        }
        Console.WriteLine($"exact scan: {(dataFolder is null ? "generated" : Path.GetFileName(Path.TrimEndingDirectorySeparator(dataFolder)))} {count:N0} x {dimension} float32 ({(long)count * dimension * 4 / 1e6:F0} MB), "
            + $"{queries} queries x {Rounds} rounds (best), k={K}, dot product, one query at a time, "
            + $"{Environment.ProcessorCount} cores, {(Vector512.IsHardwareAccelerated ? "AVX-512" : "AVX2/SSE")}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        using var index = new ExactIndex(dimension, Metric.Dot);
        for (int i = 0; i < count; i++)
        {
            index.Upsert(i, flat.AsSpan(i * dimension, dimension));
        }
        var hits = new Neighbor[K];
        var distances = new float[count];
        double bytes = (double)count * dimension * sizeof(float);
        ReadOnlySpan<float> Query(int q) => queryFlat.AsSpan(q * dimension, dimension);

        var rows = new (string Name, Action<int> Scan)[]
        {
            ("streaming sum over the index's memory", _ => StreamingSum(index.Vectors, count)),
            ("streaming sum over a managed array", _ => StreamingSum(flat)),
            ("per-vector Dot + TopKHeap (old loop)", q => PerVectorScan(flat, Query(q), dimension, hits)),
            ("BlockKernels.Distances alone", q => BlockKernels.Distances<DotStep>(ref MemoryMarshal.GetReference(Query(q)), ref flat[0], count, dimension, ref distances[0])),
            ("ExactIndex.Search", q => index.Search(Query(q), hits)),
        };
        index.MaxDegreeOfParallelism = 1;
        var best = Measure(rows, queries);
        // The ceiling is the faster of the two plain reads (native chunks may get huge pages, the GC heap may not).
        double ceiling = bytes / Math.Min(best[0], best[1]);

        var peers = RunPeers(baselineBinary, flat, queryFlat, count, dimension, queries, batches);
        Console.WriteLine($"  {"row",-40} {"ms/query",9} {"GB/s",7} {"of ceiling",10}");
        for (int r = 0; r < rows.Length; r++)
        {
            Console.WriteLine($"  {rows[r].Name,-40} {best[r] * 1e3,9:F2} {bytes / best[r] / 1e9,7:F2} {bytes / best[r] / ceiling,9:P0}");
        }
        double ours = best[^1];
        foreach (var (name, key) in new[] { ("hnswlib BruteforceSearch", "hnswlib_bf_ms"), ("FAISS IndexFlat", "faiss_flat_ms") })
        {
            if (peers.TryGetValue(key, out double ms))
            {
                Console.WriteLine($"  {name,-40} {ms,9:F2} {bytes / (ms / 1e3) / 1e9,7:F2} {bytes / (ms / 1e3) / ceiling,9:P0}   ExactIndex.Search is {ms / 1e3 / ours:F2}x its speed");
            }
            else
            {
                Console.WriteLine($"  {name,-40} (not measured: {(baselineBinary is null ? "no --baseline-bin" : "not built into the baseline harness")})");
            }
        }
        RunQuantized(index, flat, queryFlat, count, dimension, queries, ours, peers, binaryOversampling ?? [8, 20]);
        index.MaxDegreeOfParallelism = Environment.ProcessorCount;
        foreach (int batch in batches)
        {
            RunBatch(index, queryFlat, batch, dimension, bytes, peers);
        }
        return 0;
    }

    /// <summary>
    /// Quantized scans (one query, one thread) next to the float scan and FAISS's code scans: time per query,
    /// recall@10 against the float scan, and code memory.
    /// </summary>
    private static void RunQuantized(ExactIndex floatIndex, float[] flat, float[] queryFlat, int count, int dimension, int queries, double floatSeconds, Dictionary<string, double> peers,
        int[] binaryOversampling)
    {
        var truth = new int[queries][];
        var hits = new Neighbor[K];
        for (int q = 0; q < queries; q++)
        {
            int n = floatIndex.Search(queryFlat.AsSpan(q * dimension, dimension), hits);
            truth[q] = [.. hits.Take(n).Select(h => h.Label)];
        }
        (string Name, QuantizationSettings Settings, string Peer, string PeerName)[] settings =
        [
            ("int8 + rescore (x3)", new QuantizationSettings(QuantizationKind.Int8), "faiss_sq8_ms", "FAISS IndexScalarQuantizer 8bit"),
            ("int8, no rescore", new QuantizationSettings(QuantizationKind.Int8, Rescore: false), "", ""),
            // Sign bits of 384-d embeddings rank well but not finely: more candidates buy the last points of recall for little time.
            .. binaryOversampling.Select((x, i) => ($"binary + rescore (x{x})", new QuantizationSettings(QuantizationKind.Binary, Oversampling: x),
                i == 0 ? "faiss_binary_ms" : "", i == 0 ? "FAISS IndexBinaryFlat" : "")),
        ];
        Console.WriteLine($"  quantized exact scan (int8 kernels: {Int8Kernels.Best}); ratios against the float ExactIndex.Search above");
        foreach (var (name, quantization, peer, peerName) in settings)
        {
            using var index = new ExactIndex(dimension, Metric.Dot, quantization);
            for (int i = 0; i < count; i++)
            {
                index.Upsert(i, flat.AsSpan(i * dimension, dimension));
            }
            var best = Measure([(name, q => index.Search(queryFlat.AsSpan(q * dimension, dimension), hits))], queries);
            double found = 0;
            for (int q = 0; q < queries; q++)
            {
                int n = index.Search(queryFlat.AsSpan(q * dimension, dimension), hits);
                found += hits.Take(n).Count(h => truth[q].Contains(h.Label));
            }
            string peerText = peers.TryGetValue(peer, out double ms) ? $"   {peerName} {ms,6:F2} ms -> ours {ms / 1e3 / best[0],4:F2}x its speed" : "";
            Console.WriteLine($"  {"ExactIndex " + name,-40} {best[0] * 1e3,9:F2} ms  {floatSeconds / best[0],5:F2}x float scan  recall@10 {found / (queries * K),5:F3}  codes {index.CodeMemoryBytes / 1e6,6:F1} MB ({(double)count * dimension * sizeof(float) / index.CodeMemoryBytes,4:F1}x less than float){peerText}");
        }
    }

    /// <summary>
    /// A batch of queries on all cores (wall time, best of rounds): SearchBatch next to the same queries one at a
    /// time through Search (itself parallel over the vectors) and FAISS IndexFlat's batched search.
    /// </summary>
    private static void RunBatch(ExactIndex index, float[] queryFlat, int batch, int dimension, double bytes, Dictionary<string, double> peers)
    {
        var results = new Neighbor[batch * K];
        var counts = new int[batch];
        var queries = queryFlat.AsSpan(0, batch * dimension).ToArray();
        index.SearchBatch(queries, K, results, counts); // warm-up
        double batched = double.MaxValue;
        for (int round = 0; round < Rounds; round++)
        {
            var watch = Stopwatch.StartNew();
            index.SearchBatch(queries, K, results, counts);
            batched = Math.Min(batched, watch.Elapsed.TotalSeconds);
        }
        // One at a time is timed on at most 32 queries: its cost per query does not depend on the batch.
        int sample = Math.Min(batch, 32);
        double single = double.MaxValue;
        var hits = new Neighbor[K];
        for (int round = 0; round < Rounds; round++)
        {
            var watch = Stopwatch.StartNew();
            for (int q = 0; q < sample; q++)
            {
                index.Search(queries.AsSpan(q * dimension, dimension), hits);
            }
            single = Math.Min(single, watch.Elapsed.TotalSeconds / sample * batch);
        }
        Console.WriteLine($"  batch of {batch,5} queries, {Environment.ProcessorCount} cores: SearchBatch {batched * 1e3,9:F1} ms ({batch / batched,8:F0} q/s, {bytes / 1e9 / (batched / batch),6:F1} effective GB/s)   "
            + $"one at a time {single * 1e3,9:F1} ms -> {single / batched,5:F1}x");
        if (peers.TryGetValue($"faiss_flat_batch_{batch}", out double faissMs))
        {
            Console.WriteLine($"  {"",-20} FAISS IndexFlat batched {faissMs,9:F1} ms ({batch / (faissMs / 1e3),8:F0} q/s)   SearchBatch is {faissMs / 1e3 / batched:F2}x its speed");
        }
    }

    /// <summary>Best seconds per query of each row, rounds interleaved so background load spreads over all rows.</summary>
    private static double[] Measure((string Name, Action<int> Scan)[] rows, int queries)
    {
        var best = Enumerable.Repeat(double.MaxValue, rows.Length).ToArray();
        foreach (var row in rows)
        {
            for (int w = 0; w < 3; w++)
            {
                row.Scan(w % queries); // warm-up: tiered JIT, page faults
            }
        }
        for (int round = 0; round < Rounds; round++)
        {
            for (int r = 0; r < rows.Length; r++)
            {
                double start = ThreadClock.Seconds();
                for (int q = 0; q < queries; q++)
                {
                    rows[r].Scan(q);
                }
                best[r] = Math.Min(best[r], (ThreadClock.Seconds() - start) / queries);
            }
        }
        return best;
    }

    /// <summary>Runs the C++ baseline harness on the same data (written as fvecs to a temporary folder) and returns its key/value lines.</summary>
    internal static Dictionary<string, double> RunPeers(string? binary, float[] flat, float[] queryFlat, int count, int dimension, int singleQueries, int[] batches)
    {
        var result = new Dictionary<string, double>();
        if (binary is null)
        {
            return result;
        }
        string folder = Directory.CreateTempSubdirectory("vs-exact-").FullName;
        try
        {
            string basePath = Path.Combine(folder, "base.fvecs");
            string queryPath = Path.Combine(folder, "query.fvecs");
            WriteFvecs(basePath, flat, dimension);
            WriteFvecs(queryPath, queryFlat, dimension);
            string batchList = batches.Length == 0 ? "0" : string.Join(',', batches);
            var info = new ProcessStartInfo(binary, [basePath, queryPath, "ip", K.ToString(CultureInfo.InvariantCulture), singleQueries.ToString(CultureInfo.InvariantCulture), batchList, Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)])
            {
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            // OpenMP threads spin at barriers by default; on a shared machine a spinning thread whose partner
            // is descheduled makes FAISS's batched search up to 100x slower. Passive waiting is its fair setting.
            info.Environment.TryAdd("OMP_WAIT_POLICY", "PASSIVE");
            using var process = Process.Start(info) ?? throw new InvalidOperationException($"Cannot start {binary}.");
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = line.Split(' ');
                // "faiss_flat_batch <n> <ms>" becomes key "faiss_flat_batch_<n>".
                string key = parts.Length == 3 ? $"{parts[0]}_{parts[1]}" : parts[0];
                result[key] = double.Parse(parts[^1], CultureInfo.InvariantCulture);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
        return result;
    }

    private static void WriteFvecs(string path, float[] flat, int dimension)
    {
        using var stream = new BufferedStream(File.Create(path), 1 << 20);
        Span<byte> header = stackalloc byte[4];
        BitConverter.TryWriteBytes(header, dimension);
        for (int row = 0; row < flat.Length / dimension; row++)
        {
            stream.Write(header);
            stream.Write(MemoryMarshal.AsBytes(flat.AsSpan(row * dimension, dimension)));
        }
    }

    /// <summary>The fastest one core can read the data: a sum with independent accumulators and nothing else.</summary>
    private static float StreamingSum(ref float start, int length)
    {
        nuint n = (nuint)length;
        nuint i = 0;
        var a0 = Vector512<float>.Zero; var a1 = Vector512<float>.Zero;
        var a2 = Vector512<float>.Zero; var a3 = Vector512<float>.Zero;
        nuint w = (nuint)Vector512<float>.Count;
        for (; i + 4 * w <= n; i += 4 * w)
        {
            a0 += Vector512.LoadUnsafe(ref start, i);
            a1 += Vector512.LoadUnsafe(ref start, i + w);
            a2 += Vector512.LoadUnsafe(ref start, i + 2 * w);
            a3 += Vector512.LoadUnsafe(ref start, i + 3 * w);
        }
        float sum = Vector512.Sum((a0 + a1) + (a2 + a3));
        for (; i < n; i++)
        {
            sum += Unsafe.Add(ref start, i);
        }
        return sum;
    }

    /// <summary>The same plain sum over the index's own chunks (the memory ExactIndex.Search reads).</summary>
    private static float StreamingSum(VectorBlock vectors, int count)
    {
        var chunks = vectors.Chunks;
        float sum = 0;
        for (int first = 0; first < count; first += VectorBlock.ChunkSize)
        {
            int floats = Math.Min(VectorBlock.ChunkSize, count - first) * vectors.Dimension;
            sum += StreamingSum(ref VectorBlock.ChunkRef(chunks, first >> VectorBlock.ChunkShift), floats);
        }
        return sum;
    }

    private static float StreamingSum(float[] data) => StreamingSum(ref MemoryMarshal.GetArrayDataReference(data), data.Length);

    private static void PerVectorScan(float[] flat, ReadOnlySpan<float> query, int dimension, Neighbor[] hits)
    {
        var heap = new TopKHeap(hits);
        int count = flat.Length / dimension;
        for (int v = 0; v < count; v++)
        {
            float d = -VectorKernels.Dot(flat.AsSpan(v * dimension, dimension), query);
            if (d < heap.Threshold)
            {
                heap.Push(v, d);
            }
        }
        heap.SortAscending();
    }
}
