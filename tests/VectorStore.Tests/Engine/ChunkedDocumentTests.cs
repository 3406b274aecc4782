using VectorStoreDb.Engine;
using VectorStoreDb.Engine.Storage;
using static VectorStoreDb.Tests.StorageTestSupport;

namespace VectorStoreDb.Tests.Engine;

/// <summary>
/// Long texts split into chunks inside the engine (demo encoder, small windows so texts stay short): each chunk is
/// its own vector, queries rank documents by their best chunk, and every write path handles all of a document's chunks.
/// </summary>
public sealed class ChunkedDocumentTests
{
    private const int Window = 16;
    private const int Overlap = 4;

    /// <summary>Filler words, then a distinctive sentence, then more filler: the sentence sits far past the first window.</summary>
    private static string LongText(int seed, string needle, int fillerBefore = 60, int fillerAfter = 30)
    {
        var random = new Random(seed);
        string[] words = ["river", "stone", "garden", "window", "market", "yellow", "summer", "ladder", "copper", "violin", "forest", "candle"];
        string Filler(int n) => string.Join(' ', Enumerable.Range(0, n).Select(_ => words[random.Next(words.Length)]));
        return $"{Filler(fillerBefore)}. {needle}. {Filler(fillerAfter)}.";
    }

    private static Task CreateChunked(VectorStoreEngine engine, string name, int shards = 1, string index = "hnsw") =>
        engine.CreateCollectionAsync(new CreateCollectionRequest { Name = name, ChunkTokens = Window, ChunkOverlap = Overlap, Shards = shards, Index = index });

    private static async Task<IReadOnlyList<QueryHit>> Query(VectorStoreEngine engine, string name, string text, int k = 5, bool chunks = false) =>
        await engine.QueryAsync(name, new QueryRequest { Text = text, K = k, Chunks = chunks });

    private static void AssertHighlightPointsIntoText(QueryHit hit)
    {
        var highlight = Assert.IsType<ChunkHighlight>(hit.Highlight);
        Assert.NotNull(hit.Text);
        Assert.InRange(highlight.Start, 0, highlight.End);
        Assert.InRange(highlight.End, highlight.Start, hit.Text!.Length);
        Assert.Equal(hit.Text[highlight.Start..highlight.End], highlight.Text);
    }

    [Fact]
    public async Task A_long_text_is_one_document_with_many_vectors_and_its_best_chunk_is_the_highlight()
    {
        using var folder = new TestData.TempFolder();
        using var engine = Open(folder.Path);
        await CreateChunked(engine, "docs");
        string needle = "quantum entanglement puzzles physicists";
        await engine.UpsertAsync("docs", [new DocumentInput { Id = "long", Text = LongText(1, needle) }, new DocumentInput { Id = "short", Text = "a short note about gardens" }]);

        Assert.Equal(2, engine.Count("docs"));
        Assert.Equal(2, engine.GetCollection("docs").DocumentCount);
        int vectors = (int)engine.Find("docs").VectorCount;
        Assert.True(vectors > 5, $"expected the long text in several chunks, got {vectors} vectors");

        var hits = await Query(engine, "docs", needle);
        Assert.Equal(["long", "short"], hits.Select(h => h.Id));
        var best = hits[0];
        AssertHighlightPointsIntoText(best);
        Assert.Contains("entanglement", best.Highlight!.Text, StringComparison.Ordinal);
        Assert.True(best.Highlight.Chunk > 0, "the needle sits past the first window");
        Assert.Null(hits[1].Highlight); // a document indexed whole needs no highlight

        // The document's score is its best chunk's score.
        var chunkHits = await Query(engine, "docs", needle, k: 50, chunks: true);
        Assert.Equal(best.Score, chunkHits[0].Score, 1e-6f);
        Assert.Equal(best.Highlight, chunkHits[0].Highlight);
        // Every chunk is a hit of its own in chunk mode, each pointing into the text, numbered without gaps.
        var longChunks = chunkHits.Where(h => h.Id == "long").Select(h => h.Highlight!.Chunk).Order().ToArray();
        Assert.Equal(vectors - 1, longChunks.Length);
        Assert.Equal(Enumerable.Range(0, longChunks.Length), longChunks);
        // A get returns the whole text and the chunk layout, the same ranges the chunk hits carried.
        var document = engine.GetDocument("docs", "long");
        Assert.Equal(chunkHits.Where(h => h.Id == "long").Select(h => new ChunkSpan(h.Highlight!.Chunk, h.Highlight.Start, h.Highlight.End)).OrderBy(c => c.Chunk),
            document.Chunks!);
        Assert.Null(engine.GetDocument("docs", "short").Chunks);
        Assert.All(chunkHits, AssertHighlightPointsIntoText);
        Assert.Equal(0, Assert.Single(chunkHits, h => h.Id == "short").Highlight!.Chunk);
    }

