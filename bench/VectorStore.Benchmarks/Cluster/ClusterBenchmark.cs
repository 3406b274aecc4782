using System.CommandLine;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using VectorStoreDb.Client;
using VectorStoreDb.Cluster.Diagnostics;
using VectorStoreDb.Cluster.Replication;
using VectorStoreDb.Server;
using VectorStoreDb.Server.Hosting;

namespace VectorStoreDb.Benchmarks.Cluster;

/// <summary>
/// Single-node mode vs a one-node cluster vs three nodes, on the same vectors, in one run: real servers in this
/// process on loopback (Kestrel + gRPC; the cluster nodes are Orleans silos with localhost clustering), driven through
/// the remote client given every node's address. Ingest documents/s, query QPS and latency p50/p99 with concurrent
/// clients, recall@10 against exact ground truth, and the coordinator's merge time per query (from the cluster's
/// merge histogram). Ratios are against single-node mode measured in the same run.
/// </summary>
internal static partial class ClusterBenchmark
{
    private const int K = 10;
    private const int Dimension = 128;

    public static Command CreateCommand()
    {
        var count = new Option<int>("--vectors") { Description = "Generated base vectors (128 dimensions).", DefaultValueFactory = _ => 20_000 };
        var queries = new Option<int>("--queries") { Description = "Generated queries (each run at least --min-queries times in total).", DefaultValueFactory = _ => 200 };
        var minQueries = new Option<int>("--min-queries") { Description = "Queries timed per configuration.", DefaultValueFactory = _ => 2_000 };
        var clients = new Option<int>("--clients") { Description = "Concurrent client loops for ingest and queries.", DefaultValueFactory = _ => 4 };
        var batch = new Option<int>("--batch") { Description = "Documents per upsert call.", DefaultValueFactory = _ => 500 };
        var shards = new Option<int>("--shards") { Description = "Shards of the collection (same in every mode).", DefaultValueFactory = _ => 3 };
        var replicas = new Option<int>("--replicas") { Description = "Replicas per shard on three nodes.", DefaultValueFactory = _ => 2 };
        var ef = new Option<int>("--ef") { Description = "HNSW ef of the queries.", DefaultValueFactory = _ => 64 };
        var sift = new Option<string>("--sift") { Description = "siftsmall folder (*_base.fvecs, *_query.fvecs, *_groundtruth.ivecs); skipped when absent.", DefaultValueFactory = _ => "../shared/data/ann/siftsmall" };
        var baseline = new Option<string?>("--baseline-server")
        {
            Description = "VectorStore.Server.dll of an earlier build (e.g. main before cluster mode): single-node mode of that build and of " +
                "--current-server run as child processes, interleaved in rounds, with current/baseline ratios.",
        };
        var baselineLabel = new Option<string>("--baseline-label") { Description = "Name of the baseline build in the output (e.g. its commit).", DefaultValueFactory = _ => "baseline" };
        var current = new Option<string>("--current-server")
        {
            Description = "VectorStore.Server.dll of the current build, run as a child process against the baseline (default: this build's server output).",
            DefaultValueFactory = _ => "src/Server/bin/Release/net10.0/VectorStore.Server.dll",
        };
        var rounds = new Option<int>("--rounds") { Description = "Rounds of the baseline comparison (each runs both builds; the order alternates AB, BA, ...).", DefaultValueFactory = _ => 3 };
        var baselineOnly = new Option<bool>("--baseline-only") { Description = "Only the baseline comparison (skip the in-process single-node and cluster rows)." };
        var command = new Command("cluster", "Single-node mode vs one-node and three-node clusters on loopback: ingest, QPS, p50/p99, recall, merge cost; " +
            "optionally this build's single-node server against an earlier build's (--baseline-server).")
        {
            count, queries, minQueries, clients, batch, shards, replicas, ef, sift, baseline, baselineLabel, current, rounds, baselineOnly,
        };
        command.SetAction(result => Run(new Settings(result.GetValue(count), result.GetValue(queries), result.GetValue(minQueries), result.GetValue(clients),
            result.GetValue(batch), result.GetValue(shards), result.GetValue(replicas), result.GetValue(ef), result.GetValue(sift)!,
            result.GetValue(baseline), result.GetValue(baselineLabel)!, result.GetValue(current)!, result.GetValue(rounds), result.GetValue(baselineOnly))).GetAwaiter().GetResult());
        return command;
    }

