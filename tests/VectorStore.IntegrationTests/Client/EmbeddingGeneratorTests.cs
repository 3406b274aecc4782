using Microsoft.Extensions.AI;
using VectorStoreDb.Client;
using VectorStoreDb.Client.Embedded;
using VectorStoreDb.Embedding;
using VectorStoreDb.Embedding.Onnx;

namespace VectorStoreDb.IntegrationTests.Client;

/// <summary><see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> over both real clients: remote (gRPC to the server) and embedded.</summary>
public class EmbeddingGeneratorTests(OnnxServerFixture server) : IClassFixture<OnnxServerFixture>
{
    private static readonly string[] Texts = ["This is an example sentence", "Each sentence is converted"];

    [ModelFact(OnnxServerFixture.Model)]
    public async Task Remote_client_generator_returns_the_reference_embeddings()
    {
        using var client = new VectorStoreGrpcClient(server.GrpcAddress);
        using var generator = client.AsEmbeddingGenerator("small", 256);
        var embeddings = await generator.GenerateAsync(Texts);
        Assert.Equal(2, embeddings.Count);
        Assert.Equal(-0.043172f, embeddings[0].Vector.Span[0], 1e-4f);
        Assert.Equal(-0.106245f, embeddings[1].Vector.Span[0], 1e-4f);
        Assert.Equal("small", embeddings[0].ModelId);
        var metadata = generator.GetService<EmbeddingGeneratorMetadata>()!;
        Assert.Equal("vectorstore", metadata.ProviderName);
        Assert.Equal(256, metadata.DefaultModelDimensions);
        Assert.Same(client, generator.GetService<IVectorStoreClient>());
    }

    [ModelFact(OnnxServerFixture.Model)]
    public async Task Embedded_client_generator_matches_the_remote_one()
    {
        using var folder = new TempFolder();
        var encoders = EncoderRegistry.CreateDefault();
        EncoderLoader.LoadInto(encoders, new Dictionary<string, EncoderOptions>
        {
            ["small"] = new() { Path = OnnxServerFixture.ModelFolder(OnnxServerFixture.Model), IntraOpThreads = 2 },
        });
        using var _ = encoders;
        using var embedded = EmbeddedVectorStore.Open(folder.Path, encoders: encoders);
        using var remote = new VectorStoreGrpcClient(server.GrpcAddress);
        var local = await embedded.AsEmbeddingGenerator("small").GenerateAsync(Texts);
        var viaServer = await remote.AsEmbeddingGenerator("small").GenerateAsync(Texts);
        for (int i = 0; i < Texts.Length; i++)
        {
            Assert.Equal(viaServer[i].Vector.ToArray(), local[i].Vector.ToArray());
        }
    }

    [Fact]
    public async Task Unknown_model_and_wrong_dimensions_fail_clearly()
    {
        using var folder = new TempFolder();
        using var embedded = EmbeddedVectorStore.Open(folder.Path);
        using var generator = embedded.AsEmbeddingGenerator();
        var ex = await Assert.ThrowsAsync<VectorStoreClientException>(() => generator.GenerateAsync(["x"], new EmbeddingGenerationOptions { ModelId = "nope" }));
        Assert.Equal("encoder", ex.Field);
        await Assert.ThrowsAsync<ArgumentException>(() => generator.GenerateAsync(["x"], new EmbeddingGenerationOptions { Dimensions = 12 }));
        Assert.Empty(await generator.GenerateAsync([]));
        Assert.Equal(new DemoEncoder().Embed("hello"), (await generator.GenerateAsync(["hello"]))[0].Vector.ToArray());
    }
}