    [Fact]
    public async Task Chunks_overlap_and_cover_the_whole_text()
    {
        using var folder = new TestData.TempFolder();
        using var engine = Open(folder.Path);
        await CreateChunked(engine, "docs", index: "exact");
        string text = LongText(2, "the needle");
        await engine.UpsertAsync("docs", [new DocumentInput { Id = "long", Text = text }]);
        var chunks = (await Query(engine, "docs", "anything", k: 100, chunks: true)).Select(h => h.Highlight!).OrderBy(c => c.Chunk).ToArray();
        Assert.Equal(0, chunks[0].Start);
        Assert.Equal(text.Length - 1, chunks[^1].End); // the final '.' is not a token
        for (int i = 1; i < chunks.Length; i++)
        {
            Assert.True(chunks[i].Start < chunks[i - 1].End, $"chunk {i} does not overlap chunk {i - 1}");
            Assert.True(chunks[i].Start > chunks[i - 1].Start);
        }
    }

    [Fact]
    public async Task Queries_return_k_distinct_documents_even_when_one_document_owns_the_best_chunks()
    {
        using var folder = new TestData.TempFolder();
        using var engine = Open(folder.Path);
        await CreateChunked(engine, "docs", shards: 2);
        // One document repeats the query's words in every window, so its chunks alone would fill the top k.
        string repeated = string.Join(". ", Enumerable.Repeat("solar panels convert sunlight", 40));
        var documents = new List<DocumentInput> { new() { Id = "repeated", Text = repeated } };
        documents.AddRange(Enumerable.Range(0, 30).Select(i => new DocumentInput { Id = $"d{i}", Text = LongText(100 + i, i % 3 == 0 ? "solar power" : "river boats") }));
        await engine.UpsertAsync("docs", documents);

        var hits = await Query(engine, "docs", "solar panels convert sunlight", k: 10);
        Assert.Equal(10, hits.Count);
        Assert.Equal(10, hits.Select(h => h.Id).Distinct().Count());
        Assert.Equal("repeated", hits[0].Id);
        Assert.True(hits.Zip(hits.Skip(1)).All(p => p.First.Score >= p.Second.Score), "hits are best first");

        var chunkHits = await Query(engine, "docs", "solar panels convert sunlight", k: 10, chunks: true);
        Assert.True(chunkHits.Count(h => h.Id == "repeated") > 5, "chunk mode returns the repeated document's chunks one by one");
    }

