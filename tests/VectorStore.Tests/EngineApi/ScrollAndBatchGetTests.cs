using System.Text.Json;
using VectorStoreDb.Engine;
using VectorStoreDb.Engine.Filtering;

namespace VectorStoreDb.Tests.EngineApi;

/// <summary>Batch get and filtered scroll (id order and metadata order) across shards, with writes going on.</summary>
public sealed class ScrollAndBatchGetTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "vectorstore-scroll", Guid.NewGuid().ToString("N"));
    private readonly VectorStoreEngine _engine;

    public ScrollAndBatchGetTests() => _engine = VectorStoreEngine.Open(_path);

    public void Dispose()
    {
        _engine.Dispose();
        Directory.Delete(_path, recursive: true);
    }

    private static MetadataFilter Filter(string json) => MetadataFilter.Parse(JsonDocument.Parse(json).RootElement);

    /// <summary>Documents d000..d{n-1}: "group" is i % 3, "rank" a permuted number (missing on every 7th), "name" a string.</summary>
    private async Task<string> CollectionAsync(int documents, int shards)
    {
        string name = $"c{Guid.NewGuid():N}"[..20];
        await _engine.CreateCollectionAsync(new CreateCollectionRequest { Name = name, Dimension = 2, Encoder = "none", Metric = "l2", Shards = shards });
        for (int start = 0; start < documents; start += 500)
        {
            await _engine.UpsertAsync(name, [.. Enumerable.Range(start, Math.Min(500, documents - start)).Select(i => Input(i))]);
        }
        return name;
    }

    private static DocumentInput Input(int i)
    {
        var metadata = new Dictionary<string, MetadataValue>
        {
            ["group"] = MetadataValue.Of(i % 3),
            ["name"] = MetadataValue.Of($"n{(i * 7919) % 1000:D3}"),
        };
        if (i % 7 != 0)
        {
            // Duplicated values (i / 2) make the id tie-break matter.
            metadata["rank"] = MetadataValue.Of((i * 31 % 97) / 2);
        }
        return new DocumentInput { Id = $"d{i:D4}", Vector = [i, 1], Metadata = metadata };
    }

    private async Task<List<Document>> ScrollAllAsync(string collection, ScrollRequest request, Action<int>? betweenPages = null)
    {
        var all = new List<Document>();
        string? after = null;
        for (int page = 0; ; page++)
        {
            var result = await _engine.ScrollAsync(collection, request with { After = after });
            Assert.True(result.Documents.Count <= request.Limit);
            all.AddRange(result.Documents);
            if (result.Next is null)
            {
                return all;
            }
            Assert.NotEmpty(result.Documents);
            after = result.Next;
            betweenPages?.Invoke(page);
            Assert.True(page < 10_000, "the scroll does not end");
        }
    }

    [Theory]
    [InlineData(1, 7)]
    [InlineData(4, 7)]
    [InlineData(4, 1000)]
    [InlineData(3, 1)]
    public async Task Id_order_scroll_sees_every_matching_document_once_in_order(int shards, int limit)
    {
        string name = await CollectionAsync(700, shards);
        var all = await ScrollAllAsync(name, new ScrollRequest { Limit = limit });
        Assert.Equal(Enumerable.Range(0, 700).Select(i => $"d{i:D4}"), all.Select(d => d.Id));

        var group1 = await ScrollAllAsync(name, new ScrollRequest { Limit = limit, Filter = Filter("""{"group":1}""") });
        Assert.Equal(Enumerable.Range(0, 700).Where(i => i % 3 == 1).Select(i => $"d{i:D4}"), group1.Select(d => d.Id));
        Assert.All(group1, d => Assert.Null(d.Vector));

        var none = await _engine.ScrollAsync(name, new ScrollRequest { Filter = Filter("""{"group":9}""") });
        Assert.Empty(none.Documents);
        Assert.Null(none.Next);
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(4, false)]
    [InlineData(4, true)]
    public async Task Field_order_scroll_sorts_by_value_then_id_with_missing_values_last(int shards, bool descending)
    {
        string name = await CollectionAsync(600, shards);
        var request = new ScrollRequest { Limit = 13, OrderBy = new ScrollOrder("rank", descending), Filter = Filter("""{"group":{"$in":[0,2]}}"""), IncludeVectors = true };
        var all = await ScrollAllAsync(name, request);

        var matching = Enumerable.Range(0, 600).Where(i => i % 3 != 1).ToList();
        var withRank = matching.Where(i => i % 7 != 0).Select(i => (Id: $"d{i:D4}", Rank: (i * 31 % 97) / 2));
        var ordered = (descending ? withRank.OrderByDescending(x => x.Rank) : withRank.OrderBy(x => x.Rank)).ThenBy(x => x.Id, StringComparer.Ordinal).Select(x => x.Id)
            .Concat(matching.Where(i => i % 7 == 0).Select(i => $"d{i:D4}"));
        Assert.Equal(ordered, all.Select(d => d.Id));
        Assert.All(all, d => Assert.NotNull(d.Vector));
    }

    [Fact]
    public async Task String_order_and_a_cursor_of_another_order_is_refused()
    {
        string name = await CollectionAsync(50, 2);
        var byName = await ScrollAllAsync(name, new ScrollRequest { Limit = 4, OrderBy = new ScrollOrder("name") });
        Assert.Equal(byName.Select(d => d.Metadata["name"].String).Order(StringComparer.Ordinal), byName.Select(d => d.Metadata["name"].String));

        var first = await _engine.ScrollAsync(name, new ScrollRequest { Limit = 4, OrderBy = new ScrollOrder("name") });
        var ex = await Assert.ThrowsAsync<VectorStoreException>(() => _engine.ScrollAsync(name, new ScrollRequest { Limit = 4, After = first.Next }));
        Assert.Equal("after", ex.Field);
        ex = await Assert.ThrowsAsync<VectorStoreException>(() => _engine.ScrollAsync(name, new ScrollRequest { Limit = 4, OrderBy = new ScrollOrder("name", Descending: true), After = first.Next }));
        Assert.Equal("after", ex.Field);
        ex = await Assert.ThrowsAsync<VectorStoreException>(() => _engine.ScrollAsync(name, new ScrollRequest { After = "not a cursor!" }));
        Assert.Equal(ErrorCode.InvalidArgument, ex.Code);
        ex = await Assert.ThrowsAsync<VectorStoreException>(() => _engine.ScrollAsync(name, new ScrollRequest { Limit = 0 }));
        Assert.Equal("limit", ex.Field);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Scroll_tolerates_concurrent_writes_and_returns_every_unchanged_document_once(bool ordered)
    {
        string name = await CollectionAsync(900, 4);
        int next = 10_000;
        using var stop = new CancellationTokenSource();
        // Writers add new documents and delete ones the scroll is not asked to see (group 1) while the scroll runs.
        var writer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                int i = Interlocked.Increment(ref next);
                await _engine.UpsertAsync(name, [Input(i)]);
                if (i % 2 == 0)
                {
                    try
                    {
                        await _engine.DeleteDocumentAsync(name, $"d{(i % 300) * 3 + 1:D4}");
                    }
                    catch (VectorStoreException ex) when (ex.Code == ErrorCode.NotFound)
                    {
                        // Deleted by an earlier round.
                    }
                }
            }
        });
        var request = new ScrollRequest { Limit = 25, Filter = Filter("""{"group":{"$ne":1}}"""), OrderBy = ordered ? new ScrollOrder("rank") : null };
        var all = await ScrollAllAsync(name, request, _ => Thread.Sleep(1));
        await stop.CancelAsync();
        await writer;

        var ids = all.Select(d => d.Id).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        var original = Enumerable.Range(0, 900).Where(i => i % 3 != 1).Select(i => $"d{i:D4}");
        Assert.Empty(original.Except(ids));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public async Task Batch_get_returns_found_documents_in_request_order(int shards)
    {
        string name = await CollectionAsync(100, shards);
        var found = await _engine.GetDocumentsAsync(name, ["d0042", "missing", "d0007", "d0099", "d0007"], includeVectors: true);
        Assert.Equal(["d0042", "d0007", "d0099", "d0007"], found.Select(d => d.Id));
        Assert.Equal([42f, 1f], found[0].Vector!);
        Assert.Empty(await _engine.GetDocumentsAsync(name, []));

        var tooMany = Enumerable.Range(0, _engine.Options.Limits.MaxBatchSize + 1).Select(i => $"d{i}").ToList();
        var ex = await Assert.ThrowsAsync<VectorStoreException>(() => _engine.GetDocumentsAsync(name, tooMany));
        Assert.Equal(ErrorCode.LimitExceeded, ex.Code);
        var missing = await Assert.ThrowsAsync<VectorStoreException>(() => _engine.GetDocumentsAsync("nope", ["a"]));
        Assert.Equal(ErrorCode.NotFound, missing.Code);
    }
}
