using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace VectorStoreDb.IntegrationTests.Docs;

/// <summary>
/// The README's quickstart, run as written: the fenced bash blocks between the quickstart markers are split into
/// commands, pointed at a fresh server process on a free loopback port, and run in order with bash and curl.
/// </summary>
public sealed partial class ReadmeQuickstartTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Readme_quickstart_runs_top_to_bottom_against_a_fresh_server()
    {
        Assert.True(Repository.OnPath("curl") is not null, "curl is needed to run the README's commands (apt-get install curl).");
        var commands = Repository.QuickstartCommands(File.ReadAllText(Repository.File("README.md")));
        foreach (string step in new[] { "-X PUT", "/documents", "/query", "\"mode\":\"hybrid\"", "/chat", "/snapshots" })
        {
            Assert.True(commands.Any(c => c.Contains(step, StringComparison.Ordinal)), $"the quickstart has no command with '{step}'");
        }
        Assert.All(commands, c => Assert.Matches(CurlFailsOnHttpErrors(), c));

        using var work = new TempFolder();
        await using var server = await ServerProcess.StartAsync(Path.Combine(work.Path, "data"), output);
        var outputs = new List<string>();
        foreach (string command in commands)
        {
            string rewritten = DefaultAddress().Replace(command, $"http://127.0.0.1:{server.Port}");
            // Print the status after the body, so the test sees a 2xx and not only curl's exit code.
            rewritten = "curl -w '\\n%{http_code}'" + rewritten["curl".Length..];
            var (exit, stdout, stderr) = await Bash(rewritten, work.Path);
            output.WriteLine($"$ {rewritten}\n{stdout}{stderr}");
            Assert.True(exit == 0, $"exit {exit}: {command}\n{stderr}\n{stdout}");
            string[] lines = stdout.TrimEnd().Split('\n');
            Assert.InRange(int.Parse(lines[^1], System.Globalization.CultureInfo.InvariantCulture), 200, 299);
            outputs.Add(string.Join('\n', lines[..^1]));
        }

        // What the README says each step shows.
        Assert.Contains("\"id\":\"tom\"", outputs[commands.FindIndex(c => c.Contains("furry cats", StringComparison.Ordinal))], StringComparison.Ordinal);
        string chat = outputs[commands.FindIndex(c => c.Contains("/chat", StringComparison.Ordinal))];
        Assert.Contains("\"citations\"", chat, StringComparison.Ordinal);
        Assert.Contains("\"documentId\":\"tom\"", chat, StringComparison.Ordinal);
        Assert.Contains("\"count\":3", outputs[^1], StringComparison.Ordinal);

        // Start-up and the whole run logged nothing that looks like an error (it used to warn "Overriding address(es)").
        Assert.DoesNotContain(server.Log, l => l.Contains("Overriding", StringComparison.Ordinal));
        Assert.DoesNotContain(server.Log, l => l.StartsWith("fail:", StringComparison.Ordinal) || l.StartsWith("crit:", StringComparison.Ordinal));
    }

    [Fact]
    public void Readme_stays_short()
    {
        int lines = File.ReadAllLines(Repository.File("README.md")).Length;
        Assert.True(lines <= 200, $"README.md has {lines} lines; the details belong in docs/.");
    }

    private static async Task<(int Exit, string Stdout, string Stderr)> Bash(string command, string workingDirectory)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        start.ArgumentList.Add("-o");
        start.ArgumentList.Add("pipefail");
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Every command is curl with -f, so an HTTP error fails the command instead of printing a problem body.</summary>
    [GeneratedRegex(@"^curl\s(?:.*\s)?-[a-zA-Z]*f[a-zA-Z]*\s", RegexOptions.Singleline)]
    private static partial Regex CurlFailsOnHttpErrors();

    [GeneratedRegex(@"(?:https?://)?(?:localhost|127\.0\.0\.1):6333")]
    private static partial Regex DefaultAddress();

    /// <summary>The real server as a child process, as a user starts it, with its console output kept.</summary>
    private sealed class ServerProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _log;

        private ServerProcess(Process process, ConcurrentQueue<string> log, int port)
        {
            _process = process;
            _log = log;
            Port = port;
        }

        public int Port { get; }

        public IReadOnlyCollection<string> Log => _log;

        public static async Task<ServerProcess> StartAsync(string data, ITestOutputHelper output)
        {
            int port = LoopbackPort.Free();
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string arg in new[]
            {
                Path.Combine(AppContext.BaseDirectory, "VectorStore.Server.dll"), "--urls", $"http://127.0.0.1:{port}",
                "--VectorStore:GrpcUrl=http://127.0.0.1:0", $"--VectorStore:DataPath={data}",
            })
            {
                start.ArgumentList.Add(arg);
            }
            var log = new ConcurrentQueue<string>();
            var process = Process.Start(start)!;
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) { log.Enqueue(e.Data); } };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { log.Enqueue(e.Data); } };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var server = new ServerProcess(process, log, port);
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
            var clock = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    if ((await http.GetAsync("/readyz")).IsSuccessStatusCode)
                    {
                        output.WriteLine($"server ready in {clock.ElapsedMilliseconds} ms");
                        return server;
                    }
                }
                catch (HttpRequestException)
                {
                }
                // Generous: a busy 2-core machine; a healthy start takes about a second.
                if (process.HasExited || clock.Elapsed > TimeSpan.FromSeconds(120))
                {
                    await server.DisposeAsync();
                    Assert.Fail($"the server did not become ready:\n{string.Join('\n', log)}");
                }
                await Task.Delay(50);
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
            _process.Dispose();
        }
    }
}
