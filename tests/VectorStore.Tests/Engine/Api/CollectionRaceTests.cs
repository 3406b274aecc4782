using System.Collections.Concurrent;
using VectorStoreDb.Engine;
using VectorStoreDb.Engine.Filtering;

namespace VectorStoreDb.Tests.Engine.Api;

/// <summary>
/// Operations racing a delete and re-create of their collection: each must complete or answer NotFound (never
/// ObjectDisposedException or any other failure), and every upsert acknowledged by the final incarnation is there.
/// Real engine, real disk, real threads.
/// </summary>
public sealed class CollectionRaceTests : IDisposable
{
    private const string Name = "raced";
    private readonly string _path = Path.Combine(Path.GetTempPath(), "vectorstore-race", Guid.NewGuid().ToString("N"));
    private readonly VectorStoreEngine _engine;

    public CollectionRaceTests() => _engine = VectorStoreEngine.Open(_path, configure: o =>
    {
        o.Durability.Mode = DurabilityMode.Async;
        o.Durability.CheckpointIntervalSeconds = 0;
    });

    public void Dispose()
    {
        _engine.Dispose();
        Directory.Delete(_path, recursive: true);
    }

    private static CreateCollectionRequest Request => new() { Name = Name, Dimension = 4, Encoder = "none", Shards = 3, Text = true };

