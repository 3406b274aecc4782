using System.Diagnostics;
using System.Globalization;

namespace VectorStoreDb.ClusterTests;

/// <summary>
/// A throw-away PostgreSQL (Debian's packages) on a free loopback port: its own data folder made by <c>initdb</c>,
/// trust authentication, no fsync, stopped and deleted on dispose. PostgreSQL refuses to run as root, so as root
/// (CI containers) the server runs as the <c>postgres</c> user the Debian package creates, through <c>setpriv</c>,
/// which execs (the process we hold is the postmaster itself).
/// </summary>
internal sealed class PostgresServer : IDisposable
{
    private const string Superuser = "postgres";
    private readonly Process _process;
    private readonly string _bin;

    private PostgresServer(Process process, string bin, int port)
    {
        _process = process;
        _bin = bin;
        Port = port;
    }

    /// <summary>The newest <c>/usr/lib/postgresql/&lt;version&gt;/bin</c> with a server in it, if any.</summary>
    public static string? BinDirectory { get; } = FindBinDirectory();

    /// <summary>Our schema for Orleans membership and the catalog (deploy/postgres), copied next to the tests.</summary>
    public static string SchemaScript => Path.Combine(AppContext.BaseDirectory, "postgres", "orleans-membership-and-catalog.sql");

    public int Port { get; }

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port.ToString(CultureInfo.InvariantCulture)};Username={Superuser};Database={database}";

    public static async Task<PostgresServer> StartAsync(string folder)
    {
        string bin = BinDirectory ?? throw new InvalidOperationException("PostgreSQL is not installed (apt-get install postgresql).");
        string data = Path.Combine(folder, "data");
        Directory.CreateDirectory(folder);
        // Environment.UserName is the effective user's name.
        bool root = Environment.UserName == "root";
        if (root)
        {
            // The postgres user must own the folder it writes its data, socket and log into.
            await RunAsync("chown", ["postgres:postgres", folder]);
        }
        await RunAsync(Path.Combine(bin, "initdb"),
            ["-D", data, "-U", Superuser, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], root);

        int port = Ports.Free();
        var start = Start(Path.Combine(bin, "postgres"),
            ["-D", data, "-p", port.ToString(CultureInfo.InvariantCulture), "-k", folder,
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
             "-c", "full_page_writes=off", "-c", "max_connections=200"], root);
        var process = Process.Start(start)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new PostgresServer(process, bin, port);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                server.Dispose();
                throw new InvalidOperationException($"postgres exited with {process.ExitCode}: {string.Join('\n', output)}");
            }
            // Accepting TCP is not yet accepting queries (recovery, start-up); pg_isready asks the server itself.
            var ready = await RunAsync(Path.Combine(bin, "pg_isready"), ["-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-U", Superuser], check: false);
            if (ready == 0)
            {
                return server;
            }
            if (clock.Elapsed > TimeSpan.FromSeconds(30))
            {
                server.Dispose();
                throw new InvalidOperationException($"postgres not ready after 30 s: {string.Join('\n', output)}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Creates a database and applies our schema to it with psql, the way docs/operations/cluster.md says.</summary>
    public async Task<string> CreateDatabaseAsync(string name)
    {
        await RunAsync(Path.Combine(_bin, "createdb"), ["-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", Superuser, name]);
        await PsqlAsync(name, "-v", "ON_ERROR_STOP=1", "-q", "-f", SchemaScript);
        return ConnectionString(name);
    }

    /// <summary>Runs psql against <paramref name="database"/> and returns what it printed.</summary>
    public async Task<string> PsqlAsync(string database, params string[] arguments)
    {
        var start = new ProcessStartInfo(Path.Combine(_bin, "psql"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in (string[])[$"host=127.0.0.1 port={Port} user={Superuser} dbname={database}", .. arguments])
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"psql {string.Join(' ', arguments)} failed with {process.ExitCode}: {await stderr}");
        }
        return (await stdout).Trim();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            // Fast shutdown (SIGINT): the postmaster ends its backends itself; SIGKILL would orphan them.
            if (!Signals.Send(_process.Id, Signals.Interrupt) || !_process.WaitForExit(10_000))
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        _process.Dispose();
    }

    private static string? FindBinDirectory()
    {
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root))
        {
            return null;
        }
        return Directory.GetDirectories(root)
            .Select(d => (Dir: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), out int v) ? v : 0))
            .Where(d => File.Exists(Path.Combine(d.Dir, "postgres")) && File.Exists(Path.Combine(d.Dir, "initdb")) && File.Exists(Path.Combine(d.Dir, "psql")))
            .OrderByDescending(d => d.Version)
            .Select(d => d.Dir)
            .FirstOrDefault();
    }

    private static ProcessStartInfo Start(string executable, string[] arguments, bool asPostgresUser)
    {
        var start = new ProcessStartInfo(asPostgresUser ? "setpriv" : executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (asPostgresUser)
        {
            foreach (var argument in (string[])["--reuid=postgres", "--regid=postgres", "--init-groups", executable])
            {
                start.ArgumentList.Add(argument);
            }
        }
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        return start;
    }

    private static async Task<int> RunAsync(string executable, string[] arguments, bool asPostgresUser = false, bool check = true)
    {
        using var process = Process.Start(Start(executable, arguments, asPostgresUser))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (check && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(executable)} failed with {process.ExitCode}: {await stdout}\n{await stderr}");
        }
        return process.ExitCode;
    }
}
