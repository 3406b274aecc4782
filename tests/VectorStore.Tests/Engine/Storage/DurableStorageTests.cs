using Microsoft.Extensions.Logging;
using VectorStoreDb.Engine;
using static VectorStoreDb.Tests.StorageTestSupport;

namespace VectorStoreDb.Tests.Engine.Storage;

/// <summary>Recovery, crash damage and space reclamation of the FASTER-backed storage, on a real folder.</summary>
public sealed class DurableStorageTests
{
    [Fact]
    public async Task RecoversFromTheLogAloneAfterDisposeWithoutCheckpoint()
    {
        using var folder = new TestData.TempFolder();
        Document[] before;
        string[] queryBefore;
        using (var engine = Open(folder.Path))
        {
            await CreateRaw(engine, "docs");
            await UpsertRange(engine, "docs", 0, 200);
            for (int i = 0; i < 20; i++)
            {
                await engine.DeleteDocumentAsync("docs", $"doc-{i * 3}");
            }
            await engine.UpsertAsync("docs", [Doc(1000) with { Id = "doc-1", Text = "replaced" }]);
            before = [.. Enumerable.Range(0, 200).Where(i => i % 3 != 0 || i >= 60).Select(i => engine.GetDocument("docs", $"doc-{i}", includeVector: true))];
            queryBefore = await QueryIds(engine, "docs", 42);
        }
        using (var engine = Open(folder.Path))
        {
            Assert.Equal(180, engine.Count("docs"));
            Assert.Equal(0, engine.LastRecovery!.ShardsFromCheckpoint);
            Assert.Equal(221, engine.LastRecovery.LogRecordsReplayed);
            foreach (var expected in before)
            {
                AssertSameDocument(expected, engine.GetDocument("docs", expected.Id, includeVector: true));
            }
            Assert.Equal("replaced", engine.GetDocument("docs", "doc-1").Text);
            Assert.Throws<VectorStoreException>(() => engine.GetDocument("docs", "doc-0"));
            Assert.Equal(queryBefore, await QueryIds(engine, "docs", 42));
        }
    }

    [Fact]
    public async Task RecoversFromCheckpointPlusLogTail()
    {
        using var folder = new TestData.TempFolder();
        using (var engine = Open(folder.Path))
        {
            await CreateRaw(engine, "docs", shards: 2);
            await UpsertRange(engine, "docs", 0, 100);
            Assert.Equal(2, await engine.CheckpointAsync());
            await UpsertRange(engine, "docs", 100, 50);
            for (int i = 0; i < 10; i++)
            {
                await engine.DeleteDocumentAsync("docs", $"doc-{i}");
            }
        }
        using (var engine = Open(folder.Path))
        {
            Assert.Equal(140, engine.Count("docs"));
            Assert.Equal(2, engine.LastRecovery!.ShardsFromCheckpoint);
            Assert.Equal(60, engine.LastRecovery.LogRecordsReplayed);
            AssertSameDocument(new Document("doc-120", "text 120", Doc(120).Metadata!, Doc(120).Vector), engine.GetDocument("docs", "doc-120", includeVector: true));
            AssertSameDocument(new Document("doc-50", "text 50", Doc(50).Metadata!, Doc(50).Vector), engine.GetDocument("docs", "doc-50", includeVector: true));
        }
        // An orderly shutdown with checkpoints leaves nothing to replay.
        using (var engine = Open(folder.Path, configure: o => o.Durability.CheckpointOnShutdown = true))
        {
            Assert.Equal(140, engine.Count("docs"));
        }
        using (var engine = Open(folder.Path))
        {
            Assert.Equal(0, engine.LastRecovery!.LogRecordsReplayed);
            Assert.Equal(140, engine.Count("docs"));
        }
    }

