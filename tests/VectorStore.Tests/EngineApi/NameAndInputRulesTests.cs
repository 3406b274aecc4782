using System.Text.Json;
using VectorStoreDb.Engine;
using VectorStoreDb.Engine.Settings;

namespace VectorStoreDb.Tests.EngineApi;

/// <summary>One rule for names and ids that travel in URLs, and invalid UTF-16 refused as the client's error.</summary>
public sealed class NameAndInputRulesTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "vectorstore-names", Guid.NewGuid().ToString("N"));
    private readonly VectorStoreEngine _engine;

    public NameAndInputRulesTests() => _engine = VectorStoreEngine.Open(_path);

    public void Dispose()
    {
        _engine.Dispose();
        Directory.Delete(_path, recursive: true);
    }

    public static TheoryData<string> BadNames() => new()
    {
        ".", "..", "a/b", "a\\b", "a\nb", "a\rb", "tab\there", "nul\0", "del\u007f", "c1\u0085", "lone\ud800", "\udc00x", "",
    };

    private static void AssertInvalid(VectorStoreException ex, string field)
    {
        Assert.Equal(ErrorCode.InvalidArgument, ex.Code);
        Assert.Equal(field, ex.Field);
    }

    [Theory]
    [MemberData(nameof(BadNames), DisableDiscoveryEnumeration = true)]
    public async Task Bad_document_ids_are_refused_naming_the_field_and_nothing_is_written(string id)
    {
        await _engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "docs", Dimension = 2, Encoder = "none" });
        var ex = await Assert.ThrowsAsync<VectorStoreException>(() => _engine.UpsertAsync("docs",
        [
            new DocumentInput { Id = "fine", Vector = [1, 2] },
            new DocumentInput { Id = id, Vector = [1, 2] },
        ]));
        AssertInvalid(ex, "documents[1].id");
        Assert.Equal(0, _engine.Count("docs"));
    }

    [Fact]
    public async Task Ids_up_to_the_limit_are_accepted_and_longer_ones_refused()
    {
        await _engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "docs", Dimension = 2, Encoder = "none" });
        int max = _engine.Options.Limits.MaxIdLength;
        await _engine.UpsertAsync("docs", [new DocumentInput { Id = new string('x', max), Vector = [1, 2] }, new DocumentInput { Id = "a.b", Vector = [1, 2] }, new DocumentInput { Id = "emoji😀", Vector = [1, 2] }]);
        var ex = await Assert.ThrowsAsync<VectorStoreException>(() => _engine.UpsertAsync("docs", [new DocumentInput { Id = new string('x', max + 1), Vector = [1, 2] }]));
        AssertInvalid(ex, "documents[0].id");
        Assert.Equal(3, _engine.Count("docs"));
    }

    [Theory]
    [MemberData(nameof(BadNames), DisableDiscoveryEnumeration = true)]
    public async Task Bad_collection_names_are_refused_on_create_and_restore(string name)
    {
        var ex = await Assert.ThrowsAsync<VectorStoreException>(() => _engine.CreateCollectionAsync(new CreateCollectionRequest { Name = name, Dimension = 2 }));
        AssertInvalid(ex, "name");
        Assert.Empty(_engine.ListCollections());

        await _engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "source", Dimension = 2, Encoder = "none" });
        var snapshot = await _engine.CreateSnapshotAsync("source", "snap");
        ex = await Assert.ThrowsAsync<VectorStoreException>(() => _engine.RestoreSnapshotAsync("source", snapshot.Name, name));
        AssertInvalid(ex, "target");
        Assert.Single(_engine.ListCollections());
    }

    [Theory]
    [MemberData(nameof(BadNames), DisableDiscoveryEnumeration = true)]
    public async Task Bad_snapshot_names_are_refused_before_a_file_is_written(string name)
    {
        await _engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "source", Dimension = 2, Encoder = "none" });
        var ex = await Assert.ThrowsAsync<VectorStoreException>(() => _engine.CreateSnapshotAsync("source", name));
        AssertInvalid(ex, "snapshot");
        Assert.Empty(_engine.ListSnapshots("source"));
    }

    [Fact]
    public async Task Documents_stored_before_the_rule_stay_readable_and_deletable()
    {
        await _engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "old", Dimension = 2, Encoder = "none" });
        // Written past the engine's rule, as data from before it would be: the collection itself still takes "..".
        await _engine.Find("old").UpsertAsync([new DocumentInput { Id = "..", Vector = [1, 2] }, new DocumentInput { Id = "back\\slash", Vector = [2, 1] }], CancellationToken.None);

        Assert.Equal("..", _engine.GetDocument("old", "..").Id);
        Assert.Equal(2, (await _engine.GetDocumentsAsync("old", ["..", "back\\slash"])).Count);
        Assert.Equal(2, _engine.ListDocuments("old").Documents.Count);
        await _engine.DeleteDocumentAsync("old", "..");
        await _engine.DeleteDocumentAsync("old", "back\\slash");
        Assert.Equal(0, _engine.Count("old"));
    }

    [Theory]
    [InlineData("""{"k":"\ud800"}""", "metadata.k")]
    [InlineData("""{"k":"x\udc00y"}""", "metadata.k")]
    [InlineData("""{"k":["ok","\ud800"]}""", "metadata.k[1]")]
    [InlineData("""{"\ud800":"v"}""", "metadata")]
    public void Lone_surrogates_in_json_metadata_are_invalid_arguments(string json, string field)
    {
        using var document = JsonDocument.Parse(json);
        var ex = Assert.Throws<VectorStoreException>(() => Metadata.FromJson(document.RootElement, "metadata"));
        AssertInvalid(ex, field);
    }

    [Fact]
    public async Task Lone_surrogates_in_text_and_metadata_objects_are_refused_on_upsert_and_query()
    {
        await _engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "texts" });
        var ex = await Assert.ThrowsAsync<VectorStoreException>(() => _engine.UpsertAsync("texts", [new DocumentInput { Text = "bad \ud800 text" }]));
        AssertInvalid(ex, "documents[0].text");
        ex = await Assert.ThrowsAsync<VectorStoreException>(() => _engine.UpsertAsync("texts",
            [new DocumentInput { Text = "fine", Metadata = new Dictionary<string, MetadataValue> { ["k"] = MetadataValue.Of("\udfff") } }]));
        AssertInvalid(ex, "documents[0].metadata.k");
        ex = await Assert.ThrowsAsync<VectorStoreException>(() => _engine.QueryAsync("texts", new QueryRequest { Text = "\ud83d" }));
        AssertInvalid(ex, "text");
        ex = await Assert.ThrowsAsync<VectorStoreException>(() => _engine.EmbedAsync(["ok", "\ud83d"]));
        AssertInvalid(ex, "texts[1]");
        Assert.Equal(0, _engine.Count("texts"));
        // A well-formed pair is fine.
        await _engine.UpsertAsync("texts", [new DocumentInput { Text = "emoji 😀 text" }]);
        Assert.Equal(1, _engine.Count("texts"));
    }

    [Fact]
    public async Task Hnsw_is_the_one_default_index()
    {
        var info = await _engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "plain", Dimension = 3, Encoder = "none" });
        Assert.Equal(IndexKinds.Hnsw, info.Settings.Index);
        Assert.Equal(CollectionDefaults.Index, info.Settings.Index);
        Assert.Equal(CollectionDefaults.Index, new CollectionSettings { Name = "x", Dimension = 3 }.Index);
    }
}
