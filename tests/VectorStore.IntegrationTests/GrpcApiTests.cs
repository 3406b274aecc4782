using System.Net.Http.Json;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using V1 = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.IntegrationTests;

public class GrpcApiTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private V1.Collections.CollectionsClient Collections => new(server.Channel);

    private V1.Documents.DocumentsClient Documents => new(server.Channel);

    private V1.Search.SearchClient Search => new(server.Channel);

    private static async Task<RpcException> AssertStatus(StatusCode code, Func<Task> call, string? field = null)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(code, error.StatusCode);
        Assert.False(string.IsNullOrWhiteSpace(error.Status.Detail));
        if (field is not null)
        {
            Assert.Equal(field, error.Trailers.GetValue("field"));
        }
        return error;
    }

    private async Task<string> CreateAsync(string? metric = null, int? dimension = null)
    {
        string name = ServerFixture.UniqueName("g");
        var request = new V1.CreateCollectionRequest { Name = name };
        if (metric is not null)
        {
            request.Metric = metric;
        }
        if (dimension is not null)
        {
            request.Encoder = "none";
            request.Dimension = dimension.Value;
        }
        await Collections.CreateAsync(request);
        return name;
    }

    /// <summary>Beside the field trailer, refusals carry the standard google.rpc.Status with a BadRequest field violation.</summary>
    [Fact]
    public async Task Refusals_carry_rich_status_details()
    {
        var error = await AssertStatus(StatusCode.InvalidArgument,
            async () => await Collections.CreateAsync(new V1.CreateCollectionRequest { Name = "Not Valid" }), "name");

        var status = Google.Rpc.Status.Parser.ParseFrom(error.Trailers.GetValueBytes("grpc-status-details-bin"));
        Assert.Equal((int)StatusCode.InvalidArgument, status.Code);
        Assert.Equal(error.Status.Detail, status.Message);
        Assert.Equal("name", Assert.Single(Assert.Single(status.Details).Unpack<Google.Rpc.BadRequest>().FieldViolations).Field);
    }

    [Fact]
    public async Task Collections_over_grpc()
    {
        string name = await CreateAsync("l2");
        var info = await Collections.GetAsync(new V1.GetCollectionRequest { Name = name });
        Assert.Equal("l2", info.Metric);
        Assert.Equal("demo", info.Encoder);
        Assert.Equal(256, info.Dimension);
        Assert.Contains((await Collections.ListAsync(new V1.ListCollectionsRequest())).Collections, c => c.Name == name);
        await AssertStatus(StatusCode.AlreadyExists, async () => await Collections.CreateAsync(new V1.CreateCollectionRequest { Name = name }), "name");
        await AssertStatus(StatusCode.InvalidArgument, async () => await Collections.CreateAsync(new V1.CreateCollectionRequest { Name = "Not Valid" }), "name");
        await Collections.DeleteAsync(new V1.DeleteCollectionRequest { Name = name });
        await AssertStatus(StatusCode.NotFound, async () => await Collections.GetAsync(new V1.GetCollectionRequest { Name = name }), "name");
    }

    [Fact]
    public async Task Documents_and_query_over_grpc_with_struct_metadata_and_filter()
    {
        string name = await CreateAsync();
        var upsert = new V1.UpsertRequest { Collection = name };
        upsert.Documents.Add(new V1.DocumentInput { Id = "cat", Text = "cats are small furry pets", Metadata = Struct.Parser.ParseJson("""{"kind":"pet","year":2021,"tags":["a","b"]}""") });
        upsert.Documents.Add(new V1.DocumentInput { Id = "car", Text = "a fast red sports car", Metadata = Struct.Parser.ParseJson("""{"kind":"vehicle","year":2019}""") });
        upsert.Documents.Add(new V1.DocumentInput { Text = "no id given here" });
        var ids = (await Documents.UpsertAsync(upsert)).Ids;
        Assert.Equal(3, ids.Count);
        Assert.Equal(3, (await Documents.CountAsync(new V1.CountRequest { Collection = name })).Count);

        var cat = await Documents.GetAsync(new V1.GetDocumentRequest { Collection = name, Id = "cat", IncludeVector = true });
        Assert.Equal("pet", cat.Metadata.Fields["kind"].StringValue);
        Assert.Equal(2021, cat.Metadata.Fields["year"].NumberValue);
        Assert.Equal(256, cat.Vector.Count);

        var query = new V1.QueryRequest { Collection = name, Text = "furry cats", K = 3 };
        var results = (await Search.QueryAsync(query)).Results;
        Assert.Equal("cat", results[0].Id);
        Assert.Equal("cats are small furry pets", results[0].Text);

        query.Filter = Struct.Parser.ParseJson("""{"year":{"$lt":2020}}""");
        Assert.Equal(["car"], (await Search.QueryAsync(query)).Results.Select(r => r.Id));

        await Documents.DeleteAsync(new V1.DeleteDocumentRequest { Collection = name, Id = "cat" });
        await AssertStatus(StatusCode.NotFound, async () => await Documents.GetAsync(new V1.GetDocumentRequest { Collection = name, Id = "cat" }), "id");
    }

    [Fact]
    public async Task Bad_input_maps_to_status_codes_and_changes_nothing()
    {
        string name = await CreateAsync(dimension: 4);
        var good = new V1.DocumentInput { Id = "a" };
        good.Vector.Add([1f, 0f, 0f, 0f]);
        await Documents.UpsertAsync(new V1.UpsertRequest { Collection = name, Documents = { good } });

        var wrongDimension = new V1.DocumentInput { Id = "b" };
        wrongDimension.Vector.Add([1f, 2f]);
        await AssertStatus(StatusCode.InvalidArgument, async () => await Documents.UpsertAsync(new V1.UpsertRequest { Collection = name, Documents = { wrongDimension } }), "documents[0].vector");

        var nan = new V1.DocumentInput { Id = "a" };
        nan.Vector.Add([float.NaN, 0f, 0f, 0f]);
        await AssertStatus(StatusCode.InvalidArgument, async () => await Documents.UpsertAsync(new V1.UpsertRequest { Collection = name, Documents = { nan } }), "documents[0].vector");
        await AssertStatus(StatusCode.InvalidArgument, async () => await Documents.UpsertAsync(new V1.UpsertRequest { Collection = name, Documents = { new V1.DocumentInput { Id = "c", Text = "" } } }));

        var query = new V1.QueryRequest { Collection = name, K = 0 };
        query.Vector.Add([1f, 0f, 0f, 0f]);
        await AssertStatus(StatusCode.InvalidArgument, async () => await Search.QueryAsync(query), "k");
        query.K = 5;
        query.Filter = Struct.Parser.ParseJson("""{"x":{"$bogus":1}}""");
        await AssertStatus(StatusCode.InvalidArgument, async () => await Search.QueryAsync(query), "filter.x.$bogus");
        await AssertStatus(StatusCode.NotFound, async () => await Search.QueryAsync(new V1.QueryRequest { Collection = "missing", Text = "x" }));

        var stored = await Documents.GetAsync(new V1.GetDocumentRequest { Collection = name, Id = "a", IncludeVector = true });
        Assert.Equal([1f, 0f, 0f, 0f], stored.Vector);
        Assert.Equal(1, (await Documents.CountAsync(new V1.CountRequest { Collection = name })).Count);
    }

    [Fact]
    public async Task Rest_and_grpc_answer_the_same_query_identically()
    {
        string name = await CreateAsync();
        var upsert = new V1.UpsertRequest { Collection = name };
        foreach (var (id, text) in new[] { ("1", "red apples and green pears"), ("2", "fresh apples from the farm"), ("3", "cars and trucks on the road"), ("4", "apple pie recipe") })
        {
            upsert.Documents.Add(new V1.DocumentInput { Id = id, Text = text });
        }
        await Documents.UpsertAsync(upsert);
        var grpc = (await Search.QueryAsync(new V1.QueryRequest { Collection = name, Text = "apples", K = 4 })).Results;
        var rest = await (await server.Http.PostAsJsonAsync($"/collections/{name}/query", new { text = "apples", k = 4 })).Content.ReadFromJsonAsync<JsonElement>();
        var restResults = rest.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(grpc.Select(r => r.Id), restResults.Select(r => r.GetProperty("id").GetString()));
        Assert.Equal(grpc.Select(r => r.Score), restResults.Select(r => r.GetProperty("score").GetSingle()));
    }

    [Fact]
    public async Task Embed_and_models_over_grpc()
    {
        var client = new V1.Embeddings.EmbeddingsClient(server.Channel);
        var response = await client.EmbedAsync(new V1.EmbedRequest { Texts = { "hello", "world" } });
        Assert.Equal(2, response.Embeddings.Count);
        Assert.Equal(256, response.Embeddings[0].Values.Count);
        Assert.Contains((await client.ListModelsAsync(new V1.ListModelsRequest())).Models, m => m.Name == "demo");
        await AssertStatus(StatusCode.InvalidArgument, async () => await client.EmbedAsync(new V1.EmbedRequest { Encoder = "nope", Texts = { "x" } }), "encoder");
    }
}