    [Fact]
    public async Task TornLogTailIsCutAtTheLastWholeRecordWithAWarning()
    {
        using var folder = new TestData.TempFolder();
        long tail;
        using (var engine = Open(folder.Path))
        {
            await CreateRaw(engine, "docs");
            await UpsertRange(engine, "docs", 0, 100, batch: 10);
            tail = engine.ShardsOf("docs")[0].LogPosition;
        }
        // Segments are 1 MiB, so the address is the offset in the first segment file.
        string segment = Path.Combine(ShardFolder(folder.Path, "docs"), "wal", "log.0");
        Assert.True(new FileInfo(segment).Length >= tail);
        using (var file = new FileStream(segment, FileMode.Open, FileAccess.Write))
        {
            file.SetLength(tail - 7);
        }
        var logs = new ListLoggerProvider();
        using (var engine = Open(folder.Path, logs))
        {
            Assert.Equal(90, engine.Count("docs"));
            Assert.Equal(1, engine.LastRecovery!.TornLogTails);
            Assert.True(logs.Has(LogLevel.Warning, "write-ahead log"), string.Join("\n", logs.Entries));
            Assert.False(logs.Entries.Any(e => e.Level >= LogLevel.Error), string.Join("\n", logs.Entries));
            // Writes after the damage must survive the next restart too.
            await UpsertRange(engine, "docs", 90, 30, batch: 10);
        }
        using (var engine = Open(folder.Path))
        {
            Assert.Equal(120, engine.Count("docs"));
            Assert.Equal("text 119", engine.GetDocument("docs", "doc-119").Text);
        }
    }

    /// <summary>A text that, chunked 8 tokens at a time, takes several MiB of chunk vectors: more than one log entry holds.</summary>
    private static string HugeText(string needle) =>
        string.Join(' ', Enumerable.Range(0, 10_000).Select(i => $"w{i % 997}x")) + $" {needle} " + string.Join(' ', Enumerable.Range(0, 500).Select(i => $"v{i}"));

