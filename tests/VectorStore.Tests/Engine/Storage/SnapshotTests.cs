using VectorStoreDb.Engine;
using static VectorStoreDb.Tests.StorageTestSupport;

namespace VectorStoreDb.Tests.Engine.Storage;

/// <summary>Snapshot files: consistent while writes go on, listed, downloaded, deleted and restored.</summary>
public sealed class SnapshotTests
{
    [Fact]
    public async Task SnapshotRoundTripGivesTheSameQueryResults()
    {
        using var folder = new TestData.TempFolder();
        using (var engine = Open(folder.Path))
        {
            await CreateRaw(engine, "src", shards: 3);
            await UpsertRange(engine, "src", 0, 300, batch: 25);
            await engine.DeleteDocumentAsync("src", "doc-7");

            using var stop = new CancellationTokenSource();
            var writer = Task.Run(async () =>
            {
                int i = 0;
                while (!stop.IsCancellationRequested)
                {
                    await engine.UpsertAsync("src", [Doc(i++, prefix: "live")]);
                }
                return i;
            });
            await Task.Delay(50);
            var info = await engine.CreateSnapshotAsync("src", "first");
            await stop.CancelAsync();
            int written = await writer;
            Assert.Equal("first", info.Name);
            Assert.True(info.SizeBytes > 300 * 16 * 4);

            var restored = await engine.RestoreSnapshotAsync("src", "first", "copy");
            Assert.Equal(3, restored.Settings.Shards);
            Assert.InRange(restored.DocumentCount, 299, 299 + written);
            foreach (int seed in Enumerable.Range(0, 10))
            {
                var filter = VectorStoreDb.Engine.Filtering.MetadataFilter.Parse(System.Text.Json.JsonDocument.Parse("""{"tag":"even"}""").RootElement);
                var expected = await engine.QueryAsync("src", new QueryRequest { Vector = TestData.RandomVector(new Random(seed), 16), K = 10, Filter = filter });
                var actual = await engine.QueryAsync("copy", new QueryRequest { Vector = TestData.RandomVector(new Random(seed), 16), K = 10, Filter = filter });
                // Even-tagged docs: live-* writes during the snapshot are tagged too, so compare the base documents only.
                Assert.Equal(expected.Where(h => h.Id.StartsWith("doc-", StringComparison.Ordinal)).Select(h => (h.Id, h.Score)),
                    actual.Where(h => h.Id.StartsWith("doc-", StringComparison.Ordinal)).Select(h => (h.Id, h.Score)).Take(expected.Count(h => h.Id.StartsWith("doc-", StringComparison.Ordinal))));
            }
            foreach (int i in new[] { 0, 1, 150, 299 })
            {
                AssertSameDocument(engine.GetDocument("src", $"doc-{i}", true), engine.GetDocument("copy", $"doc-{i}", true));
            }
            Assert.Throws<VectorStoreException>(() => engine.GetDocument("copy", "doc-7"));
            // Every live-* document in the copy is identical to the source: the snapshot never holds half a write.
            foreach (int i in Enumerable.Range(0, written))
            {
                try
                {
                    AssertSameDocument(engine.GetDocument("src", $"live-{i}", true), engine.GetDocument("copy", $"live-{i}", true));
                }
                catch (VectorStoreException ex) when (ex.Code == ErrorCode.NotFound)
                {
                }
            }

            // Download the file and restore it from the stream, as a client uploading a snapshot would.
            var bytes = new MemoryStream();
            using (var download = engine.OpenSnapshot("src", "first"))
            {
                await download.CopyToAsync(bytes);
            }
            bytes.Position = 0;
            await engine.RestoreSnapshotAsync(bytes, "copy2");
            Assert.Equal(restored.DocumentCount, engine.Count("copy2"));

            Assert.Single(engine.ListSnapshots("src"));
            var duplicate = await Assert.ThrowsAsync<VectorStoreException>(() => engine.RestoreSnapshotAsync("src", "first", "copy"));
            Assert.Equal(ErrorCode.AlreadyExists, duplicate.Code);
        }
        // Restored collections are durable.
        using (var engine = Open(folder.Path))
        {
            Assert.Equal(engine.Count("copy"), engine.Count("copy2"));
            Assert.True(engine.Count("copy") >= 299);
            engine.DeleteSnapshot("src", "first");
            Assert.Empty(engine.ListSnapshots("src"));
            Assert.Equal(ErrorCode.NotFound, Assert.Throws<VectorStoreException>(() => engine.OpenSnapshot("src", "first")).Code);
        }
    }

    [Fact]
    public async Task DamagedSnapshotCreatesNothingAndStartupRestoreWorks()
    {
        using var folder = new TestData.TempFolder();
        string exported = Path.Combine(folder.Path, "export.vsnap");
        using (var engine = Open(Path.Combine(folder.Path, "a")))
        {
            await CreateRaw(engine, "src");
            await UpsertRange(engine, "src", 0, 50);
            await engine.CreateSnapshotAsync("src", "s1");
            using (var file = File.Create(exported))
            using (var source = engine.OpenSnapshot("src", "s1"))
            {
                source.CopyTo(file);
            }
            var damaged = File.ReadAllBytes(exported);
            damaged[damaged.Length / 2] ^= 0x40;
            var error = await Assert.ThrowsAsync<VectorStoreException>(() => engine.RestoreSnapshotAsync(new MemoryStream(damaged), "broken"));
            Assert.Equal(ErrorCode.InvalidArgument, error.Code);
            Assert.Contains("checksum mismatch", error.Message, StringComparison.Ordinal);
            Assert.Equal(ErrorCode.NotFound, Assert.Throws<VectorStoreException>(() => engine.Count("broken")).Code);
            Assert.Equal(ErrorCode.InvalidArgument, (await Assert.ThrowsAsync<VectorStoreException>(() => engine.CreateSnapshotAsync("src", "../x"))).Code);
        }
        using (var engine = Open(Path.Combine(folder.Path, "b"), configure: o =>
        {
            o.RestoreSnapshot = exported;
            o.RestoreSnapshotTarget = "restored";
        }))
        {
            Assert.Equal(50, engine.Count("restored"));
            Assert.Equal("text 7", engine.GetDocument("restored", "doc-7").Text);
        }
        // Restarting with the same setting leaves the existing collection alone.
        using (var engine = Open(Path.Combine(folder.Path, "b"), configure: o => o.RestoreSnapshot = exported))
        {
            Assert.Equal(50, engine.Count("restored"));
            Assert.Equal(50, engine.Count("src"));
        }
    }

    [Fact]
    public async Task BackgroundRecoveryReportsReadiness()
    {
        using var folder = new TestData.TempFolder();
        using (var engine = Open(folder.Path))
        {
            await CreateRaw(engine, "docs");
            await UpsertRange(engine, "docs", 0, 20);
        }
        using (var engine = Open(folder.Path, configure: o => o.RecoverInBackground = true))
        {
            await engine.WhenReady;
            Assert.Equal(EngineState.Ready, engine.State);
            Assert.Equal(20, engine.Count("docs"));
            Assert.Equal(1, engine.LastRecovery!.Collections);
            Assert.Equal(20, engine.LastRecovery.Documents);
        }
    }
}
