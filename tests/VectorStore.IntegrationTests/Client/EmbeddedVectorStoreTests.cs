using VectorStoreDb.Client;
using VectorStoreDb.Client.Embedded;
using VectorStoreDb.Engine;

namespace VectorStoreDb.IntegrationTests.Client;

/// <summary>What only the embedded store does: durable local folders, engine access, error translation.</summary>
public sealed class EmbeddedVectorStoreTests : IDisposable
{
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task Data_survives_closing_and_reopening_the_folder()
    {
        using (var store = EmbeddedVectorStore.Open(_folder.Path))
        {
            await store.CreateCollectionAsync("notes", new CollectionOptions { Metric = DistanceMetric.Dot });
            await store.UpsertAsync("notes",
            [
                new DocumentWrite { Id = "a", Text = "remember the milk", Metadata = new Dictionary<string, object?> { ["done"] = false } },
                new DocumentWrite { Id = "b", Text = "call the plumber" },
            ]);
            await store.DeleteDocumentAsync("notes", "b");
        }

        using var reopened = EmbeddedVectorStore.Open(_folder.Path);
        var collection = await reopened.GetCollectionAsync("notes");
        Assert.Equal(DistanceMetric.Dot, collection.Metric);
        Assert.Equal(1, collection.DocumentCount);
        var document = await reopened.GetDocumentAsync("notes", "a");
        Assert.Equal("remember the milk", document.Text);
        Assert.Equal(false, document.Metadata["done"]);
        Assert.Equal("a", (await reopened.QueryAsync("notes", new SearchQuery { Text = "milk", K = 5 })).Single().Id);
    }

    [Fact]
    public async Task Limits_configured_on_open_are_enforced_as_LimitExceeded()
    {
        using var store = EmbeddedVectorStore.Open(_folder.Path, o => o.Limits.MaxBatchSize = 2);
        await store.CreateCollectionAsync("small");

        var error = await Assert.ThrowsAsync<VectorStoreClientException>(() => store.UpsertAsync("small",
            [new DocumentWrite { Text = "one" }, new DocumentWrite { Text = "two" }, new DocumentWrite { Text = "three" }]));

        Assert.Equal(VectorStoreErrorCode.LimitExceeded, error.Code);
        Assert.Equal("documents", error.Field);
        Assert.Equal(0, await store.CountAsync("small"));
    }

    [Fact]
    public async Task Wrapping_a_shared_engine_leaves_it_open()
    {
        using var engine = VectorStoreEngine.Open(_folder.Path);
        using (var store = new EmbeddedVectorStore(engine))
        {
            await store.CreateCollectionAsync("shared");
        }

        Assert.Equal("shared", Assert.Single(engine.ListCollections()).Settings.Name);
    }

    [Theory]
    [InlineData(ErrorCode.InvalidArgument, VectorStoreErrorCode.InvalidArgument)]
    [InlineData(ErrorCode.NotFound, VectorStoreErrorCode.NotFound)]
    [InlineData(ErrorCode.AlreadyExists, VectorStoreErrorCode.AlreadyExists)]
    [InlineData(ErrorCode.LimitExceeded, VectorStoreErrorCode.LimitExceeded)]
    [InlineData(ErrorCode.FailedPrecondition, VectorStoreErrorCode.FailedPrecondition)]
    [InlineData(ErrorCode.Unavailable, VectorStoreErrorCode.Unavailable)]
    public void Every_engine_error_code_has_its_client_code(ErrorCode engineCode, VectorStoreErrorCode clientCode)
    {
        var translated = EmbeddedVectorStore.ToClientException(new VectorStoreException(engineCode, "field: went wrong", "field"));

        Assert.Equal(clientCode, translated.Code);
        Assert.Equal("field", translated.Field);
        Assert.Equal("field: went wrong", translated.Message);
    }

    [Fact]
    public void Every_engine_error_code_is_mapped()
    {
        foreach (var code in Enum.GetValues<ErrorCode>())
        {
            Assert.NotEqual(VectorStoreErrorCode.Unknown, EmbeddedVectorStore.ToClientException(new VectorStoreException(code, "x")).Code);
        }
    }

    public void Dispose() => _folder.Dispose();
}
