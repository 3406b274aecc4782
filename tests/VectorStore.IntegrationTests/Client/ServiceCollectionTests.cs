using Microsoft.Extensions.DependencyInjection;
using VectorStoreDb.Client;
using VectorStoreDb.Client.Embedded;

namespace VectorStoreDb.IntegrationTests.Client;

/// <summary>The DI helpers register one shared client under the interface and the concrete type.</summary>
public sealed class ServiceCollectionTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task AddVectorStoreClient_registers_a_working_shared_grpc_client()
    {
        await using var provider = new ServiceCollection()
            .AddVectorStoreClient(server.GrpcAddress, o => o.Timeout = TimeSpan.FromSeconds(30))
            .BuildServiceProvider();

        var client = provider.GetRequiredService<IVectorStoreClient>();

        Assert.Same(provider.GetRequiredService<VectorStoreGrpcClient>(), client);
        string name = ClientContractTests.NewName();
        await client.CreateCollectionAsync(name);
        Assert.Equal(name, (await client.GetCollectionAsync(name)).Name);
    }

    [Fact]
    public async Task AddEmbeddedVectorStore_opens_the_folder_and_closes_it_with_the_container()
    {
        using var folder = new TempFolder();
        var services = new ServiceCollection().AddLogging().AddEmbeddedVectorStore(folder.Path);
        await using (var provider = services.BuildServiceProvider())
        {
            var client = provider.GetRequiredService<IVectorStoreClient>();
            Assert.Same(provider.GetRequiredService<EmbeddedVectorStore>(), client);
            await client.CreateCollectionAsync("kept");
        }

        // The first container disposed the store, so the folder can be opened again and holds the collection.
        await using var second = services.BuildServiceProvider();
        Assert.Contains(await second.GetRequiredService<IVectorStoreClient>().ListCollectionsAsync(), c => c.Name == "kept");
    }
}
