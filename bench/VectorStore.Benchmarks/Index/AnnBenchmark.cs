using System.Diagnostics;
using System.Globalization;
using VectorStoreDb.Index;
using VectorStoreDb.Index.Hnsw;
using VectorStoreDb.Index.Quantization;

namespace VectorStoreDb.Benchmarks.Index;

internal sealed record AnnOptions(string Data, int Random, int Dimension, int QueryCount, int M, int EfConstruction, int[] Efs, int Threads, int MinQueries, string? HnswlibBinary, int Repeat,
    string[] Quantizations, int Latent = 0, float Noise = 0.05f, string? GraphCache = null);

internal sealed record SweepRow(int Ef, double Recall, double Qps1, double QpsN, double P50Us, double P99Us, double Qps1Cpu);

internal sealed record RunResult(string Name, double BuildSeconds, double BuildCpuSeconds, long MemoryBytes, int Elements, List<SweepRow> Rows,
    long VectorBytes = 0, long CodeBytes = 0, HnswMemory? Breakdown = null);

/// <summary>
/// Recall@10 / QPS / latency sweep of <see cref="HnswIndex"/> over ef, with hnswlib built and queried on the
/// same files with the same M and efConstruction in the same run (through the C++ harness in hnswlib/).
/// </summary>
internal static partial class AnnBenchmark
{
    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out Timespec time);

    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    /// <summary>CPU seconds of the calling thread (Linux CLOCK_THREAD_CPUTIME_ID): time stolen by other processes does not count.</summary>
    private static double ThreadCpuSeconds() => ClockGetTime(3, out var t) == 0 ? t.Seconds + t.Nanoseconds * 1e-9 : double.NaN;

    private const int K = 10;

    public static int Run(AnnOptions options)
    {
        var (basePath, queryPath, truthPath, temp) = PrepareData(options);
        try
        {
            var vectors = ReadVecs<float>(basePath);
            var queries = ReadVecs<float>(queryPath);
            var truth = ReadVecs<int>(truthPath);
            int dimension = vectors[0].Length;
            Console.WriteLine($"ann: {vectors.Length:N0} x {dimension} base, {queries.Length} queries, L2, k={K}, M={options.M}, efConstruction={options.EfConstruction}, " +
                $"{options.Threads} threads, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");

            WarmUp(options, vectors, queries);
            // The two libraries run alternately and each number is the best of the repeats, so load from other
            // processes on a shared machine hurts both alike and mostly drops out.
            var kinds = options.Quantizations.Select(q => QuantizationSettings.TryParseKind(q, out var kind) && kind != QuantizationKind.Binary
                ? kind : throw new ArgumentException($"--quantization: {q} is not none or int8")).ToArray();
            var ours = new RunResult?[kinds.Length];
            RunResult? baseline = null;
            for (int repeat = 1; repeat <= options.Repeat; repeat++)
            {
                for (int i = 0; i < kinds.Length; i++)
                {
                    var run = RunOurs(options, vectors, queries, truth, kinds[i]);
                    Console.WriteLine($"  run {repeat}: {run.Name} build {run.BuildSeconds:F2} s, QPS-1 at ef={run.Rows[0].Ef} {run.Rows[0].Qps1:F0}");
                    ours[i] = Best(ours[i], run);
                }
                if (options.HnswlibBinary is { } binary)
                {
                    var other = RunHnswlib(options, binary, basePath, queryPath, truthPath);
                    Console.WriteLine($"  run {repeat}: hnswlib     build {other.BuildSeconds:F2} s, QPS-1 at ef={other.Rows[0].Ef} {other.Rows[0].Qps1:F0}");
                    baseline = Best(baseline, other);
                }
            }
            foreach (var result in ours)
            {
                Print(result!);
            }
            if (baseline is not null)
            {
                Print(baseline);
                foreach (var result in ours)
                {
                    Compare(result!, baseline);
                }
            }
            if (Array.IndexOf(kinds, QuantizationKind.None) is int f and >= 0 && Array.IndexOf(kinds, QuantizationKind.Int8) is int q and >= 0)
            {
                CompareQuantized(ours[f]!, ours[q]!);
            }
            return 0;
        }
        finally
        {
            if (temp is not null)
            {
                Directory.Delete(temp, recursive: true);
            }
        }
    }

    /// <summary>Best of two runs: lowest build time, highest QPS and lowest latency per ef (recall is the same graph quality either way; keep the first).</summary>
    private static RunResult Best(RunResult? a, RunResult b) => a is null ? b : a with
    {
        BuildSeconds = Math.Min(a.BuildSeconds, b.BuildSeconds),
        BuildCpuSeconds = Math.Min(a.BuildCpuSeconds, b.BuildCpuSeconds),
        Rows = [.. a.Rows.Zip(b.Rows, (x, y) => x with
        {
            Recall = Math.Min(x.Recall, y.Recall),
            Qps1 = Math.Max(x.Qps1, y.Qps1),
            Qps1Cpu = Math.Max(x.Qps1Cpu, y.Qps1Cpu),
            QpsN = Math.Max(x.QpsN, y.QpsN),
            P50Us = Math.Min(x.P50Us, y.P50Us),
            P99Us = Math.Min(x.P99Us, y.P99Us),
        })],
    };

    /// <summary>Runs the build and search code once on a slice so tiered JIT has produced optimised code before timing (the C++ side is compiled ahead of time).</summary>
    private static void WarmUp(AnnOptions options, float[][] vectors, float[][] queries)
    {
        int n = Math.Min(vectors.Length, 5000);
        foreach (var kind in new[] { QuantizationKind.None, QuantizationKind.Int8 })
        {
            using var index = new HnswIndex(vectors[0].Length, Metric.L2, options.M, options.EfConstruction, n, seed: 1, quantization: new QuantizationSettings(kind));
            index.UpsertBatch(Enumerable.Range(0, n).ToArray(), vectors.Take(n).SelectMany(v => v).ToArray(), options.Threads);
            var hits = new Neighbor[K];
            for (int i = 0; i < 2000; i++)
            {
                index.Search(queries[i % queries.Length], hits, new SearchParameters(Ef: 64));
            }
        }
        Thread.Sleep(200);
    }

    /// <summary>The int8 graph against our float graph from the same run: recall at the same ef, and what must stay in RAM.</summary>
    private static void CompareQuantized(RunResult floats, RunResult int8)
    {
        Console.WriteLine();
        Console.WriteLine("VectorStore int8 graph vs VectorStore float graph (same data, M, efConstruction):");
        Console.WriteLine("   ef   recall float   recall int8   delta");
        foreach (var row in int8.Rows)
        {
            var other = floats.Rows.First(r => r.Ef == row.Ef);
            Console.WriteLine($"  {row.Ef,3}   {other.Recall,12:F4}   {row.Recall,11:F4}   {row.Recall - other.Recall,+7:F4}");
        }
        long graph = int8.MemoryBytes - int8.VectorBytes - int8.CodeBytes;
        Console.WriteLine($"  memory: float graph {floats.MemoryBytes / 1e6:F1} MB (vectors {floats.VectorBytes / 1e6:F1} MB); int8 codes {int8.CodeBytes / 1e6:F1} MB + graph {graph / 1e6:F1} MB " +
            $"= {(int8.CodeBytes + graph) / 1e6:F1} MB in RAM with full vectors on disk: {(double)(int8.CodeBytes + graph) / floats.MemoryBytes:F3}x the float index, " +
            $"{(double)(int8.CodeBytes + graph) / floats.VectorBytes:F3}x its float vectors");
        foreach (var run in new[] { floats, int8 })
        {
            if (run.Breakdown is { } b)
            {
                // Bytes per node of each structure (capacity = allocated slots, so growth slack shows up here).
                double per(long bytes) => bytes / (double)run.Elements;
                Console.WriteLine($"  {run.Name} bytes/node: vectors {per(b.Vectors):F1}, codes {per(b.Codes):F1}, code norms {per(b.CodeNorms):F1}, " +
                    $"layer-0 links {per(b.Layer0Links):F1}, upper links {per(b.UpperLinks):F1} (+ {per(b.UpperReferences):F1} references), " +
                    $"levels {per(b.Levels):F1}, versions {per(b.Versions):F1}, states {per(b.States):F1}; capacity {b.Capacity:N0} for {run.Elements:N0} nodes");
            }
        }
    }

    private static RunResult RunOurs(AnnOptions options, float[][] vectors, float[][] queries, int[][] truth, QuantizationKind kind = QuantizationKind.None)
    {
        int dimension = vectors[0].Length;
        var flat = vectors.SelectMany(v => v).ToArray();
        var labels = Enumerable.Range(0, vectors.Length).ToArray();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        HnswIndex index;
        string? cached = CachePath(options, vectors.Length, dimension, kind == QuantizationKind.None ? "float" : "int8");
        if (cached is not null && File.Exists(cached))
        {
            // A graph saved by an earlier run on the same data: search-only re-measurement (build times print as 0).
            using var file = File.OpenRead(cached);
            index = HnswIndex.Load(file);
            watch.Restart();
            cpu = Process.GetCurrentProcess().TotalProcessorTime;
        }
        else
        {
            index = new HnswIndex(dimension, Metric.L2, options.M, options.EfConstruction, vectors.Length, seed: 100, quantization: new QuantizationSettings(kind));
            index.UpsertBatch(labels, flat, options.Threads);
        }
        double build = watch.Elapsed.TotalSeconds;
        double buildCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        if (cached is not null && !File.Exists(cached))
        {
            using var file = File.Create(cached);
            index.Save(file);
        }

        using (var stream = new MemoryStream())
        {
            watch.Restart();
            index.Save(stream);
            double save = watch.Elapsed.TotalSeconds;
            stream.Position = 0;
            watch.Restart();
            using var loaded = HnswIndex.Load(stream);
            double load = watch.Elapsed.TotalSeconds;
            Console.WriteLine($"  VectorStore save {save * 1000:F1} ms, load {load * 1000:F1} ms ({stream.Length / 1e6:F1} MB) vs build {build * 1000:F0} ms: load is {build / load:F0}x faster than building");
        }

        var hits = new Neighbor[K];
        var rows = new List<SweepRow>();
        int rounds = Math.Max(1, (options.MinQueries + queries.Length - 1) / queries.Length);
        foreach (int ef in options.Efs)
        {
            var parameters = new SearchParameters(Ef: ef);
            int found = 0;
            var latencies = new double[rounds * queries.Length];
            double cpuStart = ThreadCpuSeconds();
            long start = Stopwatch.GetTimestamp();
            for (int r = 0; r < rounds; r++)
            {
                for (int q = 0; q < queries.Length; q++)
                {
                    long t = Stopwatch.GetTimestamp();
                    int n = index.Search(queries[q], hits, parameters);
                    latencies[r * queries.Length + q] = Stopwatch.GetElapsedTime(t).TotalMicroseconds;
                    if (r == 0)
                    {
                        var expected = truth[q].AsSpan(0, Math.Min(K, truth[q].Length));
                        for (int i = 0; i < n; i++)
                        {
                            found += expected.Contains(hits[i].Label) ? 1 : 0;
                        }
                    }
                }
            }
            double single = latencies.Length / Stopwatch.GetElapsedTime(start).TotalSeconds;
            double singleCpu = latencies.Length / (ThreadCpuSeconds() - cpuStart);
            Array.Sort(latencies);
            int total = latencies.Length;
            int next = -1;
            start = Stopwatch.GetTimestamp();
            var workers = Enumerable.Range(0, options.Threads).Select(_ => new Thread(() =>
            {
                var local = new Neighbor[K];
                for (int i; (i = Interlocked.Increment(ref next)) < total;)
                {
                    index.Search(queries[i % queries.Length], local, parameters);
                }
            })).ToList();
            workers.ForEach(w => w.Start());
            workers.ForEach(w => w.Join());
            double multi = total / Stopwatch.GetElapsedTime(start).TotalSeconds;
            rows.Add(new SweepRow(ef, found / (double)(queries.Length * K), single, multi, latencies[total / 2], latencies[Math.Min(total - 1, total * 99 / 100)], singleCpu));
        }
        var result = new RunResult(kind == QuantizationKind.None ? "VectorStore" : "VectorStore int8", build, buildCpu, index.MemoryBytes, vectors.Length, rows,
            index.VectorMemoryBytes, index.CodeMemoryBytes, index.MemoryBreakdown);
        index.Dispose();
        return result;
    }

    /// <summary>Where --graph-cache keeps a graph: named by everything that determines it (data, M, efConstruction, kind).</summary>
    private static string? CachePath(AnnOptions options, int count, int dimension, string kind) => options.GraphCache is { } folder
        ? Path.Combine(Directory.CreateDirectory(folder).FullName, string.Create(CultureInfo.InvariantCulture,
            $"{kind}-{(options.Random > 0 ? $"random{options.Random}-latent{options.Latent}-noise{options.Noise}" : Path.GetFileName(Path.GetFullPath(options.Data).TrimEnd('/')))}-{count}x{dimension}-M{options.M}-efc{options.EfConstruction}.hnsw"))
        : null;

    private static RunResult RunHnswlib(AnnOptions options, string binary, string basePath, string queryPath, string truthPath)
    {
        var info = new ProcessStartInfo(binary) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string argument in new[] { basePath, queryPath, truthPath, options.M.ToString(CultureInfo.InvariantCulture), options.EfConstruction.ToString(CultureInfo.InvariantCulture),
            options.Threads.ToString(CultureInfo.InvariantCulture), string.Join(',', options.Efs), K.ToString(CultureInfo.InvariantCulture), options.MinQueries.ToString(CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(argument);
        }
        if (CachePath(options, ReadCount(basePath), 0, "hnswlib") is { } cache)
        {
            info.ArgumentList.Add(cache);
        }
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Cannot start {binary}.");
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{binary} exited with {process.ExitCode}.");
        }
        double build = 0;
        double buildCpu = 0;
        long memory = 0;
        int elements = 0;
        var rows = new List<SweepRow>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ');
            double Value(int i) => double.Parse(parts[i], CultureInfo.InvariantCulture);
            switch (parts[0])
            {
                case "build_seconds": build = Value(1); break;
                case "build_cpu_seconds": buildCpu = Value(1); break;
                case "memory_bytes": memory = long.Parse(parts[1], CultureInfo.InvariantCulture); break;
                case "elements": elements = int.Parse(parts[1], CultureInfo.InvariantCulture); break;
                case "ef": rows.Add(new SweepRow((int)Value(1), Value(3), Value(5), Value(7), Value(9), Value(11), Value(13))); break;
            }
        }
        return new RunResult("hnswlib", build, buildCpu, memory, elements, rows);
    }

    private static void Print(RunResult result)
    {
        Console.WriteLine();
        Console.WriteLine($"{result.Name}: build {result.BuildSeconds:F2} s wall, {result.BuildCpuSeconds:F2} s CPU, {result.MemoryBytes / (double)result.Elements:F0} bytes/vector ({result.MemoryBytes / 1e6:F1} MB)");
        Console.WriteLine("   ef  recall@10   QPS 1 thread (wall)   QPS 1 thread (CPU time)   QPS all cores   p50 us   p99 us");
        foreach (var row in result.Rows)
        {
            Console.WriteLine($"  {row.Ef,3}  {row.Recall,9:F4}  {row.Qps1,20:F0}  {row.Qps1Cpu,24:F0}  {row.QpsN,14:F0}  {row.P50Us,7:F1}  {row.P99Us,7:F1}");
        }
    }

    private static void Compare(RunResult ours, RunResult baseline)
    {
        Console.WriteLine();
        Console.WriteLine($"{ours.Name} / hnswlib (same data, M, efConstruction, thread count):");
        Console.WriteLine($"  build time      {ours.BuildSeconds / baseline.BuildSeconds,6:F2}x   ({ours.BuildSeconds:F2} s vs {baseline.BuildSeconds:F2} s wall)");
        Console.WriteLine($"  build CPU time  {ours.BuildCpuSeconds / baseline.BuildCpuSeconds,6:F2}x   ({ours.BuildCpuSeconds:F2} s vs {baseline.BuildCpuSeconds:F2} s, all threads)");
        Console.WriteLine($"  memory          {(double)ours.MemoryBytes / baseline.MemoryBytes,6:F2}x   ({ours.MemoryBytes / (double)ours.Elements:F0} vs {baseline.MemoryBytes / (double)baseline.Elements:F0} bytes/vector)");
        Console.WriteLine("  per ef:  ef   recall ours/hnswlib   QPS-1 wall   QPS-1 CPU   QPS-all");
        foreach (var row in ours.Rows)
        {
            if (baseline.Rows.FirstOrDefault(r => r.Ef == row.Ef) is { } other)
            {
                Console.WriteLine($"          {row.Ef,3}   {row.Recall:F4} / {other.Recall:F4}      {row.Qps1 / other.Qps1,6:F2}x     {row.Qps1Cpu / other.Qps1Cpu,6:F2}x    {row.QpsN / other.QpsN,6:F2}x");
            }
        }
        foreach (double target in new[] { 0.90, 0.95, 0.99 })
        {
            double? a = QpsAtRecall(ours.Rows, target, r => r.Qps1);
            double? b = QpsAtRecall(baseline.Rows, target, r => r.Qps1);
            double? ac = QpsAtRecall(ours.Rows, target, r => r.Qps1Cpu);
            double? bc = QpsAtRecall(baseline.Rows, target, r => r.Qps1Cpu);
            double? an = QpsAtRecall(ours.Rows, target, r => r.QpsN);
            double? bn = QpsAtRecall(baseline.Rows, target, r => r.QpsN);
            if (a is { } x && b is { } y && an is { } xn && bn is { } yn && ac is { } xc && bc is { } yc)
            {
                Console.WriteLine($"  QPS at recall@10 >= {target:F2}: 1 thread wall {x:F0} vs {y:F0} = {x / y:F2}x; 1 thread CPU {xc:F0} vs {yc:F0} = {xc / yc:F2}x; all cores {xn:F0} vs {yn:F0} = {xn / yn:F2}x");
            }
        }
    }

    /// <summary>
    /// QPS at a target recall: interpolated linearly between the two sweep points around it, or the best
    /// QPS of the points that reach it when the sweep starts above the target.
    /// </summary>
    private static double? QpsAtRecall(List<SweepRow> rows, double target, Func<SweepRow, double> qps)
    {
        var ordered = rows.OrderBy(r => r.Ef).ToList();
        for (int i = 0; i < ordered.Count; i++)
        {
            if (ordered[i].Recall >= target)
            {
                if (i == 0 || ordered[i].Recall == ordered[i - 1].Recall)
                {
                    return ordered.Where(r => r.Recall >= target).Max(qps);
                }
                var (lo, hi) = (ordered[i - 1], ordered[i]);
                double t = (target - lo.Recall) / (hi.Recall - lo.Recall);
                return qps(lo) + t * (qps(hi) - qps(lo));
            }
        }
        return null;
    }

    private static (string Base, string Query, string Truth, string? Temp) PrepareData(AnnOptions options)
    {
        if (options.Random > 0)
        {
            string temp = Path.Combine(Path.GetTempPath(), $"vectorstore-ann-{Guid.NewGuid():N}");
            Directory.CreateDirectory(temp);
            var random = new Random(7);
            float Gaussian() => (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
            // --latent L: points on an L-dimensional Gaussian subspace mapped into --dim dimensions, plus isotropic noise.
            // Real descriptors and embeddings have a low intrinsic dimension, which is what lets a graph reach high recall;
            // uniform noise (the default) has none, and no graph reaches recall 0.95 on it at a usable ef.
            var basis = new float[options.Latent * options.Dimension];
            for (int i = 0; i < basis.Length; i++)
            {
                basis[i] = Gaussian() / MathF.Sqrt(Math.Max(1, options.Latent));
            }
            float[] One()
            {
                var row = new float[options.Dimension];
                if (options.Latent == 0)
                {
                    for (int d = 0; d < row.Length; d++)
                    {
                        row[d] = (float)random.NextDouble();
                    }
                    return row;
                }
                for (int l = 0; l < options.Latent; l++)
                {
                    float z = Gaussian();
                    for (int d = 0; d < row.Length; d++)
                    {
                        row[d] += z * basis[l * options.Dimension + d];
                    }
                }
                for (int d = 0; d < row.Length; d++)
                {
                    row[d] += options.Noise * Gaussian();
                }
                return row;
            }
            float[][] Make(int n) => [.. Enumerable.Range(0, n).Select(_ => One())];
            var vectors = Make(options.Random);
            var queries = Make(options.QueryCount);
            string b = Path.Combine(temp, "random_base.fvecs"), q = Path.Combine(temp, "random_query.fvecs"), t = Path.Combine(temp, "random_groundtruth.ivecs");
            WriteVecs(b, vectors);
            WriteVecs(q, queries);
            WriteVecs(t, GroundTruth(vectors, queries));
            return (b, q, t, temp);
        }
        string folder = Path.GetFullPath(options.Data);
        string basePath = Directory.GetFiles(folder, "*_base.fvecs").FirstOrDefault() ?? throw new FileNotFoundException($"No *_base.fvecs in {folder}.");
        string queryPath = Directory.GetFiles(folder, "*_query.fvecs").FirstOrDefault() ?? throw new FileNotFoundException($"No *_query.fvecs in {folder}.");
        if (Directory.GetFiles(folder, "*_groundtruth.ivecs").FirstOrDefault() is { } truthPath)
        {
            return (basePath, queryPath, truthPath, null);
        }
        string tempFolder = Path.Combine(Path.GetTempPath(), $"vectorstore-ann-{Guid.NewGuid():N}");
        Directory.CreateDirectory(tempFolder);
        string computed = Path.Combine(tempFolder, "groundtruth.ivecs");
        WriteVecs(computed, GroundTruth(ReadVecs<float>(basePath), ReadVecs<float>(queryPath)));
        return (basePath, queryPath, computed, tempFolder);
    }

    private static int[][] GroundTruth(float[][] vectors, float[][] queries)
    {
        using var exact = new ExactIndex(vectors[0].Length, Metric.L2);
        for (int i = 0; i < vectors.Length; i++)
        {
            exact.Upsert(i, vectors[i]);
        }
        var truth = new int[queries.Length][];
        Parallel.For(0, queries.Length, q =>
        {
            var hits = new Neighbor[100];
            int n = exact.Search(queries[q], hits);
            truth[q] = [.. hits.Take(n).Select(h => h.Label)];
        });
        return truth;
    }

    /// <summary>Rows of an fvecs file, from its size and first row's length.</summary>
    private static int ReadCount(string path)
    {
        using var reader = new BinaryReader(File.OpenRead(path));
        return (int)(reader.BaseStream.Length / (4 + 4L * reader.ReadInt32()));
    }

    internal static T[][] ReadVecs<T>(string path) where T : unmanaged
    {
        using var reader = new BinaryReader(new BufferedStream(File.OpenRead(path), 1 << 20));
        var rows = new List<T[]>();
        while (reader.BaseStream.Position < reader.BaseStream.Length)
        {
            var row = new T[reader.ReadInt32()];
            reader.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(row.AsSpan()));
            rows.Add(row);
        }
        return [.. rows];
    }

    private static void WriteVecs<T>(string path, T[][] rows) where T : unmanaged
    {
        using var stream = new BufferedStream(File.Create(path), 1 << 20);
        Span<byte> length = stackalloc byte[4];
        foreach (var row in rows)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(length, row.Length);
            stream.Write(length);
            stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(row.AsSpan()));
        }
    }
}
