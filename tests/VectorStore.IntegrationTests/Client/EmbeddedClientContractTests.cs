using VectorStoreDb.Client;
using VectorStoreDb.Client.Embedded;

namespace VectorStoreDb.IntegrationTests.Client;

/// <summary>The client contract, run against the embedded store in a temp folder.</summary>
public sealed class EmbeddedClientContractTests : ClientContractTests
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
