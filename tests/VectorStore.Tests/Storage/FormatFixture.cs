using System.Text.Json;
using System.Text.Json.Nodes;
using VectorStoreDb.Engine;
using VectorStoreDb.Engine.Filtering;

namespace VectorStoreDb.Tests.Storage;

/// <summary>
/// The on-disk compatibility fixture (tests/VectorStore.Tests/Fixtures/format-2026-12): a data folder written by the
/// engine as it was in December 2026, one snapshot in it, and what the engine answered then (expectations.json).
/// Regenerating it replaces the proof with whatever the current code writes, so it runs only when asked to.
/// </summary>
public sealed class FormatFixtureGenerator
{
    internal const string Name = "format-2026-12";

    /// <summary>The fixture's source folder (not the build output: the generator writes it, the tests copy it).</summary>
    internal static string FixtureFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "VectorStore.Tests", "Fixtures", Name);
            if (File.Exists(Path.Combine(dir.FullName, "tests", "VectorStore.Tests", "VectorStore.Tests.csproj")))
            {
                return candidate;
            }
        }
        throw new DirectoryNotFoundException($"tests/VectorStore.Tests not found above {AppContext.BaseDirectory}.");
    }

    /// <summary>Runs only with VECTORSTORE_WRITE_FIXTURES=1 (see <see cref="FixtureWriterFactAttribute"/>).</summary>
    [FixtureWriterFact]
    public async Task WriteFixture()
    {
        string fixture = FixtureFolder();
        if (Directory.Exists(fixture))
        {
            Directory.Delete(fixture, recursive: true);
        }
        string data = Path.Combine(fixture, "data");
        var expectations = new JsonObject();
        var collections = new JsonObject();
        expectations["collections"] = collections;
        using (var engine = StorageTestSupport.Open(data))
        {
            await WriteCollections(engine);
            foreach (var info in engine.ListCollections())
            {
                collections[info.Settings.Name] = await Describe(engine, info.Settings.Name);
            }
            var snapshot = await engine.CreateSnapshotAsync("hnsw", "fixture");
            expectations["snapshot"] = new JsonObject { ["collection"] = "hnsw", ["name"] = snapshot.Name };
        }
        File.WriteAllText(Path.Combine(fixture, "expectations.json"), expectations.ToJsonString());
    }

    /// <summary>Every shape the format has: exact and HNSW, text, chunks, both projections, several shards, writes before and after a checkpoint.</summary>
    private static async Task WriteCollections(VectorStoreEngine engine)
    {
        // Exact, three shards, explicit vectors; deletes and a replacement land in the log after the checkpoint.
        await StorageTestSupport.CreateRaw(engine, "exact", dimension: 16, shards: 3, index: IndexKinds.Exact);
        await StorageTestSupport.UpsertRange(engine, "exact", 0, 60, batch: 20);
        await Checkpoint(engine, "exact");
        await StorageTestSupport.UpsertRange(engine, "exact", 60, 10);
        await engine.DeleteDocumentAsync("exact", "doc-3");
        await engine.DeleteDocumentAsync("exact", "doc-61");
        await engine.UpsertAsync("exact", [StorageTestSupport.Doc(5, prefix: "replaced") with { Id = "doc-5" }]);

        // HNSW (cosine), two shards; half the documents only in the log.
        await engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "hnsw", Encoder = "none", Metric = "cosine", Dimension = 16, Shards = 2, Index = IndexKinds.Hnsw });
        await StorageTestSupport.UpsertRange(engine, "hnsw", 0, 50, batch: 25);
        await Checkpoint(engine, "hnsw");
        await StorageTestSupport.UpsertRange(engine, "hnsw", 50, 30, batch: 15);
        await engine.DeleteDocumentAsync("hnsw", "doc-10");

        // BM25 + demo encoder, hybrid by default; some texts only in the log.
        await engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "text", Text = true, DefaultMode = QueryModes.Hybrid, Shards = 2 });
        await engine.UpsertAsync("text", [.. Texts.Take(12).Select((t, i) => new DocumentInput { Id = $"t{i}", Text = t, Metadata = Meta(i) })]);
        await Checkpoint(engine, "text");
        await engine.UpsertAsync("text", [.. Texts.Skip(12).Select((t, i) => new DocumentInput { Id = $"t{i + 12}", Text = t, Metadata = Meta(i + 12) })]);
        await engine.DeleteDocumentAsync("text", "t2");

        // Chunked long documents (demo encoder, small windows), text index too; a chunked delete and upsert in the log.
        await engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "chunks", ChunkTokens = 16, ChunkOverlap = 4, Shards = 2, Index = IndexKinds.Hnsw, Text = true });
        await engine.UpsertAsync("chunks", [.. Enumerable.Range(0, 6).Select(i => new DocumentInput { Id = $"long-{i}", Text = LongText(i), Metadata = Meta(i) }),
            new DocumentInput { Id = "short", Text = "a short note about gardens" }]);
        await Checkpoint(engine, "chunks");
        await engine.DeleteDocumentAsync("chunks", "long-1");
        await engine.UpsertAsync("chunks", [new DocumentInput { Id = "long-6", Text = LongText(6) }, new DocumentInput { Id = "long-2", Text = LongText(20) }]);

        // Chunks, text and HNSW with nothing after the checkpoint: compared byte for byte too.
        await engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "frozen", ChunkTokens = 16, ChunkOverlap = 4, Index = IndexKinds.Hnsw, Text = true });
        await engine.UpsertAsync("frozen", [.. Enumerable.Range(0, 3).Select(i => new DocumentInput { Id = $"long-{i}", Text = LongText(i + 10), Metadata = Meta(i) }),
            .. Texts.Take(4).Select((t, i) => new DocumentInput { Id = $"t{i}", Text = t })]);
        await engine.DeleteDocumentAsync("frozen", "t1");
        await Checkpoint(engine, "frozen");

        // Random projection (HNSW over 8 of 32 dimensions), two shards, everything checkpointed: its checkpoints are compared byte for byte.
        await engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "random", Encoder = "none", Metric = "cosine", Dimension = 32, Shards = 2, Index = IndexKinds.Hnsw, Projection = ProjectionKinds.Random, IndexDimension = 8, ProjectionSeed = 7 });
        await StorageTestSupport.UpsertRange(engine, "random", 0, 60, batch: 30, dimension: 32);
        await Checkpoint(engine, "random");

        // PCA fitted at 40 vectors (exact index over 8 dimensions); further writes after the checkpoint.
        await engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "pca", Encoder = "none", Metric = "l2", Dimension = 32, Index = IndexKinds.Exact, Projection = ProjectionKinds.Pca, IndexDimension = 8, PcaSampleSize = 40 });
        await StorageTestSupport.UpsertRange(engine, "pca", 0, 50, batch: 25, dimension: 32);
        await Checkpoint(engine, "pca");
        await StorageTestSupport.UpsertRange(engine, "pca", 50, 10, dimension: 32);
        Assert.True(engine.GetCollection("pca").ProjectionReady);
    }

    /// <summary>Checkpoints one collection only, so the other collections' log tails stay in their logs.</summary>
    private static Task<int> Checkpoint(VectorStoreEngine engine, string name) => engine.Find(name).CheckpointAsync(force: true, CancellationToken.None);

    private static readonly string[] Texts =
    [
        "The river carries stone and sand to the sea", "A garden of roses behind the old market", "Copper wires conduct electricity well",
        "The violin player tuned her strings before the concert", "Candles lit the forest cabin at night", "Yellow summer fields of wheat",
        "Quantum entanglement puzzles physicists", "A ladder leans against the window", "Bread rises slowly in a warm kitchen",
        "The market sells fresh fish every morning", "Mountains covered in snow all winter", "Electric cars charge at the station",
        "Old maps show the river before the dam", "Bees visit the garden flowers in spring", "The concert hall was silent before the music",
        "Stone bridges cross the river in the old town", "Physicists measure particles in the laboratory", "Fresh bread and copper pots in the kitchen",
    ];

    private static Dictionary<string, MetadataValue> Meta(int i) => new() { ["n"] = MetadataValue.Of(i), ["tag"] = MetadataValue.Of(i % 2 == 0 ? "even" : "odd") };

    private static string LongText(int seed)
    {
        var random = new Random(seed);
        string[] words = ["river", "stone", "garden", "window", "market", "yellow", "summer", "ladder", "copper", "violin", "forest", "candle"];
        string Filler(int n) => string.Join(' ', Enumerable.Range(0, n).Select(_ => words[random.Next(words.Length)]));
        string[] needles = ["quantum entanglement puzzles physicists", "bread rises in a warm kitchen", "snow covers the mountains", "electric cars charge overnight"];
        return $"{Filler(40)}. {needles[seed % needles.Length]}. {Filler(20)}.";
    }

    /// <summary>Counts, every document (text, metadata, vector, chunks), the first listing page and the answers to a few queries in each mode.</summary>
    private static async Task<JsonObject> Describe(VectorStoreEngine engine, string name)
    {
        var info = engine.GetCollection(name);
        var documents = new JsonArray();
        var page = engine.ListDocuments(name, limit: 1000, includeVectors: true);
        foreach (var (document, i) in page.Documents.Select((d, i) => (d, i)))
        {
            var full = engine.GetDocument(name, document.Id, includeVector: true);
            documents.Add(new JsonObject
            {
                ["id"] = full.Id,
                ["text"] = full.Text,
                ["metadata"] = Metadata.ToUtf8Json(full.Metadata) is { Length: > 0 } json ? System.Text.Encoding.UTF8.GetString(json) : "{}",
                // Every fourth document's vector keeps the file small; the queries cover the others.
                ["vector"] = i % 4 == 0 ? new JsonArray([.. full.Vector!.Select(v => JsonValue.Create(v))]) : null,
                ["chunks"] = full.Chunks is { } chunks ? new JsonArray([.. chunks.Select(c => new JsonArray(c.Chunk, c.Start, c.End))]) : null,
            });
        }
        var queries = new JsonArray();
        foreach (var query in Queries(info.Settings, engine.Find(name).Encoder is not null))
        {
            var hits = await engine.QueryAsync(name, FormatQuery.ToRequest(query, info.Settings));
            queries.Add(new JsonObject
            {
                ["query"] = query.DeepClone(),
                ["hits"] = new JsonArray([.. hits.Select(h => new JsonObject
                {
                    ["id"] = h.Id,
                    ["score"] = h.Score,
                    ["highlight"] = h.Highlight is { } highlight ? new JsonArray(highlight.Chunk, highlight.Start, highlight.End) : null,
                })]),
            });
        }
        return new JsonObject
        {
            ["count"] = info.DocumentCount,
            ["projectionReady"] = info.ProjectionReady,
            ["vectors"] = engine.Find(name).VectorCount,
            ["documents"] = documents,
            ["queries"] = queries,
        };
    }

    private static IEnumerable<JsonObject> Queries(CollectionSettings settings, bool encoded)
    {
        bool text = settings.TextIndex is not null;
        for (int seed = 1; seed <= 3; seed++)
        {
            var vector = new JsonArray([.. TestData.RandomVector(new Random(seed * 31), settings.Dimension).Select(v => JsonValue.Create(v))]);
            yield return new JsonObject { ["mode"] = QueryModes.Dense, ["vector"] = vector.DeepClone(), ["k"] = 8 };
            yield return new JsonObject { ["mode"] = QueryModes.Dense, ["vector"] = vector.DeepClone(), ["k"] = 5, ["exact"] = true, ["filter"] = """{"tag":"even"}""" };
        }
        if (encoded)
        {
            yield return new JsonObject { ["mode"] = QueryModes.Dense, ["text"] = "quantum physicists", ["k"] = 5 };
            yield return new JsonObject { ["mode"] = QueryModes.Dense, ["text"] = "bread kitchen", ["k"] = 5, ["chunks"] = true };
        }
        if (text)
        {
            yield return new JsonObject { ["mode"] = QueryModes.Text, ["text"] = "river stone", ["k"] = 5 };
            yield return new JsonObject { ["mode"] = QueryModes.Text, ["text"] = "garden market", ["k"] = 5, ["filter"] = """{"tag":"odd"}""" };
            yield return new JsonObject { ["mode"] = QueryModes.Hybrid, ["text"] = "bread in the kitchen", ["k"] = 5 };
            yield return new JsonObject { ["mode"] = QueryModes.Hybrid, ["text"] = "physicists particles", ["k"] = 5, ["fusion"] = "rrf" };
        }
    }
}

