using System.Text.Json;
using VectorStoreDb.Engine;
using VectorStoreDb.Engine.Filtering;
using VectorStoreDb.Engine.Text;

namespace VectorStoreDb.Tests.Engine;

public class HybridSearchTests
{
    private static DocumentInput Doc(string id, string text, string? kind = null) => new()
    {
        Id = id,
        Text = text,
        Metadata = kind is null ? null : new Dictionary<string, MetadataValue> { ["kind"] = MetadataValue.Of(kind) },
    };

    private static async Task<VectorStoreEngine> OpenWithAsync(TestData.TempFolder folder, string name, string language, IReadOnlyList<DocumentInput> documents, int shards = 1)
    {
        var engine = VectorStoreEngine.Open(folder.Path);
        await engine.CreateCollectionAsync(new CreateCollectionRequest { Name = name, Text = true, TextLanguage = language, Shards = shards });
        await engine.UpsertAsync(name, documents);
        return engine;
    }

    private static readonly DocumentInput[] FiveDocuments =
    [
        Doc("d1", "apple banana apple"),
        Doc("d2", "apple cherry"),
        Doc("d3", "banana cherry date"),
        Doc("d4", "date elderberry fig grape"),
        Doc("d5", "fig"),
    ];

    [Fact]
    public async Task Bm25_scores_equal_the_formula_computed_by_hand()
    {
        using var folder = new TestData.TempFolder();
        using var engine = await OpenWithAsync(folder, "fruit", "none", FiveDocuments);

        var hits = await engine.QueryAsync("fruit", new QueryRequest { Text = "apple cherry", Mode = "text" });

        // N = 5 documents, lengths 3, 2, 3, 4, 1 → avgdl = 13 / 5 = 2.6. "apple" is in d1, d2 (df 2); "cherry" in d2, d3 (df 2).
        const double k1 = 1.2, b = 0.75, avgdl = 2.6;
        double idf = Math.Log(1 + (5 - 2 + 0.5) / (2 + 0.5)); // ln 2.4 for both terms
        static double Tf(double tf, double dl) => tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl));
        double d1 = idf * Tf(2, 3);                  // apple ×2 in a 3-term document
        double d2 = idf * Tf(1, 2) + idf * Tf(1, 2); // apple and cherry once each in a 2-term document
        double d3 = idf * Tf(1, 3);                  // cherry once in a 3-term document

        Assert.Equal(["d2", "d1", "d3"], hits.Select(h => h.Id));
        Assert.Equal(d2, hits[0].Score, 4);
        Assert.Equal(d1, hits[1].Score, 4);
        Assert.Equal(d3, hits[2].Score, 4);
    }

    [Fact]
    public async Task Bm25_uses_collection_wide_statistics_across_shards()
    {
        using var one = new TestData.TempFolder();
        using var four = new TestData.TempFolder();
        using var single = await OpenWithAsync(one, "s", "none", FiveDocuments);
        using var sharded = await OpenWithAsync(four, "s", "none", FiveDocuments, shards: 4);

        var expected = await single.QueryAsync("s", new QueryRequest { Text = "apple cherry fig", Mode = "text" });
        var actual = await sharded.QueryAsync("s", new QueryRequest { Text = "apple cherry fig", Mode = "text" });

        Assert.Equal(expected.Select(h => h.Id), actual.Select(h => h.Id));
        Assert.Equal(expected.Select(h => h.Score), actual.Select(h => h.Score));
    }

    [Fact]
    public void English_analysis_stems_lower_cases_and_drops_stop_words()
    {
        using var english = new TextAnalyzer("english");
        var terms = english.Analyze("The Runners were RUNNING to the Libraries", out int length);
        Assert.Equal(["runner", "were", "run", "librari"], terms.Keys);
        Assert.Equal(4, length);

        using var none = new TextAnalyzer("none");
        var plain = none.Analyze("The Runners were RUNNING", out length);
        Assert.Equal(["the", "runners", "were", "running"], plain.Keys);
        Assert.Equal(4, length);
    }

    [Fact]
    public async Task Stemming_matches_word_forms_and_stop_words_match_nothing()
    {
        using var folder = new TestData.TempFolder();
        using var engine = await OpenWithAsync(folder, "e", "english", [Doc("a", "She was running every morning"), Doc("b", "The cat of the house")]);

        Assert.Equal(["a"], (await engine.QueryAsync("e", new QueryRequest { Text = "runs", Mode = "text" })).Select(h => h.Id));
        // Only stop words: no term is left to match, so no results rather than everything.
        Assert.Empty(await engine.QueryAsync("e", new QueryRequest { Text = "the of", Mode = "text" }));

        using var plainFolder = new TestData.TempFolder();
        using var plain = await OpenWithAsync(plainFolder, "p", "none", [Doc("a", "She was running every morning"), Doc("b", "The cat of the house")]);
        Assert.Empty(await plain.QueryAsync("p", new QueryRequest { Text = "runs", Mode = "text" }));
        Assert.Equal(["b"], (await plain.QueryAsync("p", new QueryRequest { Text = "the", Mode = "text" })).Select(h => h.Id));
    }

    [Fact]
    public void Rrf_orders_by_summed_reciprocal_ranks()
    {
        RankedId[] dense = [new("a", 0.9f), new("b", 0.8f), new("c", 0.7f)];
        RankedId[] text = [new("b", 12f), new("d", 7f)];

        var fused = Fusion.Rrf(dense, text, k: 60, denseWeight: 1f, textWeight: 1f);

        // b: 1/62 + 1/61, a: 1/61, d: 1/62, c: 1/63.
        Assert.Equal(["b", "a", "d", "c"], fused.Select(f => f.Id));
        Assert.Equal(1.0 / 62 + 1.0 / 61, fused[0].Score, 6);
        Assert.Equal((2, 1), (fused[0].DenseRank!.Value, fused[0].TextRank!.Value));
        Assert.Null(fused[2].DenseRank);

        // Weighting text ×3 lifts the text-only d above the dense-only a: 3/62 > 1/61.
        var weighted = Fusion.Rrf(dense, text, k: 60, denseWeight: 1f, textWeight: 3f);
        Assert.Equal(["b", "d", "a", "c"], weighted.Select(f => f.Id));
    }

    [Fact]
    public void Dbsf_normalises_each_list_by_mean_plus_minus_three_sigma()
    {
        RankedId[] dense = [new("a", 3f), new("b", 1f)];      // mean 2, σ 1 → [-1, 5]: a = 4/6, b = 2/6
        RankedId[] text = [new("b", 10f), new("c", 10f)];     // σ 0 → no information: 0.5 each

        var fused = Fusion.Dbsf(dense, text, 1f, 1f);

        Assert.Equal(["b", "a", "c"], fused.Select(f => f.Id));
        Assert.Equal(2.0 / 6 + 0.5, fused[0].Score, 5);
        Assert.Equal(4.0 / 6, fused[1].Score, 5);
        Assert.Equal(0.5, fused[2].Score, 5);
    }

    // The demo encoder matches texts that share words or 5-letter word prefixes (and stop words); BM25 matches
    // stemmed words. "electronic transit for commuters" shares the prefixes elect-/trans-/commu- and "for" with the
    // query but no stemmed term, so only the dense side can find it; the part number only BM25 ranks first.
    private static readonly DocumentInput[] Catalogue =
    [
        Doc("code", "Order spare part XJ-4471 today", "part"),
        Doc("paraphrase", "electronic transit for commuters", "guide"),
        Doc("bread", "a guide to baking sourdough bread at home", "guide"),
        Doc("rome", "the history of the roman empire", "guide"),
        Doc("ocean", "ocean waves and tides explained", "guide"),
        Doc("garden", "growing fresh vegetables in a small garden", "guide"),
        Doc("part2", "spare parts for older models", "part"),
    ];

    private const string CatalogueQuery = "XJ-4471 electric transport for community";

    [Fact]
    public async Task Hybrid_finds_both_the_exact_code_and_the_paraphrase()
    {
        using var folder = new TestData.TempFolder();
        using var engine = await OpenWithAsync(folder, "cat", "english", Catalogue);

        var text = await engine.QueryAsync("cat", new QueryRequest { Text = CatalogueQuery, Mode = "text", K = 7 });
        Assert.Equal("code", text[0].Id);
        Assert.DoesNotContain(text, h => h.Id == "paraphrase");

        var dense = await engine.QueryAsync("cat", new QueryRequest { Text = CatalogueQuery, Mode = "dense", K = 2 });
        Assert.Contains(dense, h => h.Id == "paraphrase");

        foreach (string fusion in new[] { "rrf", "dbsf" })
        {
            var hybrid = await engine.QueryAsync("cat", new QueryRequest { Text = CatalogueQuery, Mode = "hybrid", Fusion = fusion, K = 2, Explain = true });
            Assert.Equal(["code", "paraphrase"], hybrid.Select(h => h.Id).Order());
            var paraphrase = hybrid.Single(h => h.Id == "paraphrase").Explanation!;
            Assert.Null(paraphrase.TextRank);
            Assert.NotNull(paraphrase.DenseRank);
            Assert.Equal(1, hybrid.Single(h => h.Id == "code").Explanation!.TextRank);
        }
    }

    [Fact]
    public async Task Filters_apply_in_every_mode()
    {
        using var folder = new TestData.TempFolder();
        using var engine = await OpenWithAsync(folder, "cat", "english", Catalogue);
        var onlyGuides = MetadataFilter.Parse(JsonDocument.Parse("""{"kind":"guide"}""").RootElement);

        foreach (string mode in new[] { "dense", "text", "hybrid" })
        {
            var hits = await engine.QueryAsync("cat", new QueryRequest { Text = CatalogueQuery + " spare part history", Mode = mode, K = 7, Filter = onlyGuides });
            Assert.NotEmpty(hits);
            Assert.All(hits, h => Assert.Equal("guide", h.Metadata["kind"].String));
        }
    }

    [Fact]
    public async Task Text_index_follows_updates_and_deletes_and_is_rebuilt_on_reopen()
    {
        using var folder = new TestData.TempFolder();
        using (var engine = await OpenWithAsync(folder, "t", "english", FiveDocuments))
        {
            await engine.UpsertAsync("t", [Doc("d5", "kiwi mango")]);
            await engine.DeleteDocumentAsync("t", "d2");
            Assert.Equal(["d1"], (await engine.QueryAsync("t", new QueryRequest { Text = "apple", Mode = "text" })).Select(h => h.Id));
        }
        using var reopened = VectorStoreEngine.Open(folder.Path);
        Assert.Equal(["d1"], (await reopened.QueryAsync("t", new QueryRequest { Text = "apple", Mode = "text" })).Select(h => h.Id));
        Assert.Equal(["d5"], (await reopened.QueryAsync("t", new QueryRequest { Text = "mango", Mode = "text" })).Select(h => h.Id));
        Assert.Empty(await reopened.QueryAsync("t", new QueryRequest { Text = "fig", Mode = "text", Filter = MetadataFilter.Parse(JsonDocument.Parse("""{"kind":"x"}""").RootElement) }));
        Assert.Equal(["d4"], (await reopened.QueryAsync("t", new QueryRequest { Text = "fig", Mode = "text" })).Select(h => h.Id));
        Assert.Equal("english", reopened.GetCollection("t").Settings.TextIndex!.Language);
    }

    [Fact]
    public async Task Text_index_is_rebuilt_from_a_checkpoint_plus_the_log_tail()
    {
        using var folder = new TestData.TempFolder();
        using (var engine = await OpenWithAsync(folder, "t", "english", FiveDocuments))
        {
            Assert.True(await engine.CheckpointAsync(force: true) > 0);
            await engine.UpsertAsync("t", [Doc("d6", "apple pie")]); // only in the log after the checkpoint
            await engine.DeleteDocumentAsync("t", "d2");
        }
        using var reopened = VectorStoreEngine.Open(folder.Path);
        Assert.Equal(["d1", "d6"], (await reopened.QueryAsync("t", new QueryRequest { Text = "apple", Mode = "text" })).Select(h => h.Id).Order());
        Assert.Equal(["d3"], (await reopened.QueryAsync("t", new QueryRequest { Text = "cherry", Mode = "text" })).Select(h => h.Id));
    }

    [Fact]
    public async Task Bad_input_is_refused_naming_the_field()
    {
        using var folder = new TestData.TempFolder();
        using var engine = await OpenWithAsync(folder, "t", "english", FiveDocuments);
        // Created with the text index turned off: text and hybrid queries are refused, naming the mode.
        await engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "plain", Text = false });

        async Task Refused(string collection, QueryRequest request, string field)
        {
            var error = await Assert.ThrowsAsync<VectorStoreException>(() => engine.QueryAsync(collection, request));
            Assert.Equal(ErrorCode.InvalidArgument, error.Code);
            Assert.Equal(field, error.Field);
            Assert.Contains(field, error.Message);
        }

        await Refused("t", new QueryRequest { Text = "apple", Mode = "sparse" }, "mode");
        await Refused("plain", new QueryRequest { Text = "apple", Mode = "text" }, "mode");
        await Refused("plain", new QueryRequest { Text = "apple", Mode = "hybrid" }, "mode");
        await Refused("t", new QueryRequest { Text = "", Mode = "text" }, "text");
        await Refused("t", new QueryRequest { Text = "   ", Mode = "hybrid" }, "text");
        await Refused("t", new QueryRequest { Vector = new float[256], Mode = "text" }, "text");
        await Refused("t", new QueryRequest { Text = "apple", Mode = "hybrid", Fusion = "max" }, "fusion");
        await Refused("t", new QueryRequest { Text = "apple", Mode = "hybrid", K = 10, Prefetch = 5 }, "prefetch");
        await Refused("t", new QueryRequest { Text = "apple", Mode = "hybrid", DenseWeight = -1 }, "weights.dense");
        await Refused("t", new QueryRequest { Text = "apple", Mode = "hybrid", DenseWeight = 0, TextWeight = 0 }, "weights");

        var create = await Assert.ThrowsAsync<VectorStoreException>(() => engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "x", Text = true, TextLanguage = "klingon" }));
        Assert.Equal("textLanguage", create.Field);
        create = await Assert.ThrowsAsync<VectorStoreException>(() => engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "x", Text = false, DefaultMode = "hybrid" }));
        Assert.Equal("defaultMode", create.Field);
        create = await Assert.ThrowsAsync<VectorStoreException>(() => engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "x", Encoder = "none", Dimension = 4, DefaultMode = "text" }));
        Assert.Equal("defaultMode", create.Field);
        create = await Assert.ThrowsAsync<VectorStoreException>(() => engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "x", Text = false, TextLanguage = "none" }));
        Assert.Equal("text", create.Field);
        create = await Assert.ThrowsAsync<VectorStoreException>(() => engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "x", Text = true, Bm25B = 2 }));
        Assert.Equal("bm25B", create.Field);
        Assert.Equal(2, engine.ListCollections().Count);
    }

    [Fact]
    public async Task Hybrid_default_mode_applies_when_the_query_names_none()
    {
        using var folder = new TestData.TempFolder();
        using var engine = VectorStoreEngine.Open(folder.Path);
        await engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "h", Text = true, DefaultMode = "hybrid" });
        await engine.UpsertAsync("h", Catalogue);

        var hits = await engine.QueryAsync("h", new QueryRequest { Text = CatalogueQuery, K = 2, Explain = true });
        Assert.Equal(["code", "paraphrase"], hits.Select(h => h.Id).Order());
        Assert.Contains(hits, h => h.Explanation!.TextRank is not null);
    }
    [Fact]
    public async Task A_collection_with_an_encoder_and_no_text_options_gets_the_text_index()
    {
        using var folder = new TestData.TempFolder();
        using var engine = VectorStoreEngine.Open(folder.Path);
        var info = await engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "plain" });
        Assert.NotNull(info.Settings.Encoder);
        Assert.Equal(new TextIndexSettings { Language = "english", K1 = 1.2f, B = 0.75f }, info.Settings.TextIndex);
        // The default mode stays dense: hybrid is asked for per query.
        Assert.Equal(QueryModes.Dense, info.Settings.DefaultMode);
        await engine.UpsertAsync("plain", Catalogue);

        Assert.Equal("code", (await engine.QueryAsync("plain", new QueryRequest { Text = CatalogueQuery, Mode = "text", K = 1 })).Single().Id);
        var hybrid = await engine.QueryAsync("plain", new QueryRequest { Text = CatalogueQuery, Mode = "hybrid", K = 2, Explain = true });
        Assert.Equal(["code", "paraphrase"], hybrid.Select(h => h.Id).Order());
        Assert.Contains(hybrid, h => h.Explanation!.TextRank is not null);
        var dense = await engine.QueryAsync("plain", new QueryRequest { Text = CatalogueQuery, K = 2, Explain = true });
        Assert.All(dense, h => Assert.Null(h.Explanation!.TextRank));

        // A hybrid default needs no "text": true any more when an encoder embeds the documents.
        var hybridDefault = await engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "h", DefaultMode = "hybrid" });
        Assert.NotNull(hybridDefault.Settings.TextIndex);
        // Raw vectors stay without one unless asked.
        Assert.Null((await engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "raw", Encoder = "none", Dimension = 4 })).Settings.TextIndex);
        Assert.NotNull((await engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "raw-text", Encoder = "none", Dimension = 4, Text = true })).Settings.TextIndex);
    }

    [Fact]
    public async Task A_collection_saved_without_a_text_index_reopens_without_one()
    {
        using var folder = new TestData.TempFolder();
        string settingsFile;
        using (var engine = VectorStoreEngine.Open(folder.Path))
        {
            await engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "old", Text = false });
            await engine.UpsertAsync("old", Catalogue);
            settingsFile = Directory.GetFiles(folder.Path, "collection.json", SearchOption.AllDirectories).Single();
        }
        // As written before the text index existed: no textIndex member at all (and, since then, "textIndex": null).
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(settingsFile))!.AsObject();
        Assert.True(json.ContainsKey("textIndex"));
        Assert.Null(json["textIndex"]);
        json.Remove("textIndex");
        File.WriteAllText(settingsFile, json.ToJsonString());
        byte[] before = File.ReadAllBytes(settingsFile);

        using (var reopened = VectorStoreEngine.Open(folder.Path))
        {
            Assert.Null(reopened.GetCollection("old").Settings.TextIndex);
            Assert.Equal(QueryModes.Dense, reopened.GetCollection("old").Settings.DefaultMode);
            var error = await Assert.ThrowsAsync<VectorStoreException>(() => reopened.QueryAsync("old", new QueryRequest { Text = CatalogueQuery, Mode = "hybrid" }));
            Assert.Equal(ErrorCode.InvalidArgument, error.Code);
            Assert.Equal("mode", error.Field);
            Assert.Contains("has no text index", error.Message);
            Assert.Equal(2, (await reopened.QueryAsync("old", new QueryRequest { Text = CatalogueQuery, K = 2 })).Count);
        }
        Assert.Equal(before, File.ReadAllBytes(settingsFile));
    }
}