    private static Task CreateFineChunked(VectorStoreEngine engine) =>
        engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "big", ChunkTokens = 8, ChunkOverlap = 0, Index = "exact" });

    [Fact]
    public async Task A_document_larger_than_a_log_entry_is_written_in_fragments_and_recovered_whole()
    {
        using var folder = new TestData.TempFolder();
        long vectors;
        using (var engine = Open(folder.Path, configure: o => o.Limits.MaxChunksPerDocument = 10_000))
        {
            await CreateFineChunked(engine);
            await engine.UpsertAsync("big", [new DocumentInput { Id = "small", Text = "a small one" }]);
            long before = engine.ShardsOf("big")[0].LogPosition;
            await engine.UpsertAsync("big", [new DocumentInput { Id = "huge", Text = HugeText("kingfisher") }]);
            Assert.True(engine.ShardsOf("big")[0].LogPosition - before > 1 << 20, "the record should need several log entries");
            await engine.UpsertAsync("big", [new DocumentInput { Id = "after", Text = "written after it" }]);
            vectors = engine.Find("big").VectorCount;
        }
        using (var engine = Open(folder.Path, configure: o => o.Limits.MaxChunksPerDocument = 10_000))
        {
            Assert.Equal(0, engine.LastRecovery!.TornLogTails);
            Assert.Equal(3, engine.Count("big"));
            Assert.Equal(vectors, engine.Find("big").VectorCount);
            Assert.Equal(HugeText("kingfisher"), engine.GetDocument("big", "huge").Text);
            var hit = (await engine.QueryAsync("big", new QueryRequest { Text = "kingfisher", K = 1 }))[0];
            Assert.Equal("huge", hit.Id);
            Assert.Contains("kingfisher", hit.Highlight!.Text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_large_record_cut_short_by_a_crash_is_discarded_and_later_writes_survive()
    {
        using var folder = new TestData.TempFolder();
        long before;
        long after;
        using (var engine = Open(folder.Path, configure: o => o.Limits.MaxChunksPerDocument = 10_000))
        {
            await CreateFineChunked(engine);
            await engine.UpsertAsync("big", [new DocumentInput { Id = "small", Text = "a small one" }]);
            before = engine.ShardsOf("big")[0].LogPosition;
            await engine.UpsertAsync("big", [new DocumentInput { Id = "huge", Text = HugeText("kingfisher") }]);
            after = engine.ShardsOf("big")[0].LogPosition;
        }
        // Keep the log up to the middle of the large record's fragments (1 MiB segments: address = segment * 1 MiB + offset).
        long cut = before + ((after - before) / 2);
        string wal = Path.Combine(ShardFolder(folder.Path, "big"), "wal");
        foreach (string segment in Directory.GetFiles(wal, "log.*"))
        {
            long number = long.Parse(Path.GetExtension(segment)[1..], System.Globalization.CultureInfo.InvariantCulture);
            if (number > cut >> 20)
            {
                File.Delete(segment);
            }
            else if (number == cut >> 20)
            {
                using var file = new FileStream(segment, FileMode.Open, FileAccess.Write);
                file.SetLength(cut & ((1 << 20) - 1));
            }
        }
        var logs = new ListLoggerProvider();
        using (var engine = Open(folder.Path, logs, o => o.Limits.MaxChunksPerDocument = 10_000))
        {
            Assert.Equal(1, engine.LastRecovery!.TornLogTails);
            Assert.Equal(1, engine.Count("big"));
            Assert.Throws<VectorStoreException>(() => engine.GetDocument("big", "huge"));
            Assert.True(logs.Has(LogLevel.Warning, "write-ahead log"), string.Join("\n", logs.Entries));
            await engine.UpsertAsync("big", [new DocumentInput { Id = "huge", Text = HugeText("heron") }, new DocumentInput { Id = "later", Text = "later" }]);
        }
        using (var engine = Open(folder.Path, configure: o => o.Limits.MaxChunksPerDocument = 10_000))
        {
            Assert.Equal(3, engine.Count("big"));
            Assert.Equal("huge", (await engine.QueryAsync("big", new QueryRequest { Text = "heron", K = 1 }))[0].Id);
        }
    }

    [Fact]
    public async Task CorruptCheckpointFallsBackToThePreviousOneAndTheLog()
    {
        using var folder = new TestData.TempFolder();
        using (var engine = Open(folder.Path))
        {
            await CreateRaw(engine, "docs");
            await UpsertRange(engine, "docs", 0, 50);
            await engine.CheckpointAsync();
            await UpsertRange(engine, "docs", 50, 50);
            await engine.CheckpointAsync();
            await UpsertRange(engine, "docs", 100, 10);
        }
        var checkpoints = Checkpoints(folder.Path, "docs");
        Assert.Equal(2, checkpoints.Length);
        FlipByte(checkpoints[1], new FileInfo(checkpoints[1]).Length / 2);
        // A stray temporary file from an interrupted checkpoint must not block start-up.
        File.WriteAllText(Path.Combine(ShardFolder(folder.Path, "docs"), "checkpoints", "ckpt-000000000099.vsc.tmp"), "half written");
        var logs = new ListLoggerProvider();
        using (var engine = Open(folder.Path, logs))
        {
            Assert.Equal(110, engine.Count("docs"));
            Assert.Equal(60, engine.LastRecovery!.LogRecordsReplayed);
            Assert.True(logs.Has(LogLevel.Warning, "checksum mismatch in the block at offset"), string.Join("\n", logs.Entries));
            Assert.True(logs.Has(LogLevel.Warning, Path.GetFileName(checkpoints[1])));
        }
        Assert.Empty(Directory.GetFiles(Path.Combine(ShardFolder(folder.Path, "docs"), "checkpoints"), "*.tmp"));
    }

    [Fact]
    public async Task CollectionThatCannotBeRebuiltIsUnavailableWhileOthersWork()
    {
        using var folder = new TestData.TempFolder();
        using (var engine = Open(folder.Path))
        {
            await CreateRaw(engine, "good");
            await CreateRaw(engine, "bad");
            await UpsertRange(engine, "good", 0, 20);
            await UpsertRange(engine, "bad", 0, 20);
            await engine.CheckpointAsync();
            await UpsertRange(engine, "bad", 20, 20);
            await engine.CheckpointAsync(); // the log is now truncated to the first checkpoint
        }
        foreach (var checkpoint in Checkpoints(folder.Path, "bad"))
        {
            FlipByte(checkpoint, 40);
        }
        var logs = new ListLoggerProvider();
        using (var engine = Open(folder.Path, logs))
        {
            Assert.Equal(20, engine.Count("good"));
            var error = Assert.Throws<VectorStoreException>(() => engine.Count("bad"));
            Assert.Equal(ErrorCode.Unavailable, error.Code);
            Assert.Contains("bad", error.Message, StringComparison.Ordinal);
            Assert.Contains("no intact checkpoint", error.Message, StringComparison.Ordinal);
            Assert.True(logs.Has(LogLevel.Warning, "offset"));
            Assert.DoesNotContain(engine.ListCollections(), c => c.Settings.Name == "bad");
            await Assert.ThrowsAsync<VectorStoreException>(() => CreateRaw(engine, "bad"));
            // The operator can drop the damaged collection and start over.
            await engine.DeleteCollectionAsync("bad");
            await CreateRaw(engine, "bad");
            Assert.Equal(0, engine.Count("bad"));
        }
    }

    [Fact]
    public void ReadOnlyDataFolderGivesAClearError()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // Unix permissions; CI runs on Linux
        }
        using var folder = new TestData.TempFolder();
        string path = Path.Combine(folder.Path, "ro");
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            bool writable;
            try
            {
                File.WriteAllText(Path.Combine(path, "probe"), "x");
                writable = true;
            }
            catch (UnauthorizedAccessException)
            {
                writable = false;
            }
            // Root ignores permissions; /proc is read-only even for root.
            string target = writable ? "/proc/vectorstore-readonly-test" : path;
            var error = Assert.Throws<VectorStoreException>(() => Open(target).Dispose());
            Assert.Equal(ErrorCode.Unavailable, error.Code);
            Assert.Contains(target, error.Message, StringComparison.Ordinal);
            Assert.Contains("cannot be written", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [Fact]
    public async Task DeletingDocumentsAndCollectionsFreesDiskSpace()
    {
        using var folder = new TestData.TempFolder();
        using var engine = Open(folder.Path);
        // The exact index: this test is about the log and checkpoints. HNSW keeps freed graph slots for reuse and
        // compacts in the background, which would make the size after deleting depend on timing.
        await CreateRaw(engine, "big", dimension: 256, index: IndexKinds.Exact);
        await UpsertRange(engine, "big", 0, 4000, batch: 100, dimension: 256);
        await engine.CheckpointAsync();
        long full = engine.DiskUsageBytes();
        Assert.True(full > 4000L * 256 * 4, $"expected at least the vectors on disk, found {full} bytes");
        for (int i = 100; i < 4000; i++)
        {
            await engine.DeleteDocumentAsync("big", $"doc-{i}");
        }
        // Two checkpoints: the log is kept back to the older one, so recovery can fall back to it.
        await engine.CheckpointAsync();
        await UpsertRange(engine, "big", 0, 1, dimension: 256);
        await engine.CheckpointAsync();
        long compacted = engine.DiskUsageBytes();
        Assert.True(compacted < full / 3, $"{full} bytes before deleting, {compacted} after");
        Assert.Equal(100, engine.Count("big"));

        await engine.DeleteCollectionAsync("big");
        Assert.True(engine.DiskUsageBytes() < 64 * 1024, $"{engine.DiskUsageBytes()} bytes left after deleting the collection");
    }

    [Fact]
    public async Task SyncModeAcknowledgesOnlyDurableWritesAndAsyncModeFlushesOnItsInterval()
    {
        using var folder = new TestData.TempFolder();
        // What is in the files while the engine runs is what a crash (kill -9) would leave.
        async Task<long> SurvivingAfterCrash(string mode, int intervalMs, int waitMs)
        {
            string data = Path.Combine(folder.Path, $"{mode}-{intervalMs}");
            using var engine = Open(data, configure: o =>
            {
                o.Durability.Mode = Enum.Parse<DurabilityMode>(mode, ignoreCase: true);
                o.Durability.CommitIntervalMs = intervalMs;
            });
            await CreateRaw(engine, "docs");
            await UpsertRange(engine, "docs", 0, 30);
            await Task.Delay(waitMs);
            string copy = data + "-crash";
            CopyFolder(data, copy);
            using var recovered = Open(copy);
            return recovered.Count("docs");
        }
        Assert.Equal(30, await SurvivingAfterCrash("sync", 100, 0));
        Assert.Equal(0, await SurvivingAfterCrash("async", 60_000, 0));
        Assert.Equal(30, await SurvivingAfterCrash("async", 20, 1000));
    }

    [Fact]
    public async Task ConcurrentWritersAreAllDurable()
    {
        using var folder = new TestData.TempFolder();
        using (var engine = Open(folder.Path))
        {
            await CreateRaw(engine, "docs", shards: 2);
            await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
            {
                for (int i = 0; i < 50; i++)
                {
                    await engine.UpsertAsync("docs", [Doc(w * 1000 + i)]);
                }
            })));
        }
        using (var engine = Open(folder.Path))
        {
            Assert.Equal(400, engine.Count("docs"));
        }
    }
}
