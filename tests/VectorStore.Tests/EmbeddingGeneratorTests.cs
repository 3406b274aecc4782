using Microsoft.Extensions.AI;
using VectorStore.Client;
using VectorStore.Embedding;
using VectorStore.Engine;

namespace VectorStore.Tests;

public class EmbeddingGeneratorTests
{
    [Fact]
    public async Task Generator_embeds_through_the_client_with_the_chosen_encoder()
    {
        using var temp = new TestData.TempFolder();
        using var engine = VectorStoreEngine.Open(temp.Path);
        using var client = new EngineEmbeddingClient(engine);
        using var generator = client.AsEmbeddingGenerator("demo", DemoEncoder.DefaultDimension);

        var embeddings = await generator.GenerateAsync(["hello world", "vector databases"]);

        Assert.Equal(2, embeddings.Count);
        var direct = new DemoEncoder();
        Assert.Equal(direct.Embed("hello world"), embeddings[0].Vector.ToArray());
        Assert.Equal(direct.Embed("vector databases"), embeddings[1].Vector.ToArray());
        Assert.Equal("demo", embeddings[0].ModelId);
        var metadata = generator.GetService<EmbeddingGeneratorMetadata>();
        Assert.Equal("vectorstore", metadata!.ProviderName);
        Assert.Equal(256, metadata.DefaultModelDimensions);
        Assert.Same(client, generator.GetService<IVectorStoreClient>());
    }

    [Fact]
    public async Task Unknown_model_and_wrong_dimensions_fail_clearly()
    {
        using var temp = new TestData.TempFolder();
        using var engine = VectorStoreEngine.Open(temp.Path);
        using var client = new EngineEmbeddingClient(engine);
        using var generator = client.AsEmbeddingGenerator();
        var ex = await Assert.ThrowsAsync<VectorStoreException>(() => generator.GenerateAsync(["x"], new EmbeddingGenerationOptions { ModelId = "nope" }));
        Assert.Equal("encoder", ex.Field);
        await Assert.ThrowsAsync<ArgumentException>(() => generator.GenerateAsync(["x"], new EmbeddingGenerationOptions { Dimensions = 12 }));
        Assert.Empty(await generator.GenerateAsync([]));
    }

    /// <summary>
    /// The embedding half of a client over the real engine (the embedded client lives on another branch; once merged,
    /// these tests should use <c>EmbeddedVectorStore</c> instead). Collection calls are not needed by the generator.
    /// </summary>
    private sealed class EngineEmbeddingClient(VectorStoreEngine engine) : IVectorStoreClient
    {
        public async Task<IReadOnlyList<float[]>> EmbedAsync(IReadOnlyList<string> texts, string? encoder = null, CancellationToken cancellationToken = default) =>
            await engine.EmbedAsync(texts, encoder, cancellationToken);

        public Task<IReadOnlyList<ModelDescription>> ListModelsAsync(CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<ModelDescription>>([.. engine.Encoders.List().Select(e => new ModelDescription(e.Name, e.Dimension, e.MaxTokens, e.Kind))]);

        public Task<CollectionDescription> CreateCollectionAsync(string name, CollectionOptions? options = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IReadOnlyList<CollectionDescription>> ListCollectionsAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<CollectionDescription> GetCollectionAsync(string name, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task DeleteCollectionAsync(string name, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IReadOnlyList<string>> UpsertAsync(string collection, IEnumerable<DocumentWrite> documents, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<VectorDocument> GetDocumentAsync(string collection, string id, bool includeVector = false, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task DeleteDocumentAsync(string collection, string id, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<long> CountAsync(string collection, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IReadOnlyList<SearchHit>> QueryAsync(string collection, SearchQuery query, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public void Dispose()
        {
        }
    }
}
