using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using V1 = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.IntegrationTests.Rest;

/// <summary>Long documents over the wire: chunking options, highlights over REST and gRPC, chunk hits, RAG citations.</summary>
public class ChunkingApiTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const string Needle = "the lighthouse keeper counted seventeen ships";

    private static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    /// <summary>About 80 words of filler, the needle, then more filler: far past a 16-token window.</summary>
    private static string LongText()
    {
        string[] words = ["meadow", "copper", "lantern", "orchard", "violet", "harvest", "pebble", "thunder"];
        string Filler(int n, int seed) => string.Join(' ', Enumerable.Range(0, n).Select(i => words[(i * 7 + seed) % words.Length]));
        return $"{Filler(80, 1)}. {Needle}. {Filler(40, 3)}.";
    }

    private async Task<string> CreateWithLongDocument()
    {
        string name = ServerFixture.UniqueName();
        var created = await server.Http.PutAsJsonAsync($"/collections/{name}", new { chunkTokens = 16, chunkOverlap = 4 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var chunking = (await Json(created)).GetProperty("chunking");
        Assert.Equal(16, chunking.GetProperty("tokens").GetInt32());
        Assert.Equal(4, chunking.GetProperty("overlap").GetInt32());
        var documents = new object[] { new { id = "long", text = LongText() }, new { id = "short", text = "a short note" } };
        Assert.Equal(HttpStatusCode.OK, (await server.Http.PostAsJsonAsync($"/collections/{name}/documents", new { documents })).StatusCode);
        return name;
    }

    [Fact]
    public async Task Rest_query_returns_the_document_with_its_best_chunk_as_highlight()
    {
        string name = await CreateWithLongDocument();
        Assert.Equal(2, (await Json(await server.Http.GetAsync($"/collections/{name}/count"))).GetProperty("count").GetInt64());
        var stored = await Json(await server.Http.GetAsync($"/collections/{name}/documents/long"));
        Assert.Equal(LongText(), stored.GetProperty("text").GetString());
        var layout = stored.GetProperty("chunks");
        Assert.True(layout.GetArrayLength() > 3);
        Assert.Equal(0, layout[0].GetProperty("start").GetInt32());
        Assert.False((await Json(await server.Http.GetAsync($"/collections/{name}/documents/short"))).TryGetProperty("chunks", out _));

        var results = (await Json(await server.Http.PostAsJsonAsync($"/collections/{name}/query", new { text = Needle, k = 2 }))).GetProperty("results");
        Assert.Equal(2, results.GetArrayLength());
        var best = results[0];
        Assert.Equal("long", best.GetProperty("id").GetString());
        var highlight = best.GetProperty("highlight");
        int start = highlight.GetProperty("start").GetInt32();
        int end = highlight.GetProperty("end").GetInt32();
        Assert.Equal(LongText()[start..end], highlight.GetProperty("text").GetString());
        Assert.Contains("lighthouse", highlight.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.True(highlight.GetProperty("chunk").GetInt32() > 0);
        Assert.False(results[1].TryGetProperty("highlight", out _), "a document indexed whole has no highlight");

        var chunks = (await Json(await server.Http.PostAsJsonAsync($"/collections/{name}/query", new { text = Needle, k = 5, chunks = true }))).GetProperty("results");
        Assert.Equal(5, chunks.GetArrayLength());
        Assert.All(chunks.EnumerateArray(), c => Assert.True(c.TryGetProperty("highlight", out _)));
        Assert.True(chunks.EnumerateArray().Count(c => c.GetProperty("id").GetString() == "long") >= 4);
    }

    [Fact]
    public async Task Grpc_query_carries_the_same_highlight_and_chunk_hits()
    {
        string name = await CreateWithLongDocument();
        var search = new V1.Search.SearchClient(server.Channel);
        var response = await search.QueryAsync(new V1.QueryRequest { Collection = name, Text = Needle, K = 2 });
        Assert.Equal("long", response.Results[0].Id);
        Assert.Contains("lighthouse", response.Results[0].Highlight.Text, StringComparison.Ordinal);
        Assert.Null(response.Results[1].Highlight);

        var rest = (await Json(await server.Http.PostAsJsonAsync($"/collections/{name}/query", new { text = Needle, k = 2 }))).GetProperty("results")[0].GetProperty("highlight");
        Assert.Equal(rest.GetProperty("chunk").GetInt32(), response.Results[0].Highlight.Chunk);
        Assert.Equal(rest.GetProperty("start").GetInt32(), response.Results[0].Highlight.Start);

        var chunkHits = await search.QueryAsync(new V1.QueryRequest { Collection = name, Text = Needle, K = 5, Chunks = true });
        Assert.Equal(5, chunkHits.Results.Count);
        Assert.All(chunkHits.Results, r => Assert.NotNull(r.Highlight));

        var info = await new V1.Collections.CollectionsClient(server.Channel).GetAsync(new V1.GetCollectionRequest { Name = name });
        Assert.True(info.Chunking);
        Assert.Equal(16, info.ChunkTokens);
    }

    [Fact]
    public async Task Chat_cites_the_matching_chunk_not_the_whole_document()
    {
        string name = await CreateWithLongDocument();
        var response = await server.Http.PostAsJsonAsync($"/collections/{name}/chat", new { question = "How many ships did the lighthouse keeper count?", k = 3 });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var citation = (await Json(response)).GetProperty("citations")[0];
        Assert.Equal("long", citation.GetProperty("documentId").GetString());
        Assert.True(citation.GetProperty("chunk").GetInt32() > 0);
        string text = citation.GetProperty("text").GetString()!;
        Assert.Contains("lighthouse", text, StringComparison.Ordinal);
        Assert.True(text.Length < LongText().Length / 3, "a citation quotes a chunk");
    }

    [Fact]
    public async Task Chat_on_a_text_mode_collection_cites_the_chunk_with_the_question_terms()
    {
        string name = ServerFixture.UniqueName();
        (await server.Http.PutAsJsonAsync($"/collections/{name}", new { chunkTokens = 16, chunkOverlap = 4, text = true, defaultMode = "text" })).EnsureSuccessStatusCode();
        (await server.Http.PostAsJsonAsync($"/collections/{name}/documents", new { documents = new[] { new { id = "long", text = LongText() } } })).EnsureSuccessStatusCode();
        var response = await server.Http.PostAsJsonAsync($"/collections/{name}/chat", new { question = "lighthouse keeper ships", k = 1 });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var citation = (await Json(response)).GetProperty("citations")[0];
        Assert.True(citation.GetProperty("chunk").GetInt32() > 0);
        Assert.Contains("lighthouse keeper", citation.GetProperty("text").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"chunkTokens":2}""", "chunkTokens")]
    [InlineData("""{"chunkTokens":16,"chunkOverlap":16}""", "chunkOverlap")]
    [InlineData("""{"encoder":"none","dimension":4,"chunking":true}""", "chunking")]
    [InlineData("""{"chunking":false,"chunkTokens":16}""", "chunking")]
    public Task Bad_chunking_options_are_400_naming_the_field(string json, string field) => server.AssertCreateRefusedAsync(json, field);

    [Fact]
    public async Task Deleting_a_chunked_document_removes_every_chunk_from_search()
    {
        string name = await CreateWithLongDocument();
        Assert.Equal(HttpStatusCode.NoContent, (await server.Http.DeleteAsync($"/collections/{name}/documents/long")).StatusCode);
        var chunks = (await Json(await server.Http.PostAsJsonAsync($"/collections/{name}/query", new { text = Needle, k = 50, chunks = true }))).GetProperty("results");
        Assert.Equal(["short"], chunks.EnumerateArray().Select(c => c.GetProperty("id").GetString()));
    }
}
