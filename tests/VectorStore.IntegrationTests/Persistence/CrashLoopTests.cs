using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Xunit.Abstractions;

namespace VectorStoreDb.IntegrationTests.Persistence;

/// <summary>
/// Starts the real server as a child process, writes from several clients, kills the process (SIGKILL) at a
/// random moment and restarts it: every acknowledged write must be there, identical and queryable. 10 cycles
/// by default, 50 with <c>VECTORSTORE_SOAK=1</c>.
/// </summary>
public sealed class CrashLoopTests(ITestOutputHelper output)
{
    private const string Collection = "crash";
    private const int Dimension = 8;
    private const int Writers = 4;

    /// <param name="quantization">null: the default HNSW collection; otherwise an exact collection scanning these codes,
    /// whose codes and fitted parameters must come back from checkpoints and the log like everything else.</param>
    /// <param name="onDisk">An HNSW graph over int8 codes with its full vectors in memory-mapped files instead (the
    /// mapped files are unlinked caches: a kill leaves nothing behind, and the log and checkpoints rebuild them).</param>
    [Theory]
    [InlineData(null, false)]
    [InlineData("int8", false)]
    [InlineData("int8", true)]
    public async Task AcknowledgedWritesSurviveRepeatedKills(string? quantization, bool onDisk)
    {
        bool soak = Environment.GetEnvironmentVariable("VECTORSTORE_SOAK") == "1";
        int cycles = quantization is null ? (soak ? 50 : 10) : (soak ? 20 : 5);
        string data = Path.Combine(Path.GetTempPath(), "vectorstore-crash", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(data);
        var random = new Random(12345);
        // id -> text of the last acknowledged upsert; ids whose last acknowledged operation was a delete are in deleted.
        var acknowledged = new ConcurrentDictionary<string, string>();
        var deleted = new ConcurrentDictionary<string, bool>();
        // An operation in flight when the process died may or may not have happened.
        var uncertain = new ConcurrentDictionary<string, bool>();
        try
        {
            for (int cycle = 0; cycle < cycles; cycle++)
            {
                using var server = await ServerProcess.StartAsync(data, output);
                if (cycle == 0)
                {
                    var created = await server.Http.PutAsJsonAsync($"/collections/{Collection}", quantization is null
                        ? new { encoder = "none", dimension = Dimension, metric = "l2", shards = 2 }
                        : onDisk
                            ? new { encoder = "none", dimension = Dimension, metric = "l2", shards = 2, quantization, onDisk }
                            : (object)new { encoder = "none", dimension = Dimension, metric = "l2", shards = 2, index = "exact", quantization });
                    Assert.Equal(HttpStatusCode.Created, created.StatusCode);
                }
                else
                {
                    await VerifyAsync(server.Http, acknowledged, deleted, uncertain, random);
                    var info = JsonDocument.Parse(await server.Http.GetStringAsync($"/collections/{Collection}")).RootElement;
                    Assert.Equal(quantization ?? "none", info.GetProperty("quantization").GetString());
                    Assert.Equal(onDisk, info.GetProperty("onDisk").GetBoolean());
                    // Unlinked as soon as mapped: the kills left no chunk file behind.
                    Assert.Empty(Directory.Exists(Path.Combine(data, "mapped")) ? Directory.GetFiles(Path.Combine(data, "mapped")) : []);
                }
                // Uncertain ids stay uncertain: an upsert in flight at a kill may have survived it, and is never retried.

                using var stop = new CancellationTokenSource();
                var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(() => WriteUntilKilledAsync(server.Http, cycle, w, acknowledged, deleted, uncertain, stop.Token))).ToArray();
                // Kill at a random moment once writes flow (the first requests of a fresh process are slow: JIT).
                int before = acknowledged.Count;
                for (var warmup = Stopwatch.StartNew(); acknowledged.Count == before && warmup.Elapsed < TimeSpan.FromSeconds(15);)
                {
                    await Task.Delay(10);
                }
                await Task.Delay(random.Next(0, 700));
                server.Kill();
                await stop.CancelAsync();
                await Task.WhenAll(writers);
                output.WriteLine($"cycle {cycle}: {acknowledged.Count} acknowledged documents, {deleted.Count} acknowledged deletes, {uncertain.Count} in flight at the kill");
            }
            using (var last = await ServerProcess.StartAsync(data, output))
            {
                await VerifyAsync(last.Http, acknowledged, deleted, uncertain, random);
            }
            Assert.True(acknowledged.Count > cycles * 10, $"only {acknowledged.Count} writes were acknowledged; the test did not exercise much");
        }
        finally
        {
            try
            {
                Directory.Delete(data, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static float[] VectorOf(string id)
    {
        var random = new Random(id.GetHashCode(StringComparison.Ordinal) ^ id.Length);
        return [.. Enumerable.Range(0, Dimension).Select(_ => (float)(random.NextDouble() * 2 - 1))];
    }

    private static async Task WriteUntilKilledAsync(HttpClient http, int cycle, int writer, ConcurrentDictionary<string, string> acknowledged,
        ConcurrentDictionary<string, bool> deleted, ConcurrentDictionary<string, bool> uncertain, CancellationToken stop)
    {
        var mine = new List<string>();
        for (int batch = 0; !stop.IsCancellationRequested; batch++)
        {
            try
            {
                if (batch % 7 == 6 && mine.Count > 0)
                {
                    string victim = mine[^1];
                    mine.RemoveAt(mine.Count - 1);
                    uncertain[victim] = true;
                    var response = await http.DeleteAsync($"/collections/{Collection}/documents/{victim}", CancellationToken.None);
                    Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
                    acknowledged.TryRemove(victim, out _);
                    deleted[victim] = true;
                    uncertain.TryRemove(victim, out _);
                    continue;
                }
                var ids = Enumerable.Range(0, 5).Select(i => $"c{cycle}-w{writer}-{batch}-{i}").ToArray();
                string text = $"cycle {cycle} batch {batch}";
                foreach (var id in ids)
                {
                    uncertain[id] = true;
                }
                var body = new { documents = ids.Select(id => new { id, text, vector = VectorOf(id) }) };
                var upsert = await http.PostAsJsonAsync($"/collections/{Collection}/documents", body, CancellationToken.None);
                Assert.Equal(HttpStatusCode.OK, upsert.StatusCode);
                foreach (var id in ids)
                {
                    acknowledged[id] = text;
                    uncertain.TryRemove(id, out _);
                    mine.Add(id);
                }
            }
            catch (HttpRequestException)
            {
                return; // the server was killed mid-request: that operation stays uncertain
            }
        }
    }

    private static async Task VerifyAsync(HttpClient http, ConcurrentDictionary<string, string> acknowledged, ConcurrentDictionary<string, bool> deleted,
        ConcurrentDictionary<string, bool> uncertain, Random random)
    {
        var sure = acknowledged.Where(p => !uncertain.ContainsKey(p.Key)).ToArray();
        // Every document from the last cycle plus a sample of older ones, fetched one by one.
        var check = sure.Where(p => p.Value.StartsWith($"cycle {sure.Max(s => CycleOf(s.Value))} ", StringComparison.Ordinal))
            .Concat(sure.OrderBy(_ => random.Next()).Take(150)).DistinctBy(p => p.Key);
        foreach (var (id, text) in check)
        {
            var response = await http.GetAsync($"/collections/{Collection}/documents/{id}?includeVector=true");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"acknowledged document {id} is missing after the crash ({response.StatusCode})");
            var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(text, document.GetProperty("text").GetString());
            Assert.Equal(VectorOf(id), document.GetProperty("vector").EnumerateArray().Select(v => v.GetSingle()).ToArray());
        }
        foreach (var id in deleted.Keys.Where(id => !uncertain.ContainsKey(id)).OrderBy(_ => random.Next()).Take(50))
        {
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/collections/{Collection}/documents/{id}")).StatusCode);
        }
        var count = JsonDocument.Parse(await http.GetStringAsync($"/collections/{Collection}/count")).RootElement.GetProperty("count").GetInt64();
        Assert.InRange(count, sure.Length, acknowledged.Count + uncertain.Count);

        // The index answers like an exact scan, and finds stored vectors at distance 0.
        foreach (var (id, _) in sure.OrderBy(_ => random.Next()).Take(5))
        {
            var vector = VectorOf(id);
            var indexed = await QueryAsync(http, vector, exact: false);
            var exact = await QueryAsync(http, vector, exact: true);
            Assert.Equal(exact, indexed);
            Assert.Equal(id, indexed[0]);
        }
    }

    private static int CycleOf(string text) => int.Parse(text.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<string[]> QueryAsync(HttpClient http, float[] vector, bool exact)
    {
        var response = await http.PostAsJsonAsync($"/collections/{Collection}/query", new { vector, k = 10, exact });
        response.EnsureSuccessStatusCode();
        return [.. JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("id").GetString()!)];
    }

    /// <summary>The published server started with <c>dotnet VectorStoreDb.Server.dll</c> on a free loopback port.</summary>
    private sealed class ServerProcess : IDisposable
    {
        private readonly Process _process;

        private ServerProcess(Process process, HttpClient http)
        {
            _process = process;
            Http = http;
        }

        public HttpClient Http { get; }

        public static async Task<ServerProcess> StartAsync(string data, ITestOutputHelper output)
        {
            int port = FreePort();
            string dll = Path.Combine(AppContext.BaseDirectory, "VectorStore.Server.dll");
            var start = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[]
            {
                dll, "--urls", $"http://127.0.0.1:{port}", "--VectorStore:GrpcUrl=http://127.0.0.1:0", $"--VectorStore:DataPath={data}",
                "--VectorStore:Durability:CheckpointIntervalSeconds=1", "--VectorStore:Durability:LogSegmentSizeMb=1",
                "--Logging:LogLevel:Default=Warning", "--VectorStore:DefaultEncoder=demo", "--VectorStore:BuiltInEncoders:Preload=false",
            })
            {
                start.ArgumentList.Add(arg);
            }
            var process = Process.Start(start)!;
            var log = new ConcurrentQueue<string>();
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) { log.Enqueue(e.Data); } };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { log.Enqueue(e.Data); } };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
            var server = new ServerProcess(process, http);
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    if ((await http.GetAsync("/readyz")).IsSuccessStatusCode)
                    {
                        output.WriteLine($"server ready in {deadline.ElapsedMilliseconds} ms");
                        return server;
                    }
                }
                catch (HttpRequestException)
                {
                }
                // Generous: CI machines are small and may be busy; a healthy start takes about a second.
                if (process.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(120))
                {
                    bool exited = process.HasExited;
                    server.Dispose();
                    Assert.Fail($"the server did not become ready (exited: {exited}):\n{string.Join('\n', log)}");
                }
                await Task.Delay(50);
            }
        }

        /// <summary>SIGKILL on Linux: no shutdown hooks, no flush.</summary>
        public void Kill()
        {
            _process.Kill();
            _process.WaitForExit();
        }

        public void Dispose()
        {
            Http.Dispose();
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit();
            }
            _process.Dispose();
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }
}