    [Fact]
    public async Task Replacing_and_deleting_a_chunked_document_frees_all_of_its_chunks()
    {
        using var folder = new TestData.TempFolder();
        using var engine = Open(folder.Path);
        await CreateChunked(engine, "docs", index: "exact");
        var collection = engine.Find("docs");
        await engine.UpsertAsync("docs", [new DocumentInput { Id = "a", Text = LongText(3, "first version") }, new DocumentInput { Id = "b", Text = "short b" }]);
        long before = collection.VectorCount;
        Assert.True(before > 3);

        await engine.UpsertAsync("docs", [new DocumentInput { Id = "a", Text = "now a short text" }]);
        Assert.Equal(2, collection.VectorCount);
        var hit = (await Query(engine, "docs", "now a short text", k: 10, chunks: true)).First(h => h.Id == "a");
        Assert.Equal("now a short text", hit.Text);
        Assert.Equal(0, hit.Highlight!.Chunk);

        await engine.UpsertAsync("docs", [new DocumentInput { Id = "a", Text = LongText(4, "third version", 100, 50) }]);
        Assert.True(collection.VectorCount > before, "a longer text takes more chunks");
        await engine.DeleteDocumentAsync("docs", "a");
        Assert.Equal(1, collection.VectorCount);
        Assert.Equal(1, engine.Count("docs"));
        Assert.Equal(["b"], (await Query(engine, "docs", "third version", k: 10, chunks: true)).Select(h => h.Id));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Chunks_survive_a_restart_from_the_log_and_from_a_checkpoint(bool checkpoint)
    {
        using var folder = new TestData.TempFolder();
        IReadOnlyList<QueryHit> before;
        long vectors;
        string needle = "volcanic ash grounded flights";
        using (var engine = Open(folder.Path))
        {
            await CreateChunked(engine, "docs");
            await engine.UpsertAsync("docs", [.. Enumerable.Range(0, 20).Select(i => new DocumentInput
            {
                Id = $"d{i}",
                Text = LongText(i, i == 7 ? needle : "ordinary day"),
                Metadata = new Dictionary<string, MetadataValue> { ["n"] = MetadataValue.Of(i) },
            })]);
            // Replace one and delete another so replay and the checkpoint both carry freed and reused labels.
            await engine.UpsertAsync("docs", [new DocumentInput { Id = "d3", Text = "short now" }]);
            await engine.DeleteDocumentAsync("docs", "d4");
            before = await Query(engine, "docs", needle, k: 50, chunks: true);
            vectors = engine.Find("docs").VectorCount;
            if (checkpoint)
            {
                await engine.CheckpointAsync(force: true);
            }
        }
        using (var engine = Open(folder.Path))
        {
            Assert.Equal(checkpoint ? 1 : 0, engine.LastRecovery!.ShardsFromCheckpoint);
            Assert.Equal(19, engine.Count("docs"));
            Assert.Equal(vectors, engine.Find("docs").VectorCount);
            var after = await Query(engine, "docs", needle, k: 50, chunks: true);
            Assert.Equal(before.Select(h => (h.Id, h.Highlight)), after.Select(h => (h.Id, h.Highlight)));
            var best = (await Query(engine, "docs", needle, k: 1))[0];
            Assert.Equal("d7", best.Id);
            Assert.Contains("volcanic", best.Highlight!.Text, StringComparison.Ordinal);

            // Writes after the restart reuse freed labels without disturbing the loaded chunks.
            await engine.UpsertAsync("docs", [new DocumentInput { Id = "d3", Text = LongText(99, "glacier melt") }]);
            Assert.Equal("d3", (await Query(engine, "docs", "glacier melt", k: 1))[0].Id);
            Assert.Equal("d7", (await Query(engine, "docs", needle, k: 1))[0].Id);
        }
    }

    [Fact]
    public async Task Filters_apply_to_every_chunk_through_its_document()
    {
        using var folder = new TestData.TempFolder();
        using var engine = Open(folder.Path);
        await CreateChunked(engine, "docs");
        await engine.UpsertAsync("docs", [.. Enumerable.Range(0, 10).Select(i => new DocumentInput
        {
            Id = $"d{i}",
            Text = LongText(i, "harbour lighthouse keeper"),
            Metadata = new Dictionary<string, MetadataValue> { ["even"] = MetadataValue.Of(i % 2 == 0) },
        })]);
        var filter = VectorStoreDb.Engine.Filtering.MetadataFilter.Parse(System.Text.Json.JsonDocument.Parse("""{"even":true}""").RootElement);
        var hits = await engine.QueryAsync("docs", new QueryRequest { Text = "harbour lighthouse keeper", K = 10, Filter = filter });
        Assert.Equal(5, hits.Count);
        Assert.All(hits, h => Assert.Equal(0, int.Parse(h.Id[1..], System.Globalization.CultureInfo.InvariantCulture) % 2));
        Assert.All(hits, AssertHighlightPointsIntoText);
    }

    [Fact]
    public async Task Without_chunking_a_long_text_is_one_truncated_vector()
    {
        using var folder = new TestData.TempFolder();
        using var engine = Open(folder.Path);
        await engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "docs", Chunking = false });
        Assert.False(engine.GetCollection("docs").Settings.Chunking);
        await engine.UpsertAsync("docs", [new DocumentInput { Id = "long", Text = LongText(5, "needle", 600, 10) }]);
        Assert.Equal(1, engine.Find("docs").VectorCount);
        Assert.Null((await Query(engine, "docs", "needle"))[0].Highlight);
    }

    [Fact]
    public async Task Chunking_is_on_by_default_with_the_encoders_window()
    {
        using var folder = new TestData.TempFolder();
        using var engine = Open(folder.Path);
        var info = await engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "docs" });
        Assert.True(info.Settings.Chunking);
        Assert.Equal(0, info.Settings.ChunkTokens);
        Assert.Equal(32, info.Settings.ChunkOverlap);
        // The demo encoder reads 512 tokens: 700 words become two chunks.
        await engine.UpsertAsync("docs", [new DocumentInput { Id = "long", Text = string.Join(' ', Enumerable.Range(0, 700).Select(i => $"w{i}")) }]);
        Assert.Equal(2, engine.Find("docs").VectorCount);
        var raw = await engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "raw", Encoder = "none", Dimension = 4 });
        Assert.False(raw.Settings.Chunking);
    }

    [Theory]
    [InlineData(4, null, false, "chunkTokens")]
    [InlineData(513, null, false, "chunkTokens")]
    [InlineData(16, 16, false, "chunkOverlap")]
    [InlineData(16, -1, false, "chunkOverlap")]
    [InlineData(16, null, true, "chunking")]
    public async Task Bad_chunking_settings_are_refused_naming_the_field(int tokens, int? overlap, bool rawVectors, string field)
    {
        using var folder = new TestData.TempFolder();
        using var engine = Open(folder.Path);
        var error = await Assert.ThrowsAsync<VectorStoreException>(() => engine.CreateCollectionAsync(new CreateCollectionRequest
        {
            Name = "docs", ChunkTokens = tokens, ChunkOverlap = overlap, Encoder = rawVectors ? "none" : null, Dimension = rawVectors ? 8 : null,
        }));
        Assert.Equal(ErrorCode.InvalidArgument, error.Code);
        Assert.Equal(field, error.Field);
        Assert.Empty(engine.ListCollections());
    }

    [Fact]
    public async Task A_text_with_more_chunks_than_the_limit_is_refused_and_changes_nothing()
    {
        using var folder = new TestData.TempFolder();
        using var engine = Open(folder.Path, configure: o => o.Limits.MaxChunksPerDocument = 3);
        await CreateChunked(engine, "docs");
        var error = await Assert.ThrowsAsync<VectorStoreException>(() => engine.UpsertAsync("docs",
            [new DocumentInput { Id = "ok", Text = "short" }, new DocumentInput { Id = "long", Text = LongText(6, "too long") }]));
        Assert.Equal(ErrorCode.LimitExceeded, error.Code);
        Assert.Equal("documents[1].text", error.Field);
        Assert.Equal(0, engine.Count("docs"));
    }

    [Fact]
    public async Task Chunk_hits_are_a_dense_mode_result()
    {
        using var folder = new TestData.TempFolder();
        using var engine = Open(folder.Path);
        await engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "docs", Text = true, ChunkTokens = Window });
        await engine.UpsertAsync("docs", [new DocumentInput { Id = "long", Text = LongText(8, "tidal energy") }]);
        var error = await Assert.ThrowsAsync<VectorStoreException>(() => engine.QueryAsync("docs", new QueryRequest { Text = "tidal", Mode = "hybrid", Chunks = true }));
        Assert.Equal("chunks", error.Field);
        // Hybrid documents still carry the dense side's best chunk.
        var hit = Assert.Single(await engine.QueryAsync("docs", new QueryRequest { Text = "tidal energy", Mode = "hybrid" }));
        Assert.Contains("tidal", hit.Highlight!.Text, StringComparison.Ordinal);
        // The text index holds the document once, whole; its highlight is the chunk with the query's terms.
        var textHit = Assert.Single(await engine.QueryAsync("docs", new QueryRequest { Text = "tidal energy", Mode = "text", K = 10 }));
        Assert.Contains("tidal energy", textHit.Highlight!.Text, StringComparison.Ordinal);
        Assert.True(textHit.Highlight.Chunk > 0);
    }

    [Fact]
    public void Chunk_records_round_trip_through_the_log_codec()
    {
        string text = "0123456789abcdefghij";
        var record = new StorageRecord(RecordKind.Upsert, "id", text, [1f, 2f])
        {
            Chunks = [new ChunkRecord(0, 12, [1f, 2f]), new ChunkRecord(8, 20, [3f, 4f])],
        };
        var bytes = RecordCodec.EncodeBatch([record], 0, 1);
        var decoded = Assert.Single(RecordCodec.TryDecodeBatch(bytes)!);
        Assert.Equal(record.Vector, decoded.Vector);
        Assert.Equal(2, decoded.Chunks!.Count);
        Assert.Equal((0, 12), (decoded.Chunks[0].Start, decoded.Chunks[0].End));
        Assert.Equal([1f, 2f], decoded.Chunks[0].Vector);
        Assert.Equal((8, 20), (decoded.Chunks[1].Start, decoded.Chunks[1].End));
        Assert.Equal([3f, 4f], decoded.Chunks[1].Vector);

        // A chunk range outside the text is damage, not data.
        var bad = RecordCodec.EncodeBatch([record with { Text = "short" }], 0, 1);
        Assert.Null(RecordCodec.TryDecodeBatch(bad));
    }
}

