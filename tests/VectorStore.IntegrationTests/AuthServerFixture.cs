namespace VectorStoreDb.IntegrationTests;

/// <summary>The real server with one admin and one read API key.</summary>
public sealed class AuthServerFixture : ServerFixture
{
    public const string AdminKey = "admin-s3cret";
    public const string ReadKey = "read-s3cret";

    protected override IEnumerable<string> ExtraArguments =>
    [
        $"--VectorStore:Auth:ApiKeys:0:Key={AdminKey}", "--VectorStore:Auth:ApiKeys:0:Role=admin",
        $"--VectorStore:Auth:ApiKeys:1:Key={ReadKey}", "--VectorStore:Auth:ApiKeys:1:Role=read",
    ];
}
