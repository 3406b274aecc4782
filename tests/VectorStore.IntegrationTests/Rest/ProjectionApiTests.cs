using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace VectorStoreDb.IntegrationTests.Rest;

/// <summary>Projection options over REST: create, info, refit and the 400s.</summary>
public class ProjectionApiTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Fact]
    public async Task Pca_collection_is_exact_until_refit_then_reports_the_fitted_projection()
    {
        string name = ServerFixture.UniqueName();
        var created = await server.Http.PutAsJsonAsync($"/collections/{name}", new { encoder = "none", dimension = 16, projection = "pca", indexDimension = 6, pcaSampleSize = 500 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var info = await Json(created);
        Assert.Equal("pca", info.GetProperty("projection").GetString());
        Assert.Equal(6, info.GetProperty("indexDimension").GetInt32());
        Assert.True(info.GetProperty("rescore").GetBoolean());
        Assert.False(info.GetProperty("projectionReady").GetBoolean());

        var random = new Random(3);
        var documents = Enumerable.Range(0, 50).Select(i => new { id = $"d{i}", vector = Enumerable.Range(0, 16).Select(_ => (float)random.NextDouble()).ToArray() }).ToArray();
        Assert.Equal(HttpStatusCode.OK, (await server.Http.PostAsJsonAsync($"/collections/{name}/documents", new { documents })).StatusCode);

        var refit = await server.Http.PostAsync($"/collections/{name}/projection/refit", null);
        Assert.Equal(HttpStatusCode.OK, refit.StatusCode);
        var body = await Json(refit);
        Assert.Equal(50, body.GetProperty("sampleSize").GetInt32());
        Assert.True(body.GetProperty("collection").GetProperty("projectionReady").GetBoolean());

        var hits = await Json(await server.Http.PostAsJsonAsync($"/collections/{name}/query", new { vector = documents[7].vector, k = 1 }));
        Assert.Equal("d7", hits.GetProperty("results")[0].GetProperty("id").GetString());
    }

    [Theory]
    [InlineData("""{"encoder":"none","dimension":16,"projection":"random","indexDimension":17}""", "indexDimension")]
    [InlineData("""{"encoder":"none","dimension":16,"projection":"hash"}""", "projection")]
    [InlineData("""{"encoder":"none","dimension":16,"projection":"pca","pcaSampleSize":1}""", "pcaSampleSize")]
    public Task Bad_projection_options_are_400_naming_the_field(string json, string field) => server.AssertCreateRefusedAsync(json, field);

    [Fact]
    public async Task Refit_of_a_collection_without_pca_is_400()
    {
        string name = ServerFixture.UniqueName();
        await server.Http.PutAsJsonAsync($"/collections/{name}", new { encoder = "none", dimension = 4 });
        var response = await server.Http.PostAsync($"/collections/{name}/projection/refit", null);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("projection", (await Json(response)).GetProperty("field").GetString());
    }
}