public class GrpcLimitTests(SmallLimitServerFixture server) : IClassFixture<SmallLimitServerFixture>
{
    [Fact]
    public async Task Message_over_the_limit_is_resource_exhausted()
    {
        await server.CreateDemoCollectionAsync("limits");
        var request = new V1.UpsertRequest { Collection = "limits" };
        request.Documents.Add(new V1.DocumentInput { Text = new string('a', 2 * 1024 * 1024) });
        var error = await Assert.ThrowsAsync<RpcException>(async () => await new V1.Documents.DocumentsClient(server.Channel).UpsertAsync(request));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }
}

/// <summary>A fixture of its own, since it restarts the server.</summary>
public class RestartTests : IAsyncLifetime
{
    private readonly ServerFixture _server = new();

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task Acknowledged_documents_survive_a_restart()
    {
        await _server.CreateDemoCollectionAsync("durable");
        var documents = Enumerable.Range(0, 50).Select(i => new { id = $"d{i}", text = $"document number {i} about topic {i % 5}", metadata = new { n = i } }).ToArray();
        (await _server.Http.PostAsJsonAsync("/collections/durable/documents", new { documents })).EnsureSuccessStatusCode();
        (await _server.Http.DeleteAsync("/collections/durable/documents/d7")).EnsureSuccessStatusCode();
        var before = await _server.Http.PostAsJsonAsync("/collections/durable/query", new { text = "topic 3", k = 5 });
        string beforeBody = await before.Content.ReadAsStringAsync();

        await _server.RestartAsync();

        var info = await _server.Http.GetFromJsonAsync<JsonElement>("/collections/durable");
        Assert.Equal(49, info.GetProperty("documentCount").GetInt64());
        var after = await _server.Http.PostAsJsonAsync("/collections/durable/query", new { text = "topic 3", k = 5 });
        Assert.Equal(beforeBody, await after.Content.ReadAsStringAsync());
        var d8 = await _server.Http.GetFromJsonAsync<JsonElement>("/collections/durable/documents/d8");
        Assert.Equal(8, d8.GetProperty("metadata").GetProperty("n").GetInt32());
    }
}
