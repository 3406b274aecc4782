using System.CommandLine;
using System.Diagnostics;
using VectorStoreDb.Engine;

namespace VectorStoreDb.Benchmarks.Engine;

/// <summary>
/// Reading a whole collection page by page, as <c>vectorstore export</c> and <c>ScanDocumentsAsync</c> do: the
/// <c>after</c> cursor (one pass over the ids and a heap of the page size per page) next to offset paging (a heap of
/// offset + page size, so the cost grows with depth) in the same run, plus one deep page each way.
/// </summary>
internal static class ListingBenchmark
{
    public static Command CreateCommand()
    {
        var folder = new Option<string>("--folder") { Description = "Scratch folder (deleted afterwards).", DefaultValueFactory = _ => Path.Combine(Path.GetTempPath(), "vectorstore-listing-bench") };
        var documents = new Option<int>("--documents") { Description = "Documents in the collection.", DefaultValueFactory = _ => 50_000 };
        var page = new Option<int>("--page") { Description = "Page size.", DefaultValueFactory = _ => 256 };
        var shards = new Option<int>("--shards") { Description = "Shards of the collection.", DefaultValueFactory = _ => 2 };
        var command = new Command("listing", "Full scan by cursor vs by offset paging (documents/s, bytes allocated per page), and one deep page each way.") { folder, documents, page, shards };
        command.SetAction(result => Run(result.GetValue(folder)!, result.GetValue(documents), result.GetValue(page), result.GetValue(shards)));
        return command;
    }

    private static void Run(string folder, int documents, int pageSize, int shards)
    {
        Console.WriteLine($"listing benchmark — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}, " +
            $"{documents:N0} documents, {shards} shards, page {pageSize}");
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
        using (var engine = VectorStoreEngine.Open(folder, configure: o =>
        {
            o.Durability.Mode = DurabilityMode.Async;
            o.Durability.CheckpointIntervalSeconds = 0;
            o.Durability.CheckpointOnShutdown = false;
        }))
        {
            engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "bench", Encoder = "none", Dimension = 4, Metric = "l2", Index = "exact", Shards = shards }).GetAwaiter().GetResult();
            var random = new Random(7);
            for (int start = 0; start < documents; start += 1000)
            {
                var batch = Enumerable.Range(start, Math.Min(1000, documents - start))
                    .Select(i => new DocumentInput { Id = $"doc-{random.Next():x8}-{i}", Text = $"text {i}", Vector = [i, 1, 2, 3] })
                    .ToArray();
                engine.UpsertAsync("bench", batch).GetAwaiter().GetResult();
            }

            // Warm both paths once, then measure.
            Scan(engine, pageSize, cursor: true, maxPages: 3);
            Scan(engine, pageSize, cursor: false, maxPages: 3);
            var offset = Scan(engine, pageSize, cursor: false, maxPages: int.MaxValue);
            var cursor = Scan(engine, pageSize, cursor: true, maxPages: int.MaxValue);
            if (offset.Documents != documents || cursor.Documents != documents)
            {
                throw new InvalidOperationException($"scans saw {offset.Documents} / {cursor.Documents} documents, expected {documents}");
            }
            Console.WriteLine();
            Console.WriteLine("| full scan | pages | seconds | documents/s | bytes allocated / page | ratio (docs/s) |");
            Console.WriteLine("|---|---|---|---|---|---|");
            Console.WriteLine($"| offset paging (baseline) | {offset.Pages:N0} | {offset.Seconds:F2} | {documents / offset.Seconds:N0} | {offset.BytesPerPage:N0} | 1.0x |");
            Console.WriteLine($"| `after` cursor | {cursor.Pages:N0} | {cursor.Seconds:F2} | {documents / cursor.Seconds:N0} | {cursor.BytesPerPage:N0} | {offset.Seconds / cursor.Seconds:N1}x |");

            // The last page, reached directly: offset keeps every id in its heap, the cursor only a page.
            string lastCursor = engine.ListDocuments("bench", documents - pageSize - 1, 1).Documents[0].Id;
            double deepOffset = Time(() => engine.ListDocuments("bench", documents - pageSize, pageSize));
            double deepCursor = Time(() => engine.ListDocuments("bench", 0, pageSize, lastCursor));
            Console.WriteLine();
            Console.WriteLine("| last page | ms | ratio |");
            Console.WriteLine("|---|---|---|");
            Console.WriteLine($"| `?offset={documents - pageSize}` (baseline) | {deepOffset:F2} | 1.0x |");
            Console.WriteLine($"| `?after=<id>` | {deepCursor:F2} | {deepOffset / deepCursor:N1}x |");
        }
        Directory.Delete(folder, recursive: true);
    }

    private static (int Documents, int Pages, double Seconds, long BytesPerPage) Scan(VectorStoreEngine engine, int pageSize, bool cursor, int maxPages)
    {
        int seen = 0, pages = 0;
        string? after = null;
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        while (pages < maxPages)
        {
            var page = cursor ? engine.ListDocuments("bench", 0, pageSize, after) : engine.ListDocuments("bench", seen, pageSize);
            pages++;
            seen += page.Documents.Count;
            if (cursor ? page.NextAfter is null : page.Documents.Count == 0)
            {
                break;
            }
            after = page.NextAfter;
        }
        clock.Stop();
        return (seen, pages, clock.Elapsed.TotalSeconds, (GC.GetAllocatedBytesForCurrentThread() - allocated) / Math.Max(1, pages));
    }

    private static double Time(Action action)
    {
        action();
        var clock = Stopwatch.StartNew();
        const int Runs = 5;
        for (int i = 0; i < Runs; i++)
        {
            action();
        }
        return clock.Elapsed.TotalMilliseconds / Runs;
    }
}
