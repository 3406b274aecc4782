using VectorStoreDb.Client;
using VectorStoreDb.Client.Embedded;

namespace VectorStoreDb.IntegrationTests.VectorData;

/// <summary>The VectorData connector over the embedded store in a temp folder.</summary>
public sealed class EmbeddedVectorDataTests : VectorDataConformanceTests
{
    private readonly TempFolder _folder = new();

    protected override IVectorStoreClient CreateClient() => EmbeddedVectorStore.Open(_folder.Path);

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            _folder.Dispose();
        }
    }
}

/// <summary>The VectorData connector over the gRPC client against the real server on loopback.</summary>
public sealed class RemoteVectorDataTests(ServerFixture server) : VectorDataConformanceTests, IClassFixture<ServerFixture>
{
    protected override IVectorStoreClient CreateClient() => new VectorStoreGrpcClient(server.GrpcAddress);
}