/// <summary>Skipped, with the reason, unless VECTORSTORE_WRITE_FIXTURES=1 asks for the fixture to be rewritten.</summary>
public sealed class FixtureWriterFactAttribute : FactAttribute
{
    public FixtureWriterFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("VECTORSTORE_WRITE_FIXTURES") != "1")
        {
            Skip = "Rewrites the committed on-disk format fixture, replacing the proof of compatibility; run it deliberately with VECTORSTORE_WRITE_FIXTURES=1.";
        }
    }
}

/// <summary>A fixture query as JSON and as the engine's request (HNSW queries use an ef beyond the shard size, so they are exhaustive and repeatable).</summary>
internal static class FormatQuery
{
    public static QueryRequest ToRequest(JsonObject query, CollectionSettings settings)
    {
        int k = (int)query["k"]!;
        return new QueryRequest
        {
            Mode = (string?)query["mode"],
            K = k,
            Text = (string?)query["text"],
            Vector = query["vector"] is JsonArray vector ? [.. vector.Select(v => (float)v!)] : null,
            Exact = (bool?)query["exact"] ?? false,
            Chunks = (bool?)query["chunks"] ?? false,
            Fusion = (string?)query["fusion"],
            Ef = settings.Index == IndexKinds.Hnsw ? 200 : null,
            Filter = query["filter"] is { } filter ? MetadataFilter.Parse(JsonDocument.Parse((string)filter!).RootElement) : null,
        };
    }
}
