using System.CommandLine;
using System.Diagnostics;
using FASTER.core;
using VectorStoreDb.Engine;

namespace VectorStoreDb.Benchmarks.Engine;

/// <summary>
/// Write path and restart: documents/s with precomputed vectors in sync and async durability, 1 and 16 writers,
/// next to a raw FasterLog baseline (enqueue + commit per document) in the same run; then restart time of a
/// store of N vectors when loading a checkpoint versus rebuilding from the log.
/// </summary>
internal static class IngestBenchmark
{
    public static Command CreateCommand()
    {
        var folder = new Option<string>("--folder") { Description = "Scratch folder (deleted afterwards).", DefaultValueFactory = _ => Path.Combine(Path.GetTempPath(), "vectorstore-ingest-bench") };
        var dim = new Option<int>("--dim") { Description = "Vector dimension.", DefaultValueFactory = _ => 128 };
        var syncDocs = new Option<int>("--sync-docs") { Description = "Documents written per sync-mode run.", DefaultValueFactory = _ => 3_000 };
        var asyncDocs = new Option<int>("--async-docs") { Description = "Documents written per async-mode run.", DefaultValueFactory = _ => 30_000 };
        var restart = new Option<string>("--restart-sizes") { Description = "Comma-separated store sizes for the restart measurement (empty to skip).", DefaultValueFactory = _ => "100000,1000000" };
        var command = new Command("ingest", "Ingest documents/s (sync/async, 1/16 writers) vs raw FasterLog, and restart time (checkpoint load vs log replay).") { folder, dim, syncDocs, asyncDocs, restart };
        command.SetAction(result => Run(result.GetValue(folder)!, result.GetValue(dim), result.GetValue(syncDocs), result.GetValue(asyncDocs),
            [.. result.GetValue(restart)!.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse)]));
        return command;
    }

    private static void Run(string folder, int dim, int syncDocs, int asyncDocs, int[] restartSizes)
    {
        Console.WriteLine($"ingest benchmark — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}, dim {dim}");
        Console.WriteLine();
        Console.WriteLine("| mode | writers | documents/s | raw FasterLog commit-per-doc docs/s (baseline) | ratio |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (int writers in new[] { 1, 16 })
        {
            double baseline = RawFasterLog(Path.Combine(folder, $"raw-{writers}"), syncDocs, writers, dim);
            foreach (var mode in new[] { DurabilityMode.Sync, DurabilityMode.Async })
            {
                int docs = mode == DurabilityMode.Sync ? syncDocs : asyncDocs;
                double rate = Engine(Path.Combine(folder, $"engine-{mode}-{writers}"), docs, writers, dim, mode);
                Console.WriteLine($"| {mode.ToString().ToLowerInvariant()} | {writers} | {rate:N0} | {baseline:N0} | {rate / baseline:N1}x |");
            }
        }
        if (restartSizes.Length > 0)
        {
            Console.WriteLine();
            Console.WriteLine("| vectors | restart, rebuild from log (baseline) | restart, load checkpoint | ratio | checkpoint write | longest upsert during checkpoint |");
            Console.WriteLine("|---|---|---|---|---|---|");
            foreach (int size in restartSizes)
            {
                Restart(Path.Combine(folder, $"restart-{size}"), size, dim);
            }
        }
        TryDelete(folder);
    }

    private static float[][] Vectors(int count, int dim, int seed)
    {
        var random = new Random(seed);
        var vectors = new float[count][];
        for (int i = 0; i < count; i++)
        {
            vectors[i] = new float[dim];
            for (int j = 0; j < dim; j++)
            {
                vectors[i][j] = (float)(random.NextDouble() * 2 - 1);
            }
        }
        return vectors;
    }

    /// <summary>One document per request, the worst case for durability: every acknowledgement needs a flush.</summary>
    private static double Engine(string path, int docs, int writers, int dim, DurabilityMode mode)
    {
        TryDelete(path);
        var vectors = Vectors(Math.Min(docs, 10_000), dim, 1);
        using var engine = VectorStoreEngine.Open(path, configure: o =>
        {
            o.Durability.Mode = mode;
            o.Durability.CheckpointIntervalSeconds = 0;
            o.Durability.CheckpointOnShutdown = false;
        });
        engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "bench", Encoder = "none", Dimension = dim, Metric = "l2" }).GetAwaiter().GetResult();
        int next = -1;
        var watch = Stopwatch.StartNew();
        Task.WaitAll([.. Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < docs)
            {
                await engine.UpsertAsync("bench", [new DocumentInput { Id = $"d{i}", Vector = vectors[i % vectors.Length] }]);
            }
        }))]);
        double rate = docs / watch.Elapsed.TotalSeconds;
        if (engine.Count("bench") != docs)
        {
            throw new InvalidOperationException($"expected {docs} documents, found {engine.Count("bench")}");
        }
        return rate;
    }

    /// <summary>The naive durable log: every writer enqueues its record and commits it itself.</summary>
    private static double RawFasterLog(string path, int docs, int writers, int dim)
    {
        TryDelete(path);
        Directory.CreateDirectory(path);
        var payload = new byte[dim * sizeof(float) + 32];
        Random.Shared.NextBytes(payload);
        using var device = Devices.CreateLogDevice(Path.Combine(path, "log"), preallocateFile: false);
        using var log = new FasterLog(new FasterLogSettings { LogDevice = device, LogCommitDir = Path.Combine(path, "commits"), PageSizeBits = 20, MemorySizeBits = 21, LogChecksum = LogChecksumType.PerEntry });
        int next = -1;
        var watch = Stopwatch.StartNew();
        Task.WaitAll([.. Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) < docs)
            {
                log.Enqueue(payload);
                await log.CommitAsync();
            }
        }))]);
        return docs / watch.Elapsed.TotalSeconds;
    }

    private static void Restart(string path, int size, int dim)
    {
        TryDelete(path);
        void Configure(VectorStoreOptions o)
        {
            o.Durability.Mode = DurabilityMode.Async;
            o.Durability.CheckpointIntervalSeconds = 0;
            o.Durability.CheckpointOnShutdown = false;
        }
        using (var engine = VectorStoreEngine.Open(path, configure: Configure))
        {
            engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "bench", Encoder = "none", Dimension = dim, Metric = "l2" }).GetAwaiter().GetResult();
            var vectors = Vectors(1000, dim, 2);
            var random = new Random(3);
            for (int start = 0; start < size; start += 1000)
            {
                var batch = new DocumentInput[Math.Min(1000, size - start)];
                for (int i = 0; i < batch.Length; i++)
                {
                    var v = (float[])vectors[i].Clone();
                    v[0] = (float)random.NextDouble();
                    batch[i] = new DocumentInput { Id = $"d{start + i}", Vector = v };
                }
                engine.UpsertAsync("bench", batch).GetAwaiter().GetResult();
            }
        }
        var replay = Stopwatch.StartNew();
        TimeSpan checkpointTime;
        double stall = 0;
        int loaded = size;
        using (var engine = VectorStoreEngine.Open(path, configure: Configure))
        {
            replay.Stop();
            Check(engine, size);
            // Writes go on during the checkpoint: the longest single upsert is the stall the checkpoint causes.
            var checkpoint = Stopwatch.StartNew();
            var running = engine.CheckpointAsync(force: true);
            var probe = new float[dim];
            int n = 0;
            while (!running.IsCompleted)
            {
                var one = Stopwatch.StartNew();
                engine.UpsertAsync("bench", [new DocumentInput { Id = $"probe{n++ % 100}", Vector = probe }]).GetAwaiter().GetResult();
                stall = Math.Max(stall, one.Elapsed.TotalMilliseconds);
            }
            running.GetAwaiter().GetResult();
            checkpointTime = checkpoint.Elapsed;
            size += Math.Min(n, 100);
        }
        var load = Stopwatch.StartNew();
        using (var engine = VectorStoreEngine.Open(path, configure: Configure))
        {
            load.Stop();
            Check(engine, size);
        }
        Console.WriteLine($"| {loaded:N0} × {dim} | {replay.Elapsed.TotalSeconds:N2} s | {load.Elapsed.TotalSeconds:N2} s | {replay.Elapsed / load.Elapsed:N1}x faster | {checkpointTime.TotalSeconds:N2} s | {stall:N0} ms |");
        TryDelete(path);
    }

    private static void Check(VectorStoreEngine engine, int size)
    {
        if (engine.Count("bench") != size)
        {
            throw new InvalidOperationException($"expected {size} documents after restart, found {engine.Count("bench")}");
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }
}