    [Fact]
    public async Task Operations_racing_delete_and_recreate_answer_not_found_or_complete()
    {
        await _engine.CreateCollectionAsync(Request);
        // Warm every path once (JIT, the text analyser), so the race measures the races, not the first calls.
        await _engine.UpsertAsync(Name, [new DocumentInput { Id = "warm", Text = "raced text", Vector = [1, 2, 3, 4] }]);
        await _engine.QueryAsync(Name, new QueryRequest { Text = "raced", Mode = QueryModes.Text });
        await _engine.ScrollAsync(Name, new ScrollRequest { OrderBy = new ScrollOrder("n") });
        var warm = await _engine.CreateSnapshotAsync(Name, "warm");
        await _engine.RestoreSnapshotAsync(Name, warm.Name, "warmed");
        await _engine.DeleteCollectionAsync("warmed");
        _engine.DeleteSnapshot(Name, warm.Name);
        await _engine.DeleteCollectionAsync(Name);
        await _engine.CreateCollectionAsync(Request);

        // The race runs for at least 5 s, three re-creations and 20 completed operations; on a loaded machine a delete can take seconds, so a
        // fixed duration would measure the machine's load instead of the races. The cap keeps a hang a failure.
        using var stop = new CancellationTokenSource();
        var failures = new ConcurrentQueue<Exception>();
        // Which incarnation each acknowledged id went to: an upsert acknowledged while the collection of that
        // generation was live must be in it unless a later delete removed that generation.
        var acknowledged = new ConcurrentDictionary<string, int>();
        int generation = 0;
        int completed = 0;
        int notFound = 0;

        // Slowest completed call per worker: the failure message then says what held a delete up on a slow machine.
        var slowest = new ConcurrentDictionary<int, long>();
        int workerIds = 0;
        async Task RunAsync(Func<int, Task> operation)
        {
            int me = Interlocked.Increment(ref workerIds);
            for (int i = 0; !stop.IsCancellationRequested; i++)
            {
                // A refused operation completes synchronously: yield so eight spinning loops cannot starve the thread
                // pool of the threads the delete and re-create continue on.
                await Task.Yield();
                var started = System.Diagnostics.Stopwatch.StartNew();
                try
                {
                    await operation(i);
                    slowest.AddOrUpdate(me, started.ElapsedMilliseconds, (_, old) => Math.Max(old, started.ElapsedMilliseconds));
                    Interlocked.Increment(ref completed);
                }
                catch (VectorStoreException ex) when (ex.Code == ErrorCode.NotFound)
                {
                    Interlocked.Increment(ref notFound);
                }
                catch (Exception ex)
                {
                    failures.Enqueue(ex);
                }
            }
        }

        var vector = new float[] { 1, 2, 3, 4 };
        var workers = new List<Task>
        {
            Task.Run(() => RunAsync(async i =>
            {
                int seen = Volatile.Read(ref generation);
                string id = $"w{i}";
                await _engine.UpsertAsync(Name, [new DocumentInput { Id = id, Text = "raced text", Vector = vector, Metadata = new Dictionary<string, MetadataValue> { ["n"] = MetadataValue.Of(i) } }]);
                acknowledged[id] = seen;
            })),
            Task.Run(() => RunAsync(async _ => await _engine.QueryAsync(Name, new QueryRequest { Vector = vector, K = 5 }))),
            Task.Run(() => RunAsync(async _ => await _engine.QueryAsync(Name, new QueryRequest { Text = "raced", Mode = QueryModes.Text, K = 5 }))),
            Task.Run(() => RunAsync(async _ => await _engine.QueryAsync(Name, new QueryRequest { Vector = vector, K = 5, Filter = MetadataFilter.Parse(System.Text.Json.JsonDocument.Parse("""{"n":{"$gte":0}}""").RootElement) }))),
            Task.Run(() => RunAsync(async i =>
            {
                try
                {
                    _engine.GetDocument(Name, $"w{i % 50}", includeVector: true);
                }
                catch (VectorStoreException ex) when (ex.Code == ErrorCode.NotFound && ex.Field == "id")
                {
                    // The document itself is missing: a normal answer too.
                }
                await _engine.GetDocumentsAsync(Name, ["w1", "w2", "w3"], includeVectors: true);
            })),
            Task.Run(() => RunAsync(async _ =>
            {
                _engine.ListDocuments(Name, 0, 20, includeVectors: true);
                _engine.Count(Name);
                _engine.GetCollection(Name);
                _engine.ListCollections();
                await _engine.ScrollAsync(Name, new ScrollRequest { Limit = 10, OrderBy = new ScrollOrder("n", Descending: true) });
            })),
            Task.Run(() => RunAsync(async i =>
            {
                try
                {
                    await _engine.DeleteDocumentAsync(Name, $"missing{i}");
                }
                catch (VectorStoreException ex) when (ex.Code == ErrorCode.NotFound && ex.Field == "id")
                {
                }
            })),
            Task.Run(() => RunAsync(async i =>
            {
                var snapshot = await _engine.CreateSnapshotAsync(Name, $"s{i}");
                string target = $"restored{i % 4}";
                try
                {
                    await _engine.RestoreSnapshotAsync(Name, snapshot.Name, target);
                    await _engine.DeleteCollectionAsync(target);
                }
                catch (VectorStoreException ex) when (ex.Code == ErrorCode.AlreadyExists)
                {
                }
                _engine.DeleteSnapshot(Name, snapshot.Name);
            })),
        };
        int recreations = 0;
        var timings = new ConcurrentQueue<string>();
        var raceTime = System.Diagnostics.Stopwatch.StartNew();
        var churn = Task.Run(async () =>
        {
            // Until each outcome the assertions below look for has happened: on a loaded machine 5 s may hold only a
            // handful of completed operations, which says nothing about the races either way.
            while ((recreations < 3 || Volatile.Read(ref completed) <= 20 || Volatile.Read(ref notFound) == 0 || raceTime.Elapsed < TimeSpan.FromSeconds(5))
                && raceTime.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(Random.Shared.Next(0, 15));
                var watch = System.Diagnostics.Stopwatch.StartNew();
                await _engine.DeleteCollectionAsync(Name);
                long deleted = watch.ElapsedMilliseconds;
                await _engine.CreateCollectionAsync(Request);
                timings.Enqueue($"{deleted}/{watch.ElapsedMilliseconds}");
                Interlocked.Increment(ref generation);
                recreations++;
            }
            stop.Cancel();
        });
        await churn;
        await Task.WhenAll(workers);

        Assert.True(failures.IsEmpty, string.Join("\n\n", failures.Take(5)));
        Assert.True(recreations >= 3, $"only {recreations} re-creations (delete/create ms: {string.Join(", ", timings)}; {completed} completed, {notFound} not found, slowest {string.Join(",", slowest.Select(p => $"{p.Key}:{p.Value}"))}): the race was not exercised");
        Assert.True(completed > 20, $"only {completed} operations completed");
        Assert.True(notFound > 0, "no operation ever met a deleted collection");

        // The generation moves after each re-create and nothing is deleted after the last one, so an upsert that
        // started once the final generation was current can only have gone to the final incarnation.
        int final = Volatile.Read(ref generation);
        var expected = acknowledged.Where(p => p.Value == final).Select(p => p.Key).ToList();
        foreach (string id in expected)
        {
            Assert.NotNull(_engine.GetDocument(Name, id));
        }
        var batch = await _engine.GetDocumentsAsync(Name, expected);
        Assert.Equal(expected.Count, batch.Count);
    }
}
