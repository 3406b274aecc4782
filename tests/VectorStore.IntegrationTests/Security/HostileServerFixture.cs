namespace VectorStoreDb.IntegrationTests.Security;

/// <summary>A server with a 1 MiB request limit, so oversize bodies can be tried without sending huge payloads.</summary>
public sealed class HostileServerFixture : ServerFixture
{
    protected override IEnumerable<string> ExtraArguments => ["--VectorStore:Limits:MaxRequestBytes=1048576"];
}
