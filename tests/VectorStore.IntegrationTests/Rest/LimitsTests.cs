using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace VectorStoreDb.IntegrationTests.Rest;

/// <summary>A server with every documented maximum set small, so each can be crossed cheaply.</summary>
public sealed class TinyLimitsServerFixture : ServerFixture
{
    protected override IEnumerable<string> ExtraArguments =>
    [
        "--VectorStore:Limits:MaxBatchSize=2", "--VectorStore:Limits:MaxTextLength=50", "--VectorStore:Limits:MaxK=5",
        "--VectorStore:Limits:MaxDimension=8", "--VectorStore:Limits:MaxIdLength=10", "--VectorStore:Limits:MaxMetadataBytes=64",
        "--VectorStore:Limits:MaxEmbedBatch=2", "--VectorStore:Limits:MaxCollections=2", "--VectorStore:Limits:MaxQueryBatch=2",
    ];
}

/// <summary>Every LimitsOptions maximum is enforced over REST with a clear error naming the field, and changes nothing.</summary>
public class LimitsTests(TinyLimitsServerFixture server) : IClassFixture<TinyLimitsServerFixture>
{
    private static async Task Refused(HttpResponseMessage response, HttpStatusCode status, string field)
    {
        Assert.Equal(status, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(field, problem.GetProperty("field").GetString());
    }

    [Fact]
    public async Task Each_documented_maximum_is_enforced()
    {
        var http = server.Http;
        Assert.Equal(HttpStatusCode.Created, (await http.PutAsJsonAsync("/collections/lim", new { encoder = "none", dimension = 4 })).StatusCode);
        await Refused(await http.PutAsJsonAsync("/collections/wide", new { encoder = "none", dimension = 9 }), HttpStatusCode.BadRequest, "dimension");

        float[] v = [1, 0, 0, 0];
        await Refused(await http.PostAsJsonAsync("/collections/lim/documents", new { documents = new[] { new { id = "a", vector = v }, new { id = "b", vector = v }, new { id = "c", vector = v } } }),
            HttpStatusCode.RequestEntityTooLarge, "documents");
        await Refused(await http.PostAsJsonAsync("/collections/lim/documents", new { documents = new[] { new { id = "a", text = new string('x', 51), vector = v } } }),
            HttpStatusCode.RequestEntityTooLarge, "documents[0].text");
        await Refused(await http.PostAsJsonAsync("/collections/lim/documents", new { documents = new[] { new { id = "elevenchars", vector = v } } }),
            HttpStatusCode.BadRequest, "documents[0].id");
        await Refused(await http.PostAsJsonAsync("/collections/lim/documents", new { documents = new[] { new { id = "a", vector = v, metadata = new { note = new string('m', 80) } } } }),
            HttpStatusCode.RequestEntityTooLarge, "documents[0].metadata");
        Assert.Equal(0, (await http.GetFromJsonAsync<JsonElement>("/collections/lim/count")).GetProperty("count").GetInt64());

        await Refused(await http.PostAsJsonAsync("/collections/lim/query", new { vector = v, k = 6 }), HttpStatusCode.BadRequest, "k");
        await Refused(await http.PostAsJsonAsync("/collections/lim/query/batch", new { queries = new[] { new { vector = v, k = 1 }, new { vector = v, k = 1 }, new { vector = v, k = 1 } } }),
            HttpStatusCode.RequestEntityTooLarge, "queries");
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsJsonAsync("/collections/lim/query/batch", new { queries = new[] { new { vector = v, k = 1 }, new { vector = v, k = 1 } } })).StatusCode);
        await Refused(await http.PostAsJsonAsync("/embed", new { texts = new[] { "a", "b", "c" } }), HttpStatusCode.RequestEntityTooLarge, "texts");

        Assert.Equal(HttpStatusCode.Created, (await http.PutAsJsonAsync("/collections/lim2", new { encoder = "none", dimension = 4 })).StatusCode);
        var third = await http.PutAsJsonAsync("/collections/lim3", new { encoder = "none", dimension = 4 });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, third.StatusCode);
        Assert.Equal(2, (await http.GetFromJsonAsync<JsonElement>("/collections")).GetProperty("collections").GetArrayLength());
    }
}
