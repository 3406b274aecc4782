using VectorStoreDb.Client;

namespace VectorStoreDb.IntegrationTests.Docs;

/// <summary>The README's C# sample against a real server; only the address and where the lines go differ.</summary>
public sealed class ReadmeCsharpSampleTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Readme_csharp_sample_finds_the_recipe()
    {
        var lines = new List<string>();

        using var client = new VectorStoreGrpcClient(server.GrpcAddress);
        await client.CreateCollectionAsync("articles");
        await client.UpsertAsync("articles",
        [
            new DocumentWrite { Id = "a1", Text = "A simple recipe for banana bread", Metadata = new Dictionary<string, object?> { ["kind"] = "recipe" } },
            new DocumentWrite { Id = "a2", Text = "Stock markets fell sharply on Monday", Metadata = new Dictionary<string, object?> { ["kind"] = "news" } },
        ]);
        foreach (SearchHit hit in await client.QueryAsync("articles", new SearchQuery { Text = "how do I bake bread", K = 1, Filter = """{"kind":"recipe"}""" }))
        {
            lines.Add($"{hit.Id} {hit.Score:F3} {hit.Text}");
        }

        Assert.StartsWith("a1 ", Assert.Single(lines), StringComparison.Ordinal);
        string readme = File.ReadAllText(Repository.File("README.md"));
        Assert.Contains("new SearchQuery { Text = \"how do I bake bread\", K = 1, Filter = \"\"\"{\"kind\":\"recipe\"}\"\"\" }", readme, StringComparison.Ordinal);
    }
}