    private sealed record Settings(int Vectors, int Queries, int MinQueries, int Clients, int Batch, int Shards, int Replicas, int Ef, string Sift,
        string? BaselineServer, string BaselineLabel, string CurrentServer, int Rounds, bool BaselineOnly);

    private sealed record Dataset(string Name, float[][] Base, float[][] Queries, int[][] Truth);

    private sealed record Result(string Mode, int Nodes, int Replicas, double IngestPerSecond, double Qps, double P50Ms, double P99Ms, double Recall, double MergeP50Us, string? Copy = null);

    private static async Task<int> Run(Settings settings)
    {
        if (settings.BaselineServer is null && settings.BaselineOnly)
        {
            Console.Error.WriteLine("--baseline-only needs --baseline-server.");
            return 2;
        }
        if (settings.BaselineServer is not null && !ChildServer.Exists(settings.BaselineServer, settings.CurrentServer, out string? missing))
        {
            Console.Error.WriteLine(missing);
            return 2;
        }
        // --vectors 0 runs siftsmall only.
        var datasets = new List<Dataset>();
        if (settings.Vectors > 0)
        {
            datasets.Add(Generate(settings.Vectors, settings.Queries));
        }
        if (Directory.Exists(settings.Sift))
        {
            datasets.Add(ReadSift(settings.Sift));
        }
        else
        {
            Console.WriteLine($"(siftsmall not found at {settings.Sift}: skipped)");
        }
        Console.WriteLine($"# Cluster benchmark  {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC  {Environment.ProcessorCount} cores  shards {settings.Shards}, HNSW ef {settings.Ef}, k {K}, " +
            $"{settings.Clients} clients, batches of {settings.Batch}, servers in this process on loopback" +
            (settings.BaselineServer is null ? "" : " (baseline comparison: child processes)") + ", gRPC remote client");
        foreach (var data in datasets)
        {
            Console.WriteLine();
            Console.WriteLine($"## {data.Name}: {data.Base.Length:N0} × {data.Base[0].Length}, {data.Queries.Length} queries");
            Console.WriteLine();
            if (settings.BaselineServer is not null)
            {
                await CompareWithBaselineAsync(data, settings);
            }
            if (settings.BaselineOnly)
            {
                continue;
            }
            var results = new List<Result>
            {
                await Measure("single-node", nodes: 0, replicas: 1, data, settings),
                await Measure("cluster", nodes: 1, replicas: 1, data, settings),
                await Measure("cluster", nodes: 3, replicas: settings.Replicas, data, settings),
            };
            var single = results[0];
            Console.WriteLine("| mode | nodes | replicas | ingest docs/s | QPS | p50 ms | p99 ms | recall@10 | merge p50 µs | ingest vs single | QPS vs single | p50 vs single |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var r in results)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {r.Mode} | {(r.Nodes == 0 ? "1" : r.Nodes)} | {r.Replicas} | {r.IngestPerSecond:N0} | {r.Qps:N0} | {r.P50Ms:F2} | {r.P99Ms:F2} | {r.Recall:F4} | {(r.Nodes == 0 ? "—" : r.MergeP50Us.ToString("F1", CultureInfo.InvariantCulture))} | {r.IngestPerSecond / single.IngestPerSecond:F2}× | {r.Qps / single.Qps:F2}× | {r.P50Ms / single.P50Ms:F2}× |"));
            }
            Console.WriteLine();
            // Copying data: the single node's snapshot + restore (one process, one disk) is the baseline for a
            // replica move, which streams the same kind of snapshot between nodes in SnapshotChunkBytes chunks.
            foreach (var r in results.Where(r => r.Copy is not null))
            {
                Console.WriteLine($"- {r.Copy}");
            }
        }
        return 0;
    }

    private static async Task<Result> Measure(string mode, int nodes, int replicas, Dataset data, Settings settings)
    {
        string root = Path.Combine(Path.GetTempPath(), $"vs-cluster-bench-{Guid.NewGuid():N}");
        var apps = await StartAsync(nodes, root);
        var merges = new List<double>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == ClusterTelemetry.Instruments.MergeDuration)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((_, seconds, _, _) =>
        {
            lock (merges)
            {
                merges.Add(seconds);
            }
        });
        try
        {
            var rest = apps[0].Services.GetRequiredService<ListenAddresses>().Rest;
            using var http = new HttpClient { BaseAddress = rest, Timeout = TimeSpan.FromMinutes(10) };
            object body = nodes == 0
                ? new { encoder = "none", dimension = Dimension, metric = "l2", index = "hnsw", shards = settings.Shards }
                : new { encoder = "none", dimension = Dimension, metric = "l2", index = "hnsw", shards = settings.Shards, replicas };
            using var client = new VectorStoreGrpcClient(apps.Select(a => a.Services.GetRequiredService<ListenAddresses>().Grpc), new VectorStoreClientOptions { Timeout = TimeSpan.FromMinutes(5) });
            var run = await WorkloadAsync(http, client, body, mode, data, settings, beforeTimed: () =>
            {
                lock (merges)
                {
                    merges.Clear();
                }
                listener.Start();
            });
            listener.Dispose();
            double mergeP50;
            lock (merges)
            {
                merges.Sort();
                mergeP50 = merges.Count == 0 ? 0 : merges[merges.Count / 2] * 1e6;
            }
            string? copy = nodes switch
            {
                0 => await SnapshotAndRestoreAsync(client),
                > 1 => await DrainAsync(client, apps, $"node{nodes - 1}"),
                _ => null,
            };
            return new Result(mode, nodes, replicas, run.IngestPerSecond, run.Qps, run.P50Ms, run.P99Ms, run.Recall, mergeP50, copy);
        }
        finally
        {
            foreach (var app in apps.AsEnumerable().Reverse())
            {
                await app.StopAsync();
                await app.DisposeAsync();
            }
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
                // A file still held by a stopping node; the temp folder is cleaned by the OS.
            }
        }
    }

    private sealed record Workload(double IngestPerSecond, double Qps, double P50Ms, double P99Ms, double Recall);

    /// <summary>
    /// The workload every mode runs: create the collection, ingest from concurrent loops, check the count, one
    /// untimed pass over the queries for recall (also the warm-up), then the timed queries.
    /// </summary>
    private static async Task<Workload> WorkloadAsync(HttpClient http, VectorStoreGrpcClient client, object body, string mode, Dataset data, Settings settings, Action? beforeTimed = null)
    {
        (await http.PutAsJsonAsync("/collections/bench", body)).EnsureSuccessStatusCode();

        var ingest = Stopwatch.StartNew();
        await Loops(settings.Clients, (data.Base.Length + settings.Batch - 1) / settings.Batch, async b =>
        {
            int from = b * settings.Batch, to = Math.Min(data.Base.Length, from + settings.Batch);
            await client.UpsertAsync("bench", Enumerable.Range(from, to - from).Select(i => new DocumentWrite { Id = i.ToString(CultureInfo.InvariantCulture), Vector = data.Base[i] }));
        });
        double ingestPerSecond = data.Base.Length / ingest.Elapsed.TotalSeconds;
        long stored = await client.CountAsync("bench");
        if (stored != data.Base.Length)
        {
            throw new InvalidOperationException($"{mode}: {stored} documents stored, {data.Base.Length} written.");
        }

        // Recall on each query once, then warm-up, then the timed run.
        double found = 0;
        for (int q = 0; q < data.Queries.Length; q++)
        {
            var hits = await client.QueryAsync("bench", new SearchQuery { Vector = data.Queries[q], K = K, Ef = settings.Ef });
            var truth = data.Truth[q].Take(K).ToHashSet();
            found += hits.Count(h => truth.Contains(int.Parse(h.Id, CultureInfo.InvariantCulture)));
        }
        double recall = found / (data.Queries.Length * K);
        beforeTimed?.Invoke();
        int total = Math.Max(settings.MinQueries, data.Queries.Length);
        var latencies = new double[total];
        var timed = Stopwatch.StartNew();
        await Loops(settings.Clients, total, async i =>
        {
            long started = Stopwatch.GetTimestamp();
            await client.QueryAsync("bench", new SearchQuery { Vector = data.Queries[i % data.Queries.Length], K = K, Ef = settings.Ef });
            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        });
        double qps = total / timed.Elapsed.TotalSeconds;
        Array.Sort(latencies);
        return new Workload(ingestPerSecond, qps, latencies[total / 2], latencies[(int)(total * 0.99)], recall);
    }

    private static async Task<string> SnapshotAndRestoreAsync(VectorStoreGrpcClient client)
    {
        var clock = Stopwatch.StartNew();
        var snapshot = await client.CreateSnapshotAsync("bench", "copy");
        await client.RestoreSnapshotAsync("bench", "copy", "bench-copy");
        double seconds = clock.Elapsed.TotalSeconds;
        return string.Create(CultureInfo.InvariantCulture,
            $"single-node snapshot + restore of the collection: {snapshot.SizeBytes / 1e6:F1} MB in {seconds:F2} s ({snapshot.SizeBytes / 1e6 / seconds:F1} MB/s)");
    }

    /// <summary>Drains one node: its replicas move (snapshot streamed in chunks, then the log tail) to the others.</summary>
    private static async Task<string> DrainAsync(VectorStoreGrpcClient client, List<WebApplication> apps, string node)
    {
        var stores = apps.Select(a => a.Services.GetRequiredService<NodeStore>()).ToArray();
        long bytes = stores.Sum(s => s.SnapshotBytesReceived), chunks = stores.Sum(s => s.SnapshotChunksReceived);
        var clock = Stopwatch.StartNew();
        var moves = await client.DrainNodeAsync(node);
        double seconds = clock.Elapsed.TotalSeconds;
        bytes = stores.Sum(s => s.SnapshotBytesReceived) - bytes;
        chunks = stores.Sum(s => s.SnapshotChunksReceived) - chunks;
        if (moves.Count == 0)
        {
            throw new InvalidOperationException($"Draining {node} moved nothing.");
        }
        return string.Create(CultureInfo.InvariantCulture,
            $"cluster drain of {node}: {moves.Count} replica moves, {bytes / 1e6:F1} MB of snapshots in {chunks} chunks, {seconds:F2} s ({bytes / 1e6 / seconds:F1} MB/s including the moves' catalog and log steps)");
    }

    /// <summary>Starts one single-node server (nodes = 0) or a cluster of that many nodes, and waits until every one is ready.</summary>
    private static async Task<List<WebApplication>> StartAsync(int nodes, string root)
    {
        var apps = new List<WebApplication>();
        int primary = FreePort();
        string serviceId = "bench" + Guid.NewGuid().ToString("N")[..8];
        for (int n = 0; n < Math.Max(1, nodes); n++)
        {
            var args = new List<string>
            {
                "--urls", "http://127.0.0.1:0",
                "--VectorStore:GrpcUrl=http://127.0.0.1:0",
                $"--VectorStore:DataPath={Path.Combine(root, $"node{n}", "engine")}",
                "--Logging:LogLevel:Default=Warning",
                // On a loaded machine Orleans warns about late timers; the benchmark's table is the output.
                "--Logging:LogLevel:Orleans=Error",
                "--allow-anonymous",
            };
            if (nodes > 0)
            {
                args.AddRange(
                [
                    "--VectorStore:Cluster:Enabled=true",
                    "--VectorStore:Cluster:Clustering=Localhost",
                    $"--VectorStore:Cluster:NodeName=node{n}",
                    $"--VectorStore:Cluster:SiloPort={(n == 0 ? primary : FreePort())}",
                    $"--VectorStore:Cluster:GatewayPort={FreePort()}",
                    $"--VectorStore:Cluster:PrimarySiloPort={primary}",
                    $"--VectorStore:Cluster:ServiceId={serviceId}",
                    $"--VectorStore:Cluster:ClusterId={serviceId}",
                    $"--VectorStore:Cluster:DataPath={Path.Combine(root, "cluster")}",
                    $"--VectorStore:Cluster:CatalogPath={Path.Combine(root, "catalog")}",
                ]);
            }
            var app = VectorStoreServer.Build([.. args]);
            await app.StartAsync();
            apps.Add(app);
        }
        foreach (var app in apps)
        {
            using var http = new HttpClient { BaseAddress = app.Services.GetRequiredService<ListenAddresses>().Rest };
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!(await http.GetAsync("/readyz")).IsSuccessStatusCode)
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException("A node did not become ready within 2 minutes.");
                }
                await Task.Delay(100);
            }
        }
        if (nodes > 1)
        {
            // Every node must see every other as active before replicas can be placed on all of them.
            using var http = new HttpClient { BaseAddress = apps[0].Services.GetRequiredService<ListenAddresses>().Rest };
            for (var deadline = DateTime.UtcNow.AddMinutes(2); ; await Task.Delay(200))
            {
                string status = await http.GetStringAsync("/cluster");
                if (CountOccurrences(status, "\"Active\"") >= nodes || DateTime.UtcNow > deadline)
                {
                    break;
                }
            }
        }
        return apps;
    }

    private static int CountOccurrences(string text, string value)
    {
        int count = 0;
        for (int i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + value.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }

    /// <summary>Runs work(0..count-1) from <paramref name="clients"/> concurrent loops.</summary>
    private static Task Loops(int clients, int count, Func<int, Task> work)
    {
        int next = -1;
        return Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            for (int i; (i = Interlocked.Increment(ref next)) < count;)
            {
                await work(i);
            }
        })));
    }

    private static Dataset Generate(int count, int queryCount)
    {
        var random = new Random(42);
        float[] Next() => [.. Enumerable.Range(0, Dimension).Select(_ => (float)random.NextDouble())];
        float[][] vectors = [.. Enumerable.Range(0, count).Select(_ => Next())];
        float[][] queries = [.. Enumerable.Range(0, queryCount).Select(_ => Next())];
        var truth = new int[queryCount][];
        Parallel.For(0, queryCount, q =>
        {
            var distances = new (float Distance, int Id)[count];
            for (int i = 0; i < count; i++)
            {
                float sum = 0;
                for (int d = 0; d < Dimension; d++)
                {
                    float diff = vectors[i][d] - queries[q][d];
                    sum += diff * diff;
                }
                distances[i] = (sum, i);
            }
            truth[q] = [.. distances.OrderBy(x => x.Distance).Take(K).Select(x => x.Id)];
        });
        return new Dataset("generated uniform", vectors, queries, truth);
    }

    private static Dataset ReadSift(string folder)
    {
        string Find(string pattern) => Directory.GetFiles(folder, pattern).FirstOrDefault() ?? throw new FileNotFoundException($"No {pattern} in {folder}.");
        return new Dataset("siftsmall", ReadVecs<float>(Find("*_base.fvecs")), ReadVecs<float>(Find("*_query.fvecs")), ReadVecs<int>(Find("*_groundtruth.ivecs")));
    }

    private static T[][] ReadVecs<T>(string path) where T : unmanaged
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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
