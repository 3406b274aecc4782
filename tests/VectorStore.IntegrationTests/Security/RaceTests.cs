using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using StatusCode = Grpc.Core.StatusCode;
using V1 = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.IntegrationTests.Security;

/// <summary>
/// Upserts, deletes, queries, listings and snapshot create/restore over REST and gRPC while the collection they aim
/// at is deleted and re-created: no request fails with a server error, and every write acknowledged after the last
/// re-create is in the final collection.
/// </summary>
public class RaceTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private static readonly TimeSpan ChurnTime = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan QuietTime = TimeSpan.FromSeconds(1);

    private readonly ConcurrentQueue<string> _failures = new();
    private readonly ConcurrentDictionary<string, long> _acknowledged = new();
    private long _lastCreated;
    private int _operations;

    [Fact]
    public async Task Requests_racing_a_delete_and_recreate_of_their_collection_get_no_server_error_and_lose_no_acknowledged_write()
    {
        string name = ServerFixture.UniqueName("race");
        await CreateAsync(name);
        using var churn = new CancellationTokenSource(ChurnTime);
        // Stopped once the churn has ended and the final collection has taken writes (capped in case the churn hangs).
        using var all = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var documents = new V1.Documents.DocumentsClient(server.Channel);
        var search = new V1.Search.SearchClient(server.Channel);
        var collections = new V1.Collections.CollectionsClient(server.Channel);
        var snapshots = new V1.Snapshots.SnapshotsClient(server.Channel);

        var churning = Loop("churn", churn.Token, async i =>
            {
                if (i % 2 == 0)
                {
                    Check("delete collection", await server.Http.DeleteAsync($"/collections/{name}"));
                }
                else
                {
                    await Grpc("delete collection", () => collections.DeleteAsync(new V1.DeleteCollectionRequest { Name = name }).ResponseAsync);
                }
                await CreateAsync(name);
                await Task.Delay(Random.Shared.Next(20, 120));
            });
        var loops = new List<Task>
        {
            Loop("rest writer", all.Token, async i =>
            {
                string id = $"r{i}";
                long started = Stopwatch.GetTimestamp();
                if (Check("upsert", await server.Http.PostAsJsonAsync($"/collections/{name}/documents", new { documents = new[] { new { id, vector = Vector(i) } } })))
                {
                    _acknowledged[id] = started;
                }
            }),
            Loop("grpc writer", all.Token, async i =>
            {
                string id = $"g{i}";
                long started = Stopwatch.GetTimestamp();
                var request = new V1.UpsertRequest { Collection = name, Documents = { new V1.DocumentInput { Id = id, Vector = { Vector(i) } } } };
                if (await Grpc("upsert", () => documents.UpsertAsync(request).ResponseAsync))
                {
                    _acknowledged[id] = started;
                }
            }),
            Loop("deleter", all.Token, async i =>
            {
                string id = $"t{i}";
                Check("upsert doomed", await server.Http.PostAsJsonAsync($"/collections/{name}/documents", new { documents = new[] { new { id, vector = Vector(i) } } }));
                if (i % 2 == 0)
                {
                    Check("delete document", await server.Http.DeleteAsync($"/collections/{name}/documents/{id}"));
                }
                else
                {
                    await Grpc("delete document", () => documents.DeleteAsync(new V1.DeleteDocumentRequest { Collection = name, Id = id }).ResponseAsync);
                }
            }),
            Loop("reader", all.Token, async i =>
            {
                Check("query", await server.Http.PostAsJsonAsync($"/collections/{name}/query", new { vector = Vector(i), k = 5 }));
                await Grpc("query", () => search.QueryAsync(new V1.QueryRequest { Collection = name, Vector = { Vector(i + 1) }, K = 5, Exact = i % 3 == 0 }).ResponseAsync);
                Check("get", await server.Http.GetAsync($"/collections/{name}/documents/r{i / 2}"));
                Check("count", await server.Http.GetAsync($"/collections/{name}/count"));
            }),
            Loop("lister", all.Token, async i =>
            {
                Check("list collections", await server.Http.GetAsync("/collections"));
                Check("get collection", await server.Http.GetAsync($"/collections/{name}"));
                Check("list documents", await server.Http.GetAsync($"/collections/{name}/documents?limit=20&includeVectors={i % 2 == 0}"));
                await Grpc("list documents", () => documents.ListAsync(new V1.ListDocumentsRequest { Collection = name, Limit = 20 }).ResponseAsync);
                await Grpc("list collections", () => collections.ListAsync(new V1.ListCollectionsRequest()).ResponseAsync);
            }),
            Loop("snapshots", all.Token, async i =>
            {
                string snapshot = $"s{i}";
                bool created = i % 2 == 0
                    ? Check("create snapshot", await server.Http.PostAsJsonAsync($"/collections/{name}/snapshots", new { name = snapshot }))
                    : await Grpc("create snapshot", () => snapshots.CreateAsync(new V1.CreateSnapshotRequest { Collection = name, Name = snapshot }).ResponseAsync);
                Check("list snapshots", await server.Http.GetAsync($"/collections/{name}/snapshots"));
                if (created)
                {
                    string target = $"{name}-r{i}";
                    if (Check("restore snapshot", await server.Http.PostAsJsonAsync($"/collections/{name}/snapshots/{snapshot}/restore", new { target })))
                    {
                        Check("query restored", await server.Http.PostAsJsonAsync($"/collections/{target}/query", new { vector = Vector(i), k = 3 }));
                        Check("delete restored", await server.Http.DeleteAsync($"/collections/{target}"));
                    }
                    Check("delete snapshot", await server.Http.DeleteAsync($"/collections/{name}/snapshots/{snapshot}"));
                }
            }),
        };
        await churning;
        // The quiet phase lasts until the final collection has at least five acknowledged writes: on a loaded machine a
        // fixed second may pass before a writer gets a turn, which would test the machine, not the server.
        var quiet = Stopwatch.StartNew();
        while (!all.IsCancellationRequested && quiet.Elapsed < TimeSpan.FromSeconds(30)
               && (quiet.Elapsed < QuietTime || _acknowledged.Count(w => w.Value > Interlocked.Read(ref _lastCreated)) < 5))
        {
            await Task.Delay(50);
        }
        all.Cancel();
        await Task.WhenAll(loops);

        Assert.True(_failures.IsEmpty, $"{_failures.Count} of {_operations} requests failed:\n" + string.Join("\n", _failures.Take(30)));
        var final = _acknowledged.Where(w => w.Value > Interlocked.Read(ref _lastCreated)).Select(w => w.Key).ToList();
        Assert.True(final.Count >= 5, $"only {final.Count} writes started after the last re-create: the quiet phase did not write");
        var present = await AllIdsAsync(name);
        var lost = final.Where(id => !present.Contains(id)).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} of {final.Count} acknowledged writes are missing from the final collection: {string.Join(", ", lost.Take(20))}");
    }

    private static float[] Vector(int i) => [1 + (i % 7), 1 + (i % 5), 1 + (i % 3), 1];

    private async Task CreateAsync(string name)
    {
        for (int attempt = 0; ; attempt++)
        {
            var response = await server.Http.PutAsJsonAsync($"/collections/{name}", new { dimension = 4 });
            if (response.IsSuccessStatusCode)
            {
                Interlocked.Exchange(ref _lastCreated, Stopwatch.GetTimestamp());
                return;
            }
            Check("create collection", response);
            Assert.True(attempt < 100, $"the collection could not be re-created: {(int)response.StatusCode}");
            await Task.Delay(10);
        }
    }

    private Task Loop(string name, CancellationToken stop, Func<int, Task> body) => Task.Run(async () =>
    {
        for (int i = 0; !stop.IsCancellationRequested; i++)
        {
            try
            {
                await body(i);
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                _failures.Enqueue($"{name}: {e.GetType().Name}: {e.Message}");
            }
        }
    });

    /// <summary>True on success; a 404 (collection or snapshot gone), 409 (exists) or 429 (busy) is a fair answer in a race; anything else is recorded.</summary>
    private bool Check(string what, HttpResponseMessage response)
    {
        Interlocked.Increment(ref _operations);
        int status = (int)response.StatusCode;
        if (status is not (< 300 or 404 or 409 or 429))
        {
            _failures.Enqueue($"{what}: HTTP {status} {response.Content.ReadAsStringAsync().GetAwaiter().GetResult()}");
        }
        return response.IsSuccessStatusCode;
    }

    private async Task<bool> Grpc(string what, Func<Task> call)
    {
        Interlocked.Increment(ref _operations);
        try
        {
            await call();
            return true;
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.NotFound or StatusCode.AlreadyExists or StatusCode.ResourceExhausted)
        {
            return false;
        }
        catch (RpcException e)
        {
            _failures.Enqueue($"{what}: gRPC {e.StatusCode} {e.Status.Detail}");
            return false;
        }
    }

    private async Task<HashSet<string>> AllIdsAsync(string name)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        string? after = null;
        do
        {
            var page = await server.Http.GetFromJsonAsync<JsonElement>($"/collections/{name}/documents?limit=500{(after is null ? "" : $"&after={Uri.EscapeDataString(after)}")}");
            foreach (var document in page.GetProperty("documents").EnumerateArray())
            {
                ids.Add(document.GetProperty("id").GetString()!);
            }
            after = page.TryGetProperty("nextAfter", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
        }
        while (after is not null);
        return ids;
    }
}
