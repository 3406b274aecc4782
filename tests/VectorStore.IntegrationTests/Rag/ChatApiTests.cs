using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using V1 = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.IntegrationTests.Rag;

/// <summary>
/// A server with the stories260K decoder configured as generator "stories" (one slot, no queue, so the
/// busy path is testable) and a small collection. Needs shared/models/stories260k: the tests that use the model are
/// <c>[ModelFact]</c>, skipped with the reason without it and failing under CI=true.
/// </summary>
public sealed class ChatServerFixture : ServerFixture, IAsyncLifetime
{
    public const string Model = "stories260k";

    public static string? ModelFolder => SharedData.ModelFolder(Model);

    protected override IEnumerable<string> ExtraArguments => ModelFolder is { } folder
        ? [$"--VectorStore:Generators:stories:Path={folder}", "--VectorStore:Generators:stories:MaxConcurrent=1", "--VectorStore:Generators:stories:QueueLimit=0"]
        : [];

    public const string Collection = "kb";

    public new async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await CreateDemoCollectionAsync(Collection);
        var upsert = await Http.PostAsJsonAsync($"/collections/{Collection}/documents", new
        {
            documents = new object[]
            {
                new { id = "cats", text = "Cats sleep for about sixteen hours a day. They hunt at dawn and dusk.", metadata = new { topic = "pets" } },
                new { id = "tea", text = "Green tea is made from unoxidised leaves. Tea was first drunk in China.", metadata = new { topic = "food" } },
                new { id = "paris", text = "Paris is the capital of France. The Seine flows through the city.", metadata = new { topic = "travel" } },
            },
        });
        upsert.EnsureSuccessStatusCode();
    }
}

public class ChatApiTests(ChatServerFixture server) : IClassFixture<ChatServerFixture>
{
    private HttpClient Http => server.Http;

    private Task<HttpResponseMessage> Post(string path, object body) => Http.PostAsJsonAsync(path, body);

