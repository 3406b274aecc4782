using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using VectorStoreDb.Client;
using VectorStoreDb.Client.Embedded;
using VectorStoreDb.Embedding;
using VectorStoreDb.Embedding.Onnx;
using ClientInputType = VectorStoreDb.Client.EmbeddingInputType;
using V1 = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.IntegrationTests.Encoders;

/// <summary>
/// The real server as a user starts it: no encoder configured, the built-in models preloaded (and test-run) at
/// start-up, <c>minilm</c> the default for new text collections.
/// </summary>
public sealed class BuiltInServerFixture : ServerFixture
{
    protected override IEnumerable<string> ExtraArguments =>
        ["--VectorStore:DefaultEncoder=", "--VectorStore:BuiltInEncoders:Preload=true", "--VectorStore:BuiltInEncoders:Runtime:IntraOpThreads=2"];
}

public partial class BuiltInEncoderServerTests(BuiltInServerFixture server) : IClassFixture<BuiltInServerFixture>
{
    private const string Arctic = "arctic-xs";
    private const string Question = "what do vector databases store";
    private const string Passage = "A vector database stores embeddings of documents and finds the nearest ones to a query embedding.";

    private HttpClient Http => server.Http;

    private static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    private async Task<float[]> RestEmbed(string text, string? inputType, string encoder = Arctic)
    {
        var response = await Http.PostAsJsonAsync("/embed", inputType is null ? new { texts = new[] { text }, encoder } : (object)new { texts = new[] { text }, encoder, inputType });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await Json(response)).GetProperty("embeddings")[0].EnumerateArray().Select(e => e.GetSingle())];
    }

    private static float Dot(float[] a, float[] b) => a.Zip(b, (x, y) => x * y).Sum();

    [Fact]
    public async Task Models_lists_the_built_ins_and_new_text_collections_default_to_minilm()
    {
        var list = await Json(await Http.GetAsync("/models"));
        Assert.Equal("minilm", list.GetProperty("defaultEncoder").GetString());
        var models = list.GetProperty("models").EnumerateArray().ToList();
        Assert.Contains(models, m => m.GetProperty("name").GetString() == "minilm" && m.GetProperty("kind").GetString() == "builtin"
            && m.GetProperty("dimension").GetInt32() == 384 && m.GetProperty("maxTokens").GetInt32() == 256);
        Assert.Contains(models, m => m.GetProperty("name").GetString() == Arctic && m.GetProperty("maxTokens").GetInt32() == 512);
        Assert.Contains(models, m => m.GetProperty("name").GetString() == "demo");

        string plain = ServerFixture.UniqueName("default");
        (await Http.PutAsJsonAsync($"/collections/{plain}", new { })).EnsureSuccessStatusCode();
        var info = await Json(await Http.GetAsync($"/collections/{plain}"));
        Assert.Equal("minilm", info.GetProperty("encoder").GetString());
        Assert.Equal(384, info.GetProperty("dimension").GetInt32());

        string demo = ServerFixture.UniqueName("demo");
        await server.CreateDemoCollectionAsync(demo);
        Assert.Equal("demo", (await Json(await Http.GetAsync($"/collections/{demo}"))).GetProperty("encoder").GetString());

        var embedded = await Json(await Http.PostAsJsonAsync("/embed", new { texts = new[] { "hello" } }));
        Assert.Equal("minilm", embedded.GetProperty("encoder").GetString());
    }

    [Fact]
    public async Task Rest_embed_takes_input_type_and_refuses_an_unknown_one()
    {
        var query = await RestEmbed(Question, "query");
        var document = await RestEmbed(Question, "document");
        Assert.Equal(document, await RestEmbed(Question, null));
        Assert.Equal(query, await RestEmbed(BuiltInEncoders.ArcticQueryPrefix + Question, "document"));
        Assert.True(Dot(query, document) < 0.99f);
        // A symmetric model gives both forms alike.
        Assert.Equal(await RestEmbed(Question, "document", "minilm"), await RestEmbed(Question, "query", "minilm"));

        var refused = await Http.PostAsJsonAsync("/embed", new { texts = new[] { "x" }, encoder = Arctic, inputType = "passage" });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("inputType", (await Json(refused)).GetProperty("field").GetString());
    }

    [Fact]
    public async Task OpenAi_embeddings_take_input_type()
    {
        var query = await RestEmbed(Question, "query");
        var response = await Http.PostAsJsonAsync("/v1/embeddings", new { model = Arctic, input = Question, input_type = "query" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var vector = (await Json(response)).GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        Assert.Equal(query, vector);
        var plain = await Http.PostAsJsonAsync("/v1/embeddings", new { model = Arctic, input = Question });
        Assert.Equal(await RestEmbed(Question, "document"), (await Json(plain)).GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray());
        Assert.Equal(HttpStatusCode.BadRequest, (await Http.PostAsJsonAsync("/v1/embeddings", new { model = Arctic, input = "x", input_type = "search" })).StatusCode);
    }

    [Fact]
    public async Task Grpc_embed_and_both_sdk_clients_take_input_type()
    {
        var query = await RestEmbed(Question, "query");
        var document = await RestEmbed(Question, "document");

        var grpc = new V1.Embeddings.EmbeddingsClient(server.Channel);
        var asQuery = await grpc.EmbedAsync(new V1.EmbedRequest { Texts = { Question }, Encoder = Arctic, InputType = V1.EmbeddingInputType.Query });
        Assert.Equal(query, asQuery.Embeddings[0].Values.ToArray());
        var unspecified = await grpc.EmbedAsync(new V1.EmbedRequest { Texts = { Question }, Encoder = Arctic });
        Assert.Equal(document, unspecified.Embeddings[0].Values.ToArray());

        using var remote = new VectorStoreGrpcClient(server.GrpcAddress);
        Assert.Equal(query, (await remote.EmbedAsync([Question], Arctic, ClientInputType.Query))[0]);
        Assert.Equal(document, (await remote.EmbedAsync([Question], Arctic))[0]);

        using var folder = new TempFolder();
        using var encoders = EncoderRegistry.CreateDefault();
        BuiltInEncoders.AddTo(encoders, new BuiltInEncoderOptions { Preload = false, Runtime = new EncoderOptions { IntraOpThreads = 2 } });
        using var embedded = EmbeddedVectorStore.Open(folder.Path, encoders: encoders);
        var local = (await embedded.EmbedAsync([Question], Arctic, ClientInputType.Query))[0];
        var localDocument = (await embedded.EmbedAsync([Question], Arctic, ClientInputType.Document))[0];
        for (int d = 0; d < query.Length; d++)
        {
            // Another session in another host: the same graph, so the same vector up to thread scheduling of sums.
            Assert.Equal(query[d], local[d], 1e-5f);
            Assert.Equal(document[d], localDocument[d], 1e-5f);
        }
    }

    [Fact]
    public async Task Query_hybrid_and_batch_embed_the_query_form_and_ingest_the_document_form()
    {
        string name = ServerFixture.UniqueName("prompts");
        (await Http.PutAsJsonAsync($"/collections/{name}", new { encoder = Arctic, text = true, index = "exact" })).EnsureSuccessStatusCode();
        (await Http.PostAsJsonAsync($"/collections/{name}/documents", new { documents = new[] { new { id = "p", text = Passage } } })).EnsureSuccessStatusCode();

        var passage = await RestEmbed(Passage, "document");
        float asQuery = Dot(await RestEmbed(Question, "query"), passage);
        float asDocument = Dot(await RestEmbed(Question, "document"), passage);
        Assert.True(Math.Abs(asQuery - asDocument) > 0.01f, $"the test needs forms that score apart: {asQuery} vs {asDocument}");

        var dense = await Json(await Http.PostAsJsonAsync($"/collections/{name}/query", new { text = Question, k = 1 }));
        Assert.Equal(asQuery, dense.GetProperty("results")[0].GetProperty("score").GetSingle(), 1e-4f);

        var hybrid = await Json(await Http.PostAsJsonAsync($"/collections/{name}/query", new { text = Question, k = 1, mode = "hybrid", explain = true }));
        Assert.Equal(asQuery, hybrid.GetProperty("results")[0].GetProperty("denseScore").GetSingle(), 1e-4f);

        var batch = await Json(await Http.PostAsJsonAsync($"/collections/{name}/query/batch", new { queries = new[] { new { text = Question, k = 1 } } }));
        Assert.Equal(asQuery, batch.GetProperty("results")[0].GetProperty("results")[0].GetProperty("score").GetSingle(), 1e-4f);
    }
}
