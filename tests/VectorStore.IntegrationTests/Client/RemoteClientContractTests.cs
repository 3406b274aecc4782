using VectorStoreDb.Client;

namespace VectorStoreDb.IntegrationTests.Client;

/// <summary>The client contract, run through <see cref="VectorStoreGrpcClient"/> against the real server on loopback.</summary>
public sealed class RemoteClientContractTests(ServerFixture server) : ClientContractTests, IClassFixture<ServerFixture>
{
    protected override IVectorStoreClient CreateClient() => new VectorStoreGrpcClient(server.GrpcAddress);
}
