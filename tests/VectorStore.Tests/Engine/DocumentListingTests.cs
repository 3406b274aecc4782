using VectorStoreDb.Engine;

namespace VectorStoreDb.Tests.Engine;

public sealed class DocumentListingTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "vectorstore-listing", Guid.NewGuid().ToString("N"));
    private readonly VectorStoreEngine _engine;

    public DocumentListingTests() => _engine = VectorStoreEngine.Open(_path);

    public void Dispose()
    {
        _engine.Dispose();
        Directory.Delete(_path, recursive: true);
    }

    private async Task<string> CollectionAsync(int documents, int shards)
    {
        string name = $"c{Guid.NewGuid():N}";
        await _engine.CreateCollectionAsync(new CreateCollectionRequest { Name = name, Dimension = 2, Shards = shards, Index = "exact" });
        // Ids inserted out of order, and spread over the shards by hash.
        var ids = Enumerable.Range(0, documents).Select(i => $"d{(i * 37) % documents:D3}").ToArray();
        await _engine.UpsertAsync(name, [.. ids.Select((id, i) => new DocumentInput { Id = id, Text = $"text {id}", Vector = [i, 1] })]);
        return name;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public async Task Pages_cover_every_document_once_in_ordinal_id_order(int shards)
    {
        string name = await CollectionAsync(101, shards);
        var seen = new List<string>();
        for (int offset = 0; ; offset += 10)
        {
            var page = _engine.ListDocuments(name, offset, 10);
            Assert.Equal(101, page.Total);
            Assert.Equal(offset, page.Offset);
            if (page.Documents.Count == 0)
            {
                break;
            }
            Assert.True(page.Documents.Count <= 10);
            Assert.All(page.Documents, d => Assert.Null(d.Vector));
            Assert.All(page.Documents, d => Assert.Equal($"text {d.Id}", d.Text));
            seen.AddRange(page.Documents.Select(d => d.Id));
        }
        Assert.Equal(Enumerable.Range(0, 101).Select(i => $"d{i:D3}"), seen);
    }

    [Fact]
    public async Task The_sorted_ids_follow_writes_after_the_first_listing_and_a_reopen()
    {
        string name = await CollectionAsync(50, 3);
        Assert.Equal(50, AllIds(name).Count); // builds each shard's sorted ids
        // Writes after the build: new ids, a replaced id (the set does not change), deletes, a deleted id added back.
        await _engine.UpsertAsync(name, [.. Enumerable.Range(0, 20).Select(i => new DocumentInput { Id = $"e{i:D2}", Vector = [i, 2] })]);
        await _engine.UpsertAsync(name, [new DocumentInput { Id = "d010", Vector = [9, 9] }]);
        for (int i = 0; i < 50; i += 5)
        {
            await _engine.DeleteDocumentAsync(name, $"d{i:D3}");
        }
        await _engine.UpsertAsync(name, [new DocumentInput { Id = "d005", Vector = [5, 5] }]);
        var expected = Enumerable.Range(0, 50).Where(i => i % 5 != 0 || i == 5).Select(i => $"d{i:D3}")
            .Concat(Enumerable.Range(0, 20).Select(i => $"e{i:D2}")).ToList();
        Assert.Equal(expected, AllIds(name));

        _engine.Dispose();
        using var reopened = VectorStoreEngine.Open(_path);
        Assert.Equal(expected, AllIds(name, reopened));
    }

    /// <summary>Every id, following the cursor in pages of 7.</summary>
    private List<string> AllIds(string name, VectorStoreEngine? engine = null)
    {
        var ids = new List<string>();
        for (string? after = null; ;)
        {
            var page = (engine ?? _engine).ListDocuments(name, limit: 7, after: after);
            ids.AddRange(page.Documents.Select(d => d.Id));
            if ((after = page.NextAfter) is null)
            {
                return ids;
            }
        }
    }

    [Fact]
    public async Task Deleted_documents_disappear_and_an_offset_past_the_end_is_empty()
    {
        string name = await CollectionAsync(5, 2);
        await _engine.DeleteDocumentAsync(name, "d002");
        var page = _engine.ListDocuments(name, 0, 50);
        Assert.Equal(["d000", "d001", "d003", "d004"], page.Documents.Select(d => d.Id));
        Assert.Equal(4, page.Total);
        var past = _engine.ListDocuments(name, 10, 50);
        Assert.Empty(past.Documents);
        Assert.Equal(4, past.Total);
    }

    [Theory]
    [InlineData(1, 10)]
    [InlineData(4, 7)]
    [InlineData(3, 1000)]
    public async Task Cursor_pages_cover_every_document_once_and_the_last_page_has_no_cursor(int shards, int limit)
    {
        string name = await CollectionAsync(101, shards);
        var seen = new List<string>();
        string? after = null;
        int pages = 0;
        do
        {
            var page = _engine.ListDocuments(name, 0, limit, after, includeVectors: true);
            Assert.Equal(101, page.Total);
            Assert.Equal(after, page.After);
            Assert.InRange(page.Documents.Count, 1, limit);
            Assert.All(page.Documents, d => Assert.Equal(2, d.Vector!.Length));
            Assert.All(page.Documents, d => Assert.True(after is null || string.CompareOrdinal(d.Id, after) > 0));
            seen.AddRange(page.Documents.Select(d => d.Id));
            after = page.NextAfter;
            if (after is not null)
            {
                Assert.Equal(page.Documents[^1].Id, after);
            }
            pages++;
        }
        while (after is not null);
        Assert.Equal((101 + limit - 1) / limit, pages);
        Assert.Equal(Enumerable.Range(0, 101).Select(i => $"d{i:D3}"), seen);
    }

    [Fact]
    public async Task A_cursor_survives_writes_between_pages()
    {
        string name = await CollectionAsync(10, 2);
        var first = _engine.ListDocuments(name, 0, 4);
        Assert.Equal("d003", first.NextAfter);
        // An id before the cursor and one after it appear; one ahead is deleted: the scan sees only what lies ahead.
        await _engine.UpsertAsync(name, [new DocumentInput { Id = "d001a", Vector = [1, 1] }, new DocumentInput { Id = "d005a", Vector = [1, 1] }]);
        await _engine.DeleteDocumentAsync(name, "d004");
        var rest = _engine.ListDocuments(name, 0, 100, first.NextAfter);
        Assert.Equal(["d005", "d005a", "d006", "d007", "d008", "d009"], rest.Documents.Select(d => d.Id));
        Assert.Null(rest.NextAfter);
        Assert.Null(rest.Documents[0].Vector);
        // A cursor past the last id is an empty last page.
        var end = _engine.ListDocuments(name, 0, 10, "zzz");
        Assert.Empty(end.Documents);
        Assert.Null(end.NextAfter);
    }

    [Theory]
    [InlineData(-1, 10, "offset")]
    [InlineData(0, 0, "limit")]
    [InlineData(0, 1001, "limit")]
    public async Task Bad_paging_is_refused_with_the_field(int offset, int limit, string field)
    {
        string name = await CollectionAsync(3, 1);
        var e = Assert.Throws<VectorStoreException>(() => _engine.ListDocuments(name, offset, limit));
        Assert.Equal(ErrorCode.InvalidArgument, e.Code);
        Assert.Equal(field, e.Field);
    }

    [Fact]
    public void Unknown_collection_is_not_found()
    {
        var e = Assert.Throws<VectorStoreException>(() => _engine.ListDocuments("missing", 0, 10));
        Assert.Equal(ErrorCode.NotFound, e.Code);
    }
}