    private static async Task<JsonElement> Json(HttpResponseMessage response) => JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    /// <summary>Parses a text/event-stream body into (event, data) pairs.</summary>
    private static List<(string Event, string Data)> ParseSse(string body)
    {
        var events = new List<(string, string)>();
        foreach (string block in body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string kind = "message", data = "";
            foreach (string line in block.Split('\n'))
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    kind = line[7..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    data += line[6..];
                }
            }
            events.Add((kind, data));
        }
        return events;
    }

    [ModelFact(ChatServerFixture.Model)]
    public async Task Chat_json_and_sse_give_the_same_text()
    {
        var request = new { question = "How long do cats sleep?", k = 2, max_tokens = 24, debug = true };
        var response = await Post($"/collections/{ChatServerFixture.Collection}/chat", request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await Json(response);
        string answer = json.GetProperty("answer").GetString()!;
        Assert.False(string.IsNullOrEmpty(answer));
        Assert.Equal("stories", json.GetProperty("generator").GetString());
        var citations = json.GetProperty("citations");
        Assert.Equal(2, citations.GetArrayLength());
        Assert.Equal("cats", citations[0].GetProperty("documentId").GetString());
        Assert.Equal(24, json.GetProperty("usage").GetProperty("completionTokens").GetInt32());
        Assert.Contains("[1] Cats sleep", json.GetProperty("prompt").GetString(), StringComparison.Ordinal);
        Assert.True(json.GetProperty("timings").GetProperty("timeToFirstTokenMs").GetDouble() > 0);

        var streamed = await Post($"/collections/{ChatServerFixture.Collection}/chat", new { question = "How long do cats sleep?", k = 2, max_tokens = 24, stream = true });
        Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
        Assert.Equal("text/event-stream", streamed.Content.Headers.ContentType?.MediaType);
        var events = ParseSse(await streamed.Content.ReadAsStringAsync());
        Assert.Equal("citations", events[0].Event);
        Assert.Equal("done", events[^1].Event);
        Assert.All(events.Skip(1).SkipLast(1), e => Assert.Equal("token", e.Event));
        string text = string.Concat(events.Where(e => e.Event == "token").Select(e => JsonDocument.Parse(e.Data).RootElement.GetProperty("text").GetString()));
        Assert.Equal(answer, text);
        var done = JsonDocument.Parse(events[^1].Data).RootElement;
        Assert.Equal(24, done.GetProperty("usage").GetProperty("completionTokens").GetInt32());
    }

    // Needs no model: the extractive generator and request validation work on any server.
    [Fact]
    public async Task Extractive_generator_and_messages_with_filter()
    {
        var response = await Post($"/collections/{ChatServerFixture.Collection}/chat", new
        {
            messages = new[] { new { role = "user", content = "Where was tea first drunk?" } },
            filter = new { topic = "food" },
            generator = "extractive",
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await Json(response);
        Assert.Contains("Tea was first drunk in China. [1]", json.GetProperty("answer").GetString(), StringComparison.Ordinal);
        Assert.All(json.GetProperty("citations").EnumerateArray(), c => Assert.Equal("tea", c.GetProperty("documentId").GetString()));
    }

    // Needs no model: the extractive generator and request validation work on any server.
    [Fact]
    public async Task Bad_chat_requests_get_problem_details()
    {
        var noQuestion = await Post($"/collections/{ChatServerFixture.Collection}/chat", new { k = 2 });
        Assert.Equal(HttpStatusCode.BadRequest, noQuestion.StatusCode);
        Assert.Equal("question", (await Json(noQuestion)).GetProperty("field").GetString());
        var badType = await Post($"/collections/{ChatServerFixture.Collection}/chat", new { question = "q", max_tokens = "many" });
        Assert.Equal("max_tokens", (await Json(badType)).GetProperty("field").GetString());
        var missing = await Post("/collections/nope/chat", new { question = "q", stream = true });
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
    }

    [ModelFact(ChatServerFixture.Model)]
    public async Task OpenAi_chat_completions_request_response_and_chunks()
    {
        var body = new
        {
            model = ChatServerFixture.Collection,
            messages = new[] { new { role = "system", content = "Be brief." }, new { role = "user", content = "How long do cats sleep?" } },
            max_tokens = 16,
            temperature = 0,
        };
        var response = await Post("/v1/chat/completions", body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await Json(response);
        Assert.StartsWith("chatcmpl-", json.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("chat.completion", json.GetProperty("object").GetString());
        Assert.Equal(ChatServerFixture.Collection, json.GetProperty("model").GetString());
        Assert.True(json.GetProperty("created").GetInt64() > 1_700_000_000);
        var choice = json.GetProperty("choices")[0];
        Assert.Equal(0, choice.GetProperty("index").GetInt32());
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        string content = choice.GetProperty("message").GetProperty("content").GetString()!;
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.Equal("cats", json.GetProperty("citations")[0].GetProperty("document_id").GetString());
        var usage = json.GetProperty("usage");
        Assert.Equal(16, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32() + 16, usage.GetProperty("total_tokens").GetInt32());

        var streamed = await Post("/v1/chat/completions", new { body.model, body.messages, body.max_tokens, body.temperature, stream = true, stream_options = new { include_usage = true } });
        Assert.Equal("text/event-stream", streamed.Content.Headers.ContentType?.MediaType);
        var events = ParseSse(await streamed.Content.ReadAsStringAsync());
        Assert.All(events, e => Assert.Equal("message", e.Event));
        Assert.Equal("[DONE]", events[^1].Data);
        var chunks = events.SkipLast(1).Select(e => JsonDocument.Parse(e.Data).RootElement).ToList();
        Assert.All(chunks, c =>
        {
            Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString());
            Assert.Equal(chunks[0].GetProperty("id").GetString(), c.GetProperty("id").GetString());
        });
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        Assert.Equal(JsonValueKind.Null, chunks[0].GetProperty("choices")[0].GetProperty("finish_reason").ValueKind);
        Assert.Equal("length", chunks[^2].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        // stream_options.include_usage: a last chunk without choices carries the usage.
        Assert.Equal(0, chunks[^1].GetProperty("choices").GetArrayLength());
        Assert.Equal(16, chunks[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        string text = string.Concat(chunks.SkipLast(1).Select(c => c.GetProperty("choices")[0].GetProperty("delta"))
            .Where(d => d.TryGetProperty("content", out _)).Select(d => d.GetProperty("content").GetString()));
        Assert.Equal(content, text);
    }

    [ModelFact(ChatServerFixture.Model)]
    public async Task Grpc_chat_streams_the_same_text_and_full_queue_is_429()
    {
        var client = new V1.Rag.RagClient(server.Channel);
        var request = new V1.ChatRequest { Collection = ChatServerFixture.Collection, Question = "How long do cats sleep?", K = 2, MaxTokens = 24 };
        using var call = client.Chat(request);
        var events = new List<V1.ChatEvent>();
        await foreach (var e in call.ResponseStream.ReadAllAsync())
        {
            events.Add(e);
        }
        Assert.Equal(V1.ChatEvent.EventOneofCase.Citations, events[0].EventCase);
        Assert.Equal("cats", events[0].Citations.Citations[0].DocumentId);
        Assert.Equal(V1.ChatEvent.EventOneofCase.Done, events[^1].EventCase);
        Assert.Equal(24, events[^1].Done.Usage.CompletionTokens);
        string grpcText = string.Concat(events.Where(e => e.EventCase == V1.ChatEvent.EventOneofCase.Token).Select(e => e.Token));
        var rest = await Json(await Post($"/collections/{ChatServerFixture.Collection}/chat", new { question = "How long do cats sleep?", k = 2, max_tokens = 24 }));
        Assert.Equal(rest.GetProperty("answer").GetString(), grpcText);

        // Hold the only slot (taken directly: a tiny model may finish any real generation before the next request
        // arrives); the next request finds no room and gets 429 over REST and RESOURCE_EXHAUSTED over gRPC.
        var limiter = server.Services.GetRequiredService<VectorStoreDb.Rag.GeneratorRegistry>().Get("stories").Limiter;
        using (await limiter.AcquireAsync(CancellationToken.None))
        {
            var busy = await Post($"/collections/{ChatServerFixture.Collection}/chat", new { question = "q", max_tokens = 8 });
            Assert.Equal(HttpStatusCode.TooManyRequests, busy.StatusCode);
            Assert.Equal("1", busy.Headers.RetryAfter?.ToString());
            var rpc = await Assert.ThrowsAsync<RpcException>(async () =>
            {
                using var again = client.Chat(request);
                await again.ResponseStream.MoveNext();
            });
            Assert.Equal(StatusCode.ResourceExhausted, rpc.StatusCode);
            var refusal = VectorStoreDb.Client.VectorStoreGrpcClient.ToClientException(rpc);
            Assert.Equal(VectorStoreDb.Client.VectorStoreErrorCode.Busy, refusal.Code);
            Assert.Equal(TimeSpan.FromSeconds(1), refusal.RetryAfter);
        }

        // A long streamed generation whose client goes away releases its slot (client disconnect cancels generation).
        using var cts = new CancellationTokenSource();
        using var holding = client.Chat(new V1.ChatRequest { Collection = ChatServerFixture.Collection, Question = "Tell me a story", MaxTokens = 360, IgnoreEos = true }, cancellationToken: cts.Token);
        Assert.True(await holding.ResponseStream.MoveNext(cts.Token));
        await cts.CancelAsync();
        HttpStatusCode status = HttpStatusCode.TooManyRequests;
        for (int i = 0; i < 50 && status == HttpStatusCode.TooManyRequests; i++)
        {
            await Task.Delay(20);
            status = (await Post($"/collections/{ChatServerFixture.Collection}/chat", new { question = "q", max_tokens = 4 })).StatusCode;
        }
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [ModelFact(ChatServerFixture.Model)]
    public async Task Generators_are_listed()
    {
        var json = await Json(await Http.GetAsync("/generators"));
        var names = json.GetProperty("generators").EnumerateArray().Select(g => g.GetProperty("name").GetString()).ToList();
        Assert.Contains("extractive", names);
        Assert.Contains("stories", names);
        var reply = await new V1.Rag.RagClient(server.Channel).ListGeneratorsAsync(new V1.ListGeneratorsRequest());
        Assert.Contains(reply.Generators, g => g is { Name: "stories", IsDefault: true, ContextWindow: 512 });
    }
}

public class RemoteChatClientTests(ChatServerFixture server) : IClassFixture<ChatServerFixture>
{
    [ModelFact(ChatServerFixture.Model)]
    public async Task IChatClient_over_grpc_answers_with_citations_usage_and_streams_the_same_text()
    {
        using Microsoft.Extensions.AI.IChatClient chat = new VectorStoreDb.Client.VectorStoreChatClient(server.Channel, ChatServerFixture.Collection);
        var options = new Microsoft.Extensions.AI.ChatOptions { MaxOutputTokens = 20, AdditionalProperties = new() { ["k"] = 2 } };
        Microsoft.Extensions.AI.ChatMessage[] messages = [new(Microsoft.Extensions.AI.ChatRole.User, "How long do cats sleep?")];
        var response = await chat.GetResponseAsync(messages, options);
        Assert.False(string.IsNullOrEmpty(response.Text));
        Assert.Equal("stories", response.ModelId);
        Assert.Equal(Microsoft.Extensions.AI.ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(20, response.Usage?.OutputTokenCount);
        var citations = Assert.IsAssignableFrom<IReadOnlyList<VectorStoreDb.Client.ChatCitation>>(response.AdditionalProperties?["citations"]);
        Assert.Equal(2, citations.Count);
        Assert.Equal("cats", citations[0].DocumentId);

        var streamed = new System.Text.StringBuilder();
        await foreach (var update in chat.GetStreamingResponseAsync(messages, options))
        {
            streamed.Append(update.Text);
        }
        Assert.Equal(response.Text, streamed.ToString());

        var extractive = await chat.GetResponseAsync(messages, new Microsoft.Extensions.AI.ChatOptions
        {
            ModelId = "extractive",
            AdditionalProperties = new() { ["filter"] = """{"topic":"pets"}""" },
        });
        Assert.Contains("Cats sleep for about sixteen hours a day. [1]", extractive.Text, StringComparison.Ordinal);
    }
}

public class EmbeddedChatClientTests
{
    [Fact]
    public async Task Embedded_store_AsChatClient_answers_with_citations()
    {
        string path = Path.Combine(Path.GetTempPath(), "vectorstore-it", Guid.NewGuid().ToString("N"));
        try
        {
            using (var store = VectorStoreDb.Client.Embedded.EmbeddedVectorStore.Open(path))
            {
                await store.Engine.CreateCollectionAsync(new VectorStoreDb.Engine.CreateCollectionRequest { Name = "kb" });
                await store.Engine.UpsertAsync("kb", [new VectorStoreDb.Engine.DocumentInput { Id = "tea", Text = "Tea was first drunk in China. Green tea is unoxidised." }]);
                using var chat = VectorStoreDb.Client.Embedded.EmbeddedChatExtensions.AsChatClient(store, "kb");
                var response = await chat.GetResponseAsync([new Microsoft.Extensions.AI.ChatMessage(Microsoft.Extensions.AI.ChatRole.User, "Where was tea first drunk?")]);
                Assert.Contains("Tea was first drunk in China. [1]", response.Text, StringComparison.Ordinal);
                Assert.Equal("extractive", response.ModelId);
            }
        }
        finally
        {
            try
            {
                Directory.Delete(path, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
