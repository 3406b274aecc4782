using System.Buffers.Binary;
using System.Text.Json.Nodes;
using VectorStoreDb.Engine;
using VectorStoreDb.Engine.Storage;
using static VectorStoreDb.Tests.StorageTestSupport;

namespace VectorStoreDb.Tests.Storage;

/// <summary>
/// The data folder and snapshot committed under Fixtures/format-2026-12 were written by the engine before the shard
/// and format refactoring; the engine of today must load them and answer exactly what that engine answered. Every test
/// works on a copy, so the committed files are never touched.
/// </summary>
public sealed class FormatCompatibilityTests
{
    private const int CheckpointHeaderBytes = 24;

    private static JsonObject Expectations() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(FormatFixtureGenerator.FixtureFolder(), "expectations.json")))!.AsObject();

    private static string CopyOfFixture(TestData.TempFolder folder)
    {
        string data = Path.Combine(folder.Path, "data");
        CopyFolder(Path.Combine(FormatFixtureGenerator.FixtureFolder(), "data"), data);
        return data;
    }

    [Fact]
    public async Task The_fixture_data_folder_loads_with_every_document_and_query_answer_unchanged()
    {
        using var folder = new TestData.TempFolder();
        using var engine = Open(CopyOfFixture(folder));
        var collections = Expectations()["collections"]!.AsObject();
        Assert.Equal(collections.Select(c => c.Key).Order(StringComparer.Ordinal), engine.ListCollections().Select(c => c.Settings.Name).Order(StringComparer.Ordinal));
        foreach (var (name, expected) in collections)
        {
            await AssertCollection(engine, name, name, expected!.AsObject());
        }
        // Both kinds of recovery are covered: shards with a log tail after their checkpoint, and shards without.
        var shards = collections.SelectMany(c => engine.ShardsOf(c.Key)).ToList();
        Assert.Contains(shards, s => s.Recovery is { FromCheckpoint: true, RecordsReplayed: > 0 });
        Assert.Contains(shards, s => s.Recovery is { FromCheckpoint: true, RecordsReplayed: 0 });
    }

    [Fact]
    public async Task The_fixture_snapshot_restores_to_what_its_collection_held()
    {
        using var folder = new TestData.TempFolder();
        using var engine = Open(CopyOfFixture(folder));
        var expectations = Expectations();
        string collection = (string)expectations["snapshot"]!["collection"]!;
        string snapshot = (string)expectations["snapshot"]!["name"]!;
        var expected = expectations["collections"]![collection]!.AsObject();

        await engine.RestoreSnapshotAsync(collection, snapshot, "restored");
        await AssertCollection(engine, "restored", collection, expected);

        // The same file uploaded as a stream.
        using (var stream = engine.OpenSnapshot(collection, snapshot))
        {
            await engine.RestoreSnapshotAsync(stream, "uploaded");
        }
        await AssertCollection(engine, "uploaded", collection, expected);
    }

    /// <summary>
    /// A shard loaded from a checkpoint with nothing replayed after it writes the same checkpoint again. The file
    /// header holds a sequence number that grows with every checkpoint, and the frame checksums cover it, so the
    /// files differ in those bytes; the header's log position and the whole state after the header must be identical.
    /// Shards that replayed a log tail are not compared byte for byte (labels freed by deletes are handed out in a
    /// different order after a load, and HNSW draws fresh random levels for replayed inserts); their content is
    /// compared through the expectations instead.
    /// </summary>
    [Fact]
    public async Task A_shard_loaded_from_a_checkpoint_writes_the_same_checkpoint_bytes_again()
    {
        using var folder = new TestData.TempFolder();
        string data = CopyOfFixture(folder);
        int compared = 0;
        using var engine = Open(data);
        foreach (var info in engine.ListCollections())
        {
            var shards = engine.ShardsOf(info.Settings.Name);
            for (int s = 0; s < shards.Count; s++)
            {
                if (shards[s].Recovery.RecordsReplayed != 0)
                {
                    continue;
                }
                string before = Checkpoints(data, info.Settings.Name, s)[^1];
                Assert.True(await shards[s].CheckpointAsync(force: true, CancellationToken.None));
                string after = Checkpoints(data, info.Settings.Name, s)[^1];
                Assert.NotEqual(before, after);
                var (oldPosition, oldState) = ReadCheckpoint(Path.Combine(FormatFixtureGenerator.FixtureFolder(), Path.GetRelativePath(folder.Path, before)));
                var (newPosition, newState) = ReadCheckpoint(after);
                Assert.Equal(oldPosition, newPosition);
                Assert.True(oldState.AsSpan().SequenceEqual(newState), $"{info.Settings.Name} shard {s}: the checkpoint state differs ({oldState.Length} vs {newState.Length} bytes).");
                compared++;
            }
        }
        Assert.True(compared >= 3, $"only {compared} shards were loaded without a log tail");
    }

    private static (long Position, byte[] State) ReadCheckpoint(string path)
    {
        using var file = File.OpenRead(path);
        using var reader = new ChecksummedReader(file, path);
        var header = new byte[CheckpointHeaderBytes];
        reader.ReadExactly(header);
        var state = new MemoryStream();
        reader.CopyTo(state);
        reader.VerifyEnd();
        return (BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(16)), state.ToArray());
    }

    private static async Task AssertCollection(VectorStoreEngine engine, string name, string fixtureName, JsonObject expected)
    {
        var info = engine.GetCollection(name);
        Assert.Equal((long)expected["count"]!, info.DocumentCount);
        Assert.Equal((bool)expected["projectionReady"]!, info.ProjectionReady);
        Assert.Equal((long)expected["vectors"]!, engine.Find(name).VectorCount);

        var documents = expected["documents"]!.AsArray();
        var listed = engine.ListDocuments(name, limit: 1000);
        Assert.Equal(documents.Select(d => (string)d!["id"]!), listed.Documents.Select(d => d.Id));
        foreach (var document in documents.Select(d => d!.AsObject()))
        {
            var actual = engine.GetDocument(name, (string)document["id"]!, includeVector: true);
            Assert.Equal((string?)document["text"], actual.Text);
            string metadata = Metadata.ToUtf8Json(actual.Metadata) is { Length: > 0 } json ? System.Text.Encoding.UTF8.GetString(json) : "{}";
            Assert.Equal((string)document["metadata"]!, metadata);
            if (document["vector"] is JsonArray vector)
            {
                Assert.Equal(vector.Select(v => (float)v!), actual.Vector!);
            }
            var chunks = document["chunks"] is JsonArray c ? c.Select(x => ((int)x![0]!, (int)x[1]!, (int)x[2]!)).ToList() : null;
            Assert.Equal(chunks, actual.Chunks?.Select(x => (x.Chunk, x.Start, x.End)).ToList());
        }

        foreach (var entry in expected["queries"]!.AsArray().Select(q => q!.AsObject()))
        {
            var query = entry["query"]!.AsObject();
            var hits = await engine.QueryAsync(name, FormatQuery.ToRequest(query, info.Settings));
            var want = entry["hits"]!.AsArray();
            string what = $"{fixtureName} as {name}: {query.ToJsonString()}";
            Assert.True(want.Count == hits.Count, $"{what}: {hits.Count} hits, expected {want.Count}");
            for (int i = 0; i < hits.Count; i++)
            {
                Assert.True((string)want[i]!["id"]! == hits[i].Id, $"{what}: hit {i} is {hits[i].Id}, expected {want[i]!["id"]}");
                // Scores are recomputed by the SIMD kernels, whose summation order may differ between CPUs.
                Assert.Equal((float)want[i]!["score"]!, hits[i].Score, 4);
                var highlight = want[i]!["highlight"] is JsonArray h ? ((int)h[0]!, (int)h[1]!, (int)h[2]!) : ((int, int, int)?)null;
                Assert.Equal(highlight, hits[i].Highlight is { } x ? (x.Chunk, x.Start, x.End) : null);
            }
        }
    }
}