/// <summary>Chunking with the real ONNX encoder (128-token window): text past the window is searchable only when chunked.</summary>
public sealed class OnnxChunkingTests
{
    [ModelFact(TestModels.Small)]
    public async Task Text_past_the_encoders_window_is_found_through_its_chunk()
    {
        var registry = VectorStoreDb.Embedding.EncoderRegistry.CreateDefault();
        var loaded = VectorStoreDb.Embedding.Onnx.EncoderLoader.LoadInto(registry, new Dictionary<string, VectorStoreDb.Embedding.Onnx.EncoderOptions>
        {
            ["small"] = new() { Path = TestModels.Folder(TestModels.Small), IntraOpThreads = 1 },
        });
        try
        {
            using var folder = new TestData.TempFolder();
            using var engine = VectorStoreEngine.Open(folder.Path, encoders: registry, configure: o => o.Durability.CheckpointIntervalSeconds = 0);
            string editor = "A text editor for programmers with syntax highlighting, macros, split windows, spell checking and a scripting language. ";
            string firewall = "The firewall filters network packets with stateful rules for incoming and outgoing connections.";
            // About 25 tokens per sentence: the firewall sentence starts near token 250, twice the window.
            string text = string.Concat(Enumerable.Repeat(editor, 10)) + firewall;
            foreach (var (name, chunking) in new[] { ("chunked", true), ("truncated", false) })
            {
                await engine.CreateCollectionAsync(new CreateCollectionRequest { Name = name, Encoder = "small", Chunking = chunking });
                await engine.UpsertAsync(name, [new DocumentInput { Id = "long", Text = text }]);
            }
            Assert.True(engine.Find("chunked").VectorCount >= 3);

            string question = "packet filtering firewall rules for network connections";
            var chunked = Assert.Single(await engine.QueryAsync("chunked", new QueryRequest { Text = question }));
            var truncated = Assert.Single(await engine.QueryAsync("truncated", new QueryRequest { Text = question }));
            Assert.Contains("firewall", chunked.Highlight!.Text, StringComparison.Ordinal);
            Assert.True(chunked.Highlight.Chunk >= 2);
            Assert.True(chunked.Score > truncated.Score + 0.1f, $"chunked {chunked.Score:F3} vs truncated {truncated.Score:F3}");
        }
        finally
        {
            foreach (var encoder in loaded)
            {
                encoder.Dispose();
            }
        }
    }
}
