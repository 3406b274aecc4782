using System.Diagnostics;
using System.Globalization;

namespace VectorStoreDb.ClusterTests;

/// <summary>
/// One real server process in cluster mode on loopback ports that stay the same across restarts, so a node killed
/// with SIGKILL comes back as the same node over the same data folder. Membership (and the catalog) is
/// <paramref name="membership"/>'s (Redis or PostgreSQL) when given, else Orleans localhost clustering with
/// <paramref name="primary"/> (or this node) holding the table and the catalog in <paramref name="catalogPath"/>, a
/// folder the nodes share.
/// </summary>
internal sealed class ServerNode(string name, string dataPath, ClusterMembership? membership, string serviceId,
    ServerNode? primary = null, string? catalogPath = null, IReadOnlyDictionary<string, string>? settings = null) : IDisposable
{
    private readonly int _siloPort = Ports.Free();
    private readonly int _gatewayPort = Ports.Free();
    // Fixed, not "REST port + 1": that port may be taken by an outgoing connection by the time the node restarts.
    private readonly int _grpcPort = Ports.Free();
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _output = new();
    private Process? _process;

    public string Name { get; } = name;

    public int HttpPort { get; } = Ports.Free();

    public Uri BaseAddress => new($"http://127.0.0.1:{HttpPort}/");

    public Uri GrpcAddress => new($"http://127.0.0.1:{_grpcPort}");

    public bool Running => _process is { HasExited: false };

    public void Start()
    {
        string server = Path.Combine(AppContext.BaseDirectory, "VectorStore.Server.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { server, "--urls", $"http://127.0.0.1:{HttpPort}", "--allow-anonymous" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        var env = start.Environment;
        env["VectorStore__DataPath"] = dataPath;
        // Cluster tests are about placement and failover, not models: the demo encoder, built-in models never read.
        env["VectorStore__DefaultEncoder"] = "demo";
        env["VectorStore__BuiltInEncoders__Preload"] = "false";
        env["VectorStore__GrpcUrl"] = $"http://127.0.0.1:{_grpcPort}";
        env["VectorStore__Cluster__Enabled"] = "true";
        if (membership is not null)
        {
            env["VectorStore__Cluster__Clustering"] = membership.Clustering;
            env["VectorStore__Cluster__ConnectionString"] = membership.ConnectionString;
        }
        else
        {
            env["VectorStore__Cluster__Clustering"] = "Localhost";
            env["VectorStore__Cluster__PrimarySiloPort"] = (primary ?? this)._siloPort.ToString(CultureInfo.InvariantCulture);
            env["VectorStore__Cluster__CatalogPath"] = catalogPath ?? Path.Combine(dataPath, "catalog");
        }
        env["VectorStore__Cluster__NodeName"] = Name;
        env["VectorStore__Cluster__AdvertisedAddress"] = "127.0.0.1";
        env["VectorStore__Cluster__SiloPort"] = _siloPort.ToString(CultureInfo.InvariantCulture);
        env["VectorStore__Cluster__GatewayPort"] = _gatewayPort.ToString(CultureInfo.InvariantCulture);
        env["VectorStore__Cluster__ServiceId"] = serviceId;
        env["VectorStore__Cluster__ClusterId"] = serviceId;
        env["VectorStore__Cluster__ReplicaTimeoutSeconds"] = "20";
        env["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            env[key] = value;
        }
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>SIGTERM and wait: the host shuts down, the silo leaves the cluster (its membership row says Dead).</summary>
    public void Stop()
    {
        if (_process is { HasExited: false } process)
        {
            if (Signals.Send(process.Id, Signals.Terminate) && !process.WaitForExit(30_000))
            {
                Assert.Fail($"node {Name} did not stop within 30 s of SIGTERM: {RecentOutput}");
            }
        }
    }

    /// <summary>SIGKILL: no shutdown, no checkpoint, no goodbye to the cluster.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
    }

    public async Task WaitReadyAsync(HttpClient http, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (!Running)
            {
                Assert.Fail($"node {Name} exited with {_process?.ExitCode}: {string.Join('\n', _output.TakeLast(20))}");
            }
            try
            {
                using var response = await http.GetAsync(new Uri(BaseAddress, "readyz"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            Assert.True(clock.Elapsed < timeout, $"node {Name} not ready after {timeout}");
            await Task.Delay(250);
        }
    }

    /// <summary>The last lines the process wrote (warnings and errors), for a failure message.</summary>
    public string RecentOutput => string.Join('\n', _output);

    /// <summary>The last lines the process wrote, for a failure message.</summary>
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

    public void Dispose()
    {
        Kill();
        _process?.Dispose();
    }
}

/// <summary>How multi-process nodes find each other: an Orleans clustering provider (<c>Redis</c>, <c>AdoNet</c>) and its connection string.</summary>
internal sealed record ClusterMembership(string Clustering, string ConnectionString);
