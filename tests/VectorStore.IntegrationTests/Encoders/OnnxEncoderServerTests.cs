using System.Net;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using VectorStoreDb.Embedding.Onnx;
using VectorStoreDb.Server;
using V1 = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.IntegrationTests.Encoders;

public class OnnxEncoderServerTests(OnnxServerFixture server) : IClassFixture<OnnxServerFixture>
{
    private HttpClient Http => server.Http;

    private Task<HttpResponseMessage> PostJson(string path, string json) =>
        Http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    private static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [ModelFact(OnnxServerFixture.Model)]
    public async Task Models_lists_the_configured_encoder_over_rest_and_grpc()
    {
        var models = await Json(await Http.GetAsync("/models"));
        var small = models.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("name").GetString() == "small");
        Assert.Equal(256, small.GetProperty("dimension").GetInt32());
        Assert.Equal(128, small.GetProperty("maxTokens").GetInt32());
        Assert.Equal("onnx", small.GetProperty("kind").GetString());

        var listed = await new V1.Embeddings.EmbeddingsClient(server.Channel).ListModelsAsync(new V1.ListModelsRequest());
        var info = listed.Models.Single(m => m.Name == "small");
        Assert.Equal(256, info.Dimension);
        Assert.Equal(128, info.MaxTokens);
        Assert.Equal("onnx", info.Kind);
        Assert.Contains(listed.Models, m => m.Name == "demo");
    }

    [ModelFact(OnnxServerFixture.Model)]
    public async Task OpenAi_embeddings_returns_the_reference_vector_and_usage()
    {
        var response = await PostJson("/v1/embeddings", """{"model":"small","input":"This is an example sentence"}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await Json(response);
        Assert.Equal("list", body.GetProperty("object").GetString());
        Assert.Equal("small", body.GetProperty("model").GetString());
        var item = Assert.Single(body.GetProperty("data").EnumerateArray());
        Assert.Equal("embedding", item.GetProperty("object").GetString());
        Assert.Equal(0, item.GetProperty("index").GetInt32());
        var vector = item.GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        Assert.Equal(256, vector.Length);
        Assert.Equal(-0.043172f, vector[0], 1e-4f);
        Assert.Equal(0.015874f, vector[1], 1e-4f);
        Assert.Equal(7, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(7, body.GetProperty("usage").GetProperty("total_tokens").GetInt32());
    }

    [ModelFact(OnnxServerFixture.Model)]
    public async Task OpenAi_embeddings_accepts_arrays_and_base64_and_matches_the_embed_endpoint()
    {
        string[] texts = ["text editor for the terminal", "a large wild cat"];
        var floats = await Json(await PostJson("/v1/embeddings", JsonSerializer.Serialize(new { model = "small", input = texts })));
        var b64 = await Json(await PostJson("/v1/embeddings", JsonSerializer.Serialize(new { model = "small", input = texts, encoding_format = "base64" })));
        var native = await Json(await Http.PostAsJsonAsync("/embed", new { texts, encoder = "small" }));
        for (int i = 0; i < texts.Length; i++)
        {
            var a = floats.GetProperty("data")[i].GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            var b = MemoryMarshal.Cast<byte, float>(Convert.FromBase64String(b64.GetProperty("data")[i].GetProperty("embedding").GetString()!)).ToArray();
            var c = native.GetProperty("embeddings")[i].EnumerateArray().Select(e => e.GetSingle()).ToArray();
            Assert.Equal(i, floats.GetProperty("data")[i].GetProperty("index").GetInt32());
            Assert.Equal(a, b);
            Assert.Equal(a, c);
        }
    }

    [ModelFact(OnnxServerFixture.Model)]
    public async Task OpenAi_embeddings_rejects_bad_requests_with_the_field()
    {
        async Task Expect(string json, HttpStatusCode status, string field)
        {
            var response = await PostJson("/v1/embeddings", json);
            Assert.Equal(status, response.StatusCode);
            // OpenAI's error envelope: clients read error.message and error.param.
            var error = (await Json(response)).GetProperty("error");
            Assert.Equal(field, error.GetProperty("param").GetString());
            Assert.Contains(field, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }
        await Expect("""{"model":"nope","input":"x"}""", HttpStatusCode.NotFound, "model");
        await Expect("""{"input":"x"}""", HttpStatusCode.BadRequest, "model");
        await Expect("""{"model":"small"}""", HttpStatusCode.BadRequest, "input");
        await Expect("""{"model":"small","input":[1,2,3]}""", HttpStatusCode.BadRequest, "input[0]");
        await Expect("""{"model":"small","input":"x","encoding_format":"int8"}""", HttpStatusCode.BadRequest, "encoding_format");
        await Expect("""{"model":"small","input":"x","dimensions":64}""", HttpStatusCode.BadRequest, "dimensions");
        await Expect("""{"model":"small","input":[""]}""", HttpStatusCode.BadRequest, "input[0]");
    }

    [ModelFact(OnnxServerFixture.Model)]
    public async Task Collection_with_the_onnx_encoder_ranks_related_text_first()
    {
        string name = ServerFixture.UniqueName("onnx");
        (await Http.PutAsJsonAsync($"/collections/{name}", new { metric = "cosine", encoder = "small" })).EnsureSuccessStatusCode();
        (await Http.PostAsJsonAsync($"/collections/{name}/documents", new
        {
            documents = new object[]
            {
                new { id = "editor", text = "console program to edit plain text files" },
                new { id = "xml", text = "library for parsing XML documents" },
                new { id = "dog", text = "a small dog that barks at strangers" },
                new { id = "zip", text = "utility for creating and extracting zip archives" },
            },
        })).EnsureSuccessStatusCode();
        var hits = await Json(await Http.PostAsJsonAsync($"/collections/{name}/query", new { text = "a tool to compress and decompress files", k = 4 }));
        Assert.Equal("zip", hits.GetProperty("results")[0].GetProperty("id").GetString());
        hits = await Json(await Http.PostAsJsonAsync($"/collections/{name}/query", new { text = "text editor for the terminal", k = 4 }));
        Assert.Equal("editor", hits.GetProperty("results")[0].GetProperty("id").GetString());
    }

    [Fact]
    public async Task Server_refuses_to_start_when_a_model_folder_is_broken()
    {
        string folder = Path.Combine(Path.GetTempPath(), "vectorstore-it", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            File.WriteAllText(Path.Combine(folder, "vocab.txt"), "[PAD]\n[UNK]\n[CLS]\n[SEP]\n");
            var app = VectorStoreServer.Build(
            [
                "--urls", "http://127.0.0.1:0", "--VectorStore:GrpcUrl=http://127.0.0.1:0",
                $"--VectorStore:DataPath={Path.Combine(folder, "data")}", "--Logging:LogLevel:Default=None",
                $"--VectorStore:Encoders:broken:Path={folder}", "--VectorStore:BuiltInEncoders:Preload=false",
            ]);
            var ex = await Assert.ThrowsAsync<EncoderLoadException>(() => app.StartAsync());
            Assert.Equal(Path.Combine(folder, "model.onnx"), ex.FilePath);
            await app.DisposeAsync();
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
