using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using VectorStoreDb.Client;

namespace VectorStoreDb.Benchmarks.Cluster;

/// <summary>
/// "Single-node mode unchanged": this build's server against an earlier build's (main before cluster mode), both
/// started as child processes (<c>dotnet VectorStore.Server.dll</c>) with the same settings on loopback, each with a
/// fresh data folder, driven by the same client and workload. Rounds alternate the order (AB, BA, AB, ...) so that a
/// machine getting busier or quieter during the run does not favour one build; the medians of the per-round ratios
/// are the result.
/// </summary>
internal static partial class ClusterBenchmark
{
    private const double UnchangedTolerance = 0.03;

    private static async Task CompareWithBaselineAsync(Dataset data, Settings settings)
    {
        string baseline = Path.GetFullPath(settings.BaselineServer!), current = Path.GetFullPath(settings.CurrentServer);
        Console.WriteLine($"### Single-node mode: this build vs {settings.BaselineLabel} ({settings.Rounds} rounds, order alternating, child processes)");
        Console.WriteLine();
        Console.WriteLine($"- current:  {current}");
        Console.WriteLine($"- baseline: {baseline}");
        Console.WriteLine();
        Console.WriteLine("| round | build | ingest docs/s | QPS | p50 ms | p99 ms | recall@10 | load (1 min) |");
        Console.WriteLine("|---:|---|---:|---:|---:|---:|---:|---:|");
        var pairs = new List<(Workload Current, Workload Baseline)>();
        for (int round = 1; round <= settings.Rounds; round++)
        {
            bool currentFirst = round % 2 == 1;
            Workload? ours = null, theirs = null;
            foreach (bool isCurrent in currentFirst ? new[] { true, false } : [false, true])
            {
                var run = await MeasureChildAsync(isCurrent ? current : baseline, data, settings);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {round} | {(isCurrent ? "current" : settings.BaselineLabel)} | {run.IngestPerSecond:N0} | {run.Qps:N0} | {run.P50Ms:F2} | {run.P99Ms:F2} | {run.Recall:F4} | {LoadAverage()} |"));
                if (isCurrent)
                {
                    ours = run;
                }
                else
                {
                    theirs = run;
                }
            }
            pairs.Add((ours!, theirs!));
        }

        Console.WriteLine();
        Console.WriteLine($"Ratios current / {settings.BaselineLabel} (ingest and QPS: higher is better; p50 and p99: lower is better):");
        Console.WriteLine();
        Console.WriteLine("| round | ingest | QPS | p50 | p99 |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        var ratios = pairs.Select(p => new[]
        {
            p.Current.IngestPerSecond / p.Baseline.IngestPerSecond, p.Current.Qps / p.Baseline.Qps,
            p.Current.P50Ms / p.Baseline.P50Ms, p.Current.P99Ms / p.Baseline.P99Ms,
        }).ToList();
        for (int r = 0; r < ratios.Count; r++)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {r + 1} | {ratios[r][0]:F3}× | {ratios[r][1]:F3}× | {ratios[r][2]:F3}× | {ratios[r][3]:F3}× |"));
        }
        var medians = Enumerable.Range(0, 4).Select(m => Median(ratios.Select(r => r[m]))).ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| **median** | **{medians[0]:F3}×** | **{medians[1]:F3}×** | **{medians[2]:F3}×** | **{medians[3]:F3}×** |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| spread (min–max) | {Spread(ratios, 0)} | {Spread(ratios, 1)} | {Spread(ratios, 2)} | {Spread(ratios, 3)} |"));
        Console.WriteLine();
        // "Unchanged" means not more than 3 % worse: throughput ratios >= 0.97, latency ratios <= 1.03.
        bool[] met = [medians[0] >= 1 - UnchangedTolerance, medians[1] >= 1 - UnchangedTolerance, medians[2] <= 1 + UnchangedTolerance, medians[3] <= 1 + UnchangedTolerance];
        string[] names = ["ingest", "QPS", "p50", "p99"];
        Console.WriteLine("Target \"single-node mode unchanged (≤ 3 % worse)\": " + string.Join(", ",
            names.Select((n, i) => string.Create(CultureInfo.InvariantCulture, $"{n} {medians[i]:F3}× {(met[i] ? "met" : "NOT met")}"))) +
            ". Read against the spread: a round-to-round spread wider than ±3 % means this machine cannot resolve 3 %.");
        Console.WriteLine();
    }

    private static string Spread(List<double[]> ratios, int metric) =>
        string.Create(CultureInfo.InvariantCulture, $"{ratios.Min(r => r[metric]):F2}–{ratios.Max(r => r[metric]):F2}");

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "?";
        }
    }

    /// <summary>One build's single-node server in a child process: start, the shared workload, stop, delete its data.</summary>
    private static async Task<Workload> MeasureChildAsync(string serverDll, Dataset data, Settings settings)
    {
        string root = Path.Combine(Path.GetTempPath(), $"vs-cluster-bench-{Guid.NewGuid():N}");
        await using var server = await ChildServer.StartAsync(serverDll, root);
        try
        {
            using var http = new HttpClient { BaseAddress = server.Rest, Timeout = TimeSpan.FromMinutes(10) };
            using var client = new VectorStoreGrpcClient(server.Grpc, new VectorStoreClientOptions { Timeout = TimeSpan.FromMinutes(5) });
            object body = new { encoder = "none", dimension = Dimension, metric = "l2", index = "hnsw", shards = settings.Shards };
            return await WorkloadAsync(http, client, body, Path.GetFileName(Path.GetDirectoryName(serverDll)) ?? serverDll, data, settings);
        }
        catch (Exception e) when (server.HasExited)
        {
            throw new InvalidOperationException($"The server {serverDll} exited during the run:{Environment.NewLine}{server.Output}", e);
        }
    }

    /// <summary>
    /// A server started as <c>dotnet VectorStore.Server.dll</c> on two free loopback ports. Disposing kills it (its
    /// data folder is thrown away anyway) and deletes the folder; a process exit or Ctrl+C of the benchmark kills every
    /// child still running, so none outlives the benchmark.
    /// </summary>
    private sealed class ChildServer : IAsyncDisposable
    {
        private static readonly ConcurrentDictionary<int, ChildServer> Running = new();
        private static readonly List<PosixSignalRegistration> Signals = [];
        private static int _hooked;
        private readonly Process _process;
        private readonly string _root;
        private readonly ConcurrentQueue<string> _output = new();

        private ChildServer(Process process, string root, Uri rest, Uri grpc)
        {
            _process = process;
            _root = root;
            Rest = rest;
            Grpc = grpc;
        }

        public Uri Rest { get; }

        public Uri Grpc { get; }

        public bool HasExited => _process.HasExited;

        /// <summary>The child's last lines of output (warnings and errors only, by its log level).</summary>
        public string Output => string.Join(Environment.NewLine, _output);

        public static bool Exists(string baseline, string current, out string? problem)
        {
            foreach (string dll in new[] { baseline, current })
            {
                string config = Path.ChangeExtension(Path.GetFullPath(dll), ".runtimeconfig.json");
                if (!File.Exists(dll) || !File.Exists(config))
                {
                    problem = $"{Path.GetFullPath(dll)} (with its .runtimeconfig.json) not found: build or publish that server first " +
                        "(dotnet build src/Server/VectorStore.Server.csproj -c Release, or dotnet publish ... -o <folder>).";
                    return false;
                }
            }
            problem = null;
            return true;
        }

        public static async Task<ChildServer> StartAsync(string dll, string root)
        {
            HookExit();
            int restPort = FreePort(), grpcPort = FreePort();
            var start = new ProcessStartInfo("dotnet")
            {
                WorkingDirectory = Directory.CreateDirectory(root).FullName,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string arg in new[]
            {
                dll,
                "--urls", $"http://127.0.0.1:{restPort}",
                $"--VectorStore:GrpcUrl=http://127.0.0.1:{grpcPort}",
                $"--VectorStore:DataPath={Path.Combine(root, "engine")}",
                "--Logging:LogLevel:Default=Warning",
                "--allow-anonymous",
            })
            {
                start.ArgumentList.Add(arg);
            }
            // The same environment for both builds, whatever the benchmark's shell has set.
            start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
            start.Environment["DOTNET_ENVIRONMENT"] = "Production";
            var process = Process.Start(start) ?? throw new InvalidOperationException($"dotnet {dll} did not start.");
            var server = new ChildServer(process, root, new Uri($"http://127.0.0.1:{restPort}"), new Uri($"http://127.0.0.1:{grpcPort}"));
            Running[process.Id] = server;
            process.OutputDataReceived += (_, e) => server.Keep(e.Data);
            process.ErrorDataReceived += (_, e) => server.Keep(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                using var http = new HttpClient { BaseAddress = server.Rest, Timeout = TimeSpan.FromSeconds(10) };
                for (var deadline = DateTime.UtcNow.AddMinutes(2); ; await Task.Delay(100))
                {
                    if (process.HasExited)
                    {
                        throw new InvalidOperationException($"dotnet {dll} exited with {process.ExitCode}:{Environment.NewLine}{server.Output}");
                    }
                    try
                    {
                        if ((await http.GetAsync("/readyz")).IsSuccessStatusCode)
                        {
                            return server;
                        }
                    }
                    catch (HttpRequestException)
                    {
                        // Not listening yet.
                    }
                    if (DateTime.UtcNow > deadline)
                    {
                        throw new TimeoutException($"dotnet {dll} did not become ready within 2 minutes:{Environment.NewLine}{server.Output}");
                    }
                }
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            Stop(_process);
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                // Killed but not reaped in time; the folder delete below may then fail, which is harmless.
            }
            Running.TryRemove(_process.Id, out _);
            _process.Dispose();
            DeleteFolder(_root);
        }

        private static void DeleteFolder(string root)
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
                // A file still held by the dying process; the temp folder is cleaned by the OS.
            }
        }

        private void Keep(string? line)
        {
            if (line is null)
            {
                return;
            }
            _output.Enqueue(line);
            while (_output.Count > 50)
            {
                _output.TryDequeue(out _);
            }
        }

        private static void Stop(Process process)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill();
                }
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        }

        /// <summary>Kills the children still running when the benchmark ends or is interrupted.</summary>
        private static void HookExit()
        {
            if (Interlocked.Exchange(ref _hooked, 1) == 1)
            {
                return;
            }
            AppDomain.CurrentDomain.ProcessExit += (_, _) => StopAll();
            AppDomain.CurrentDomain.UnhandledException += (_, _) => StopAll();
            // Ctrl+C, kill and a closed terminal: stop the children, then let the signal end the benchmark as usual.
            foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP, PosixSignal.SIGQUIT })
            {
                Signals.Add(PosixSignalRegistration.Create(signal, _ => StopAll()));
            }
        }

        private static void StopAll()
        {
            // TryRemove: a signal handler and ProcessExit may both get here; each child is stopped and deleted once.
            foreach (int id in Running.Keys)
            {
                if (!Running.TryRemove(id, out var server))
                {
                    continue;
                }
                Stop(server._process);
                // No WaitForExit here: a signal handler must not wait for the child's exit notification. SIGKILL is
                // quick; deleting a few times covers files the child had in flight.
                for (int attempt = 0; attempt < 5 && Directory.Exists(server._root); attempt++)
                {
                    Thread.Sleep(100);
                    DeleteFolder(server._root);
                }
            }
        }
    }
}
