using System.Diagnostics;
using System.Net.Sockets;

namespace VectorStoreDb.ClusterTests;

/// <summary>A throw-away redis-server on a free loopback port: no persistence, its own folder, killed on dispose.</summary>
internal sealed class RedisServer : IDisposable
{
    private readonly Process _process;

    private RedisServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public static string? Executable { get; } = new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists);

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    public ClusterMembership Membership => new("Redis", ConnectionString);

    public static async Task<RedisServer> StartAsync(string folder)
    {
        string executable = Executable ?? throw new InvalidOperationException("redis-server is not installed (apt-get install redis-server).");
        Directory.CreateDirectory(folder);
        int port = Ports.Free();
        var process = Process.Start(new ProcessStartInfo(executable)
        {
            ArgumentList = { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", folder },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                return new RedisServer(process, port);
            }
            catch (SocketException) when (clock.Elapsed < TimeSpan.FromSeconds(20) && !process.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(5000);
        }
        _process.Dispose();
    }
}
