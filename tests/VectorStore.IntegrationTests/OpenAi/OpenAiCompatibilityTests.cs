using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using VectorStoreDb.IntegrationTests.Rag;
using OpenAI;
using OpenAI.Chat;
using AiChatMessage = Microsoft.Extensions.AI.ChatMessage;
using SdkChatMessage = OpenAI.Chat.ChatMessage;

namespace VectorStoreDb.IntegrationTests.OpenAi;

/// <summary>
/// <c>/v1/*</c> through the real OpenAI clients (the official OpenAI SDK and its Microsoft.Extensions.AI adapter)
/// against the real server, plus raw HTTP where the wire shape itself is the contract. The extractive generator is
/// named explicitly (<c>kb:extractive</c>), so these run without models.
/// </summary>
public class OpenAiCompatibilityTests(ChatServerFixture server) : IClassFixture<ChatServerFixture>
{
    private const string ChatModel = ChatServerFixture.Collection + ":extractive";

    private OpenAIClient Client => new(new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(server.RestAddress, "/v1") });

    private static async Task<JsonElement> Json(HttpResponseMessage response) => JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Fact]
    public async Task Sdk_lists_and_retrieves_models()
    {
        var models = (await Client.GetOpenAIModelClient().GetModelsAsync()).Value;
        var ids = models.Select(m => m.Id).ToList();
        Assert.Contains(ChatServerFixture.Collection, ids);
        Assert.Contains("extractive", ids);
        Assert.Contains("demo", ids);
        Assert.All(models, m => Assert.Equal("vectorstore", m.OwnedBy));

        var route = (await Client.GetOpenAIModelClient().GetModelAsync(ChatModel)).Value;
        Assert.Equal(ChatModel, route.Id);

        var missing = await Assert.ThrowsAsync<ClientResultException>(() => Client.GetOpenAIModelClient().GetModelAsync("no-such-model"));
        Assert.Equal(404, missing.Status);
        Assert.Contains("The model 'no-such-model' does not exist", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sdk_embeddings_match_the_rest_api()
    {
        var embeddings = (await Client.GetEmbeddingClient("demo").GenerateEmbeddingsAsync(["cats sleep", "green tea"])).Value;
        Assert.Equal(2, embeddings.Count);
        var rest = await Json(await server.Http.PostAsJsonAsync("/embed", new { texts = new[] { "cats sleep", "green tea" }, encoder = "demo" }));
        for (int i = 0; i < 2; i++)
        {
            float[] expected = [.. rest.GetProperty("embeddings")[i].EnumerateArray().Select(v => v.GetSingle())];
            Assert.Equal(expected, embeddings[i].ToFloats().ToArray());
        }

        IEmbeddingGenerator<string, Embedding<float>> generator = Client.GetEmbeddingClient("demo").AsIEmbeddingGenerator();
        var generated = await generator.GenerateAsync(["cats sleep"]);
        Assert.Equal(embeddings[0].ToFloats().ToArray(), generated[0].Vector.ToArray());

        var unknown = await Assert.ThrowsAsync<ClientResultException>(() => Client.GetEmbeddingClient("nope").GenerateEmbeddingAsync("x"));
        Assert.Equal(404, unknown.Status);
        Assert.Contains("embedding models are the encoders", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sdk_chat_answers_from_the_collection_with_citations_in_the_response()
    {
        var chat = Client.GetChatClient(ChatModel);
        var result = await chat.CompleteChatAsync([new SystemChatMessage("Answer briefly."), new UserChatMessage("Where was tea first drunk?")]);
        var completion = result.Value;
        string answer = completion.Content[0].Text;
        Assert.Contains("Tea was first drunk in China.", answer, StringComparison.Ordinal);
        Assert.Equal(OpenAI.Chat.ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(ChatModel, completion.Model);
        Assert.True(completion.Usage.OutputTokenCount > 0);

        // Citations: the documented top-level field of the completion, numbered as the answer cites them.
        var raw = JsonDocument.Parse(result.GetRawResponse().Content.ToString()).RootElement;
        var citations = raw.GetProperty("citations").EnumerateArray().ToList();
        var tea = citations.Single(c => c.GetProperty("document_id").GetString() == "tea");
        Assert.Contains($"[{tea.GetProperty("index").GetInt32()}]", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sdk_max_output_tokens_cut_the_extractive_answer_with_finish_reason_length()
    {
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 8 };
        var completion = (await Client.GetChatClient(ChatModel).CompleteChatAsync([new UserChatMessage("How long do cats sleep?")], options)).Value;
        Assert.Equal(OpenAI.Chat.ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(8, completion.Usage.OutputTokenCount);
        Assert.Equal(8, System.Text.RegularExpressions.Regex.Count(completion.Content[0].Text, @"\w+"));
    }

    [Fact]
    public async Task Sdk_streaming_gives_the_same_text_and_a_usage_update()
    {
        var chat = Client.GetChatClient(ChatModel);
        SdkChatMessage[] messages = [new SystemChatMessage("Be brief."), new UserChatMessage("How long do cats sleep?")];
        string whole = (await chat.CompleteChatAsync(messages)).Value.Content[0].Text;
        var streamed = new StringBuilder();
        OpenAI.Chat.ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in chat.CompleteChatStreamingAsync(messages, new ChatCompletionOptions()))
        {
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }
        Assert.Equal(whole, streamed.ToString());
        Assert.Equal(OpenAI.Chat.ChatFinishReason.Stop, finish);
        Assert.NotNull(usage);
        Assert.True(usage.OutputTokenCount > 0);
        Assert.Equal(usage.InputTokenCount + usage.OutputTokenCount, usage.TotalTokenCount);
    }

    [Fact]
    public async Task Sdk_errors_carry_the_servers_message()
    {
        var chat = Client.GetChatClient(ChatModel);
        SdkChatMessage[] question = [new UserChatMessage("How long do cats sleep?")];

        var tools = new ChatCompletionOptions { Tools = { ChatTool.CreateFunctionTool("lookup", "Looks things up.") } };
        var refused = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync(question, tools));
        Assert.Equal(400, refused.Status);
        Assert.Contains("Unsupported parameter: 'tools'", refused.Message, StringComparison.Ordinal);

        var json = new ChatCompletionOptions { ResponseFormat = OpenAI.Chat.ChatResponseFormat.CreateJsonObjectFormat() };
        Assert.Contains("'response_format'", (await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync(question, json))).Message, StringComparison.Ordinal);

        var missing = await Assert.ThrowsAsync<ClientResultException>(() => Client.GetChatClient("no-such-collection").CompleteChatAsync(question));
        Assert.Equal(404, missing.Status);
        Assert.Contains("there is no collection 'no-such-collection'", missing.Message, StringComparison.Ordinal);

        var badGenerator = await Assert.ThrowsAsync<ClientResultException>(() => Client.GetChatClient($"{ChatServerFixture.Collection}:nope").CompleteChatAsync(question));
        Assert.Equal(404, badGenerator.Status);
        Assert.Contains("there is no generator 'nope'", badGenerator.Message, StringComparison.Ordinal);

        var badLimit = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync(question, new ChatCompletionOptions { MaxOutputTokenCount = 0 }));
        Assert.Equal(400, badLimit.Status);
        Assert.Contains("max_tokens: must be at least 1", badLimit.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Extensions_ai_chat_client_answers_and_streams()
    {
        IChatClient chat = Client.GetChatClient(ChatModel).AsIChatClient();
        AiChatMessage[] messages = [new(ChatRole.User, "Where was tea first drunk?")];
        var response = await chat.GetResponseAsync(messages);
        Assert.Contains("Tea was first drunk in China.", response.Text, StringComparison.Ordinal);
        Assert.Equal(Microsoft.Extensions.AI.ChatFinishReason.Stop, response.FinishReason);

        var cut = await chat.GetResponseAsync(messages, new ChatOptions { MaxOutputTokens = 5 });
        Assert.Equal(Microsoft.Extensions.AI.ChatFinishReason.Length, cut.FinishReason);
        Assert.Equal(5, cut.Usage?.OutputTokenCount);

        // The model option alone picks the collection and generator, so plain ChatOptions route the request.
        IChatClient unrouted = Client.GetChatClient("unused").AsIChatClient();
        var routed = await unrouted.GetResponseAsync(messages, new ChatOptions { ModelId = ChatModel });
        Assert.Equal(response.Text, routed.Text);

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in chat.GetStreamingResponseAsync(messages))
        {
            updates.Add(update);
        }
        Assert.Equal(response.Text, string.Concat(updates.Select(u => u.Text)));
        Assert.Contains(updates.SelectMany(u => u.Contents), c => c is UsageContent { Details.OutputTokenCount: > 0 });

        var refused = await Assert.ThrowsAsync<ClientResultException>(() => chat.GetResponseAsync(messages, new ChatOptions { ResponseFormat = Microsoft.Extensions.AI.ChatResponseFormat.Json }));
        Assert.Contains("'response_format'", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Streamed_chunks_carry_citations_first_and_usage_only_when_asked()
    {
        var body = new { model = ChatModel, messages = new[] { new { role = "developer", content = "Be brief." }, new { role = "user", content = "How long do cats sleep?" } }, stream = true };
        var plain = ParseChunks(await (await server.Http.PostAsJsonAsync("/v1/chat/completions", body)).Content.ReadAsStringAsync());
        Assert.Equal("cats", plain[0].GetProperty("citations")[0].GetProperty("document_id").GetString());
        Assert.All(plain, c => Assert.False(c.TryGetProperty("usage", out _)));
        Assert.Equal("stop", plain[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());

        var withUsage = ParseChunks(await (await server.Http.PostAsJsonAsync("/v1/chat/completions",
            new { body.model, body.messages, body.stream, stream_options = new { include_usage = true } })).Content.ReadAsStringAsync());
        Assert.Equal(plain.Count + 1, withUsage.Count);
        Assert.Equal(0, withUsage[^1].GetProperty("choices").GetArrayLength());
        Assert.True(withUsage[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32() > 0);
    }

    [Fact]
    public async Task Every_v1_error_is_an_openai_envelope_and_other_routes_keep_problem_details()
    {
        async Task<JsonElement> Error(HttpResponseMessage response, HttpStatusCode status)
        {
            Assert.Equal(status, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            var error = (await Json(response)).GetProperty("error");
            Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
            Assert.True(error.TryGetProperty("param", out _) && error.TryGetProperty("code", out _));
            return error;
        }

        // Model binding: malformed JSON never reaches the handler.
        var malformed = await Error(await server.Http.PostAsync("/v1/embeddings", new StringContent("{\"model\":", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);
        Assert.Equal("invalid_request_error", malformed.GetProperty("type").GetString());

        var n = await Error(await server.Http.PostAsJsonAsync("/v1/chat/completions", new { model = ChatModel, messages = new[] { new { role = "user", content = "q" } }, n = 2 }), HttpStatusCode.BadRequest);
        Assert.Equal("n", n.GetProperty("param").GetString());
        Assert.Equal("unsupported_value", n.GetProperty("code").GetString());

        var role = await Error(await server.Http.PostAsJsonAsync("/v1/chat/completions", new { model = ChatModel, messages = new[] { new { role = "tool", content = "q" } } }), HttpStatusCode.BadRequest);
        Assert.Equal("messages[0].role", role.GetProperty("param").GetString());

        var noModel = await Error(await server.Http.PostAsJsonAsync("/v1/chat/completions", new { messages = new[] { new { role = "user", content = "q" } } }), HttpStatusCode.BadRequest);
        Assert.Equal("model", noModel.GetProperty("param").GetString());

        var unknownModel = await Error(await server.Http.GetAsync("/v1/models/nope"), HttpStatusCode.NotFound);
        Assert.Equal("model_not_found", unknownModel.GetProperty("code").GetString());

        await Error(await server.Http.GetAsync("/v1/no-such-route"), HttpStatusCode.NotFound);

        var rest = await server.Http.PostAsJsonAsync($"/collections/{ChatServerFixture.Collection}/chat", new { k = 2 });
        Assert.Equal("application/problem+json", rest.Content.Headers.ContentType?.MediaType);
        Assert.Equal("question", (await Json(rest)).GetProperty("field").GetString());
    }

    private static List<JsonElement> ParseChunks(string sse)
    {
        var data = sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(block => block.StartsWith("data: ", StringComparison.Ordinal) ? block[6..] : block).ToList();
        Assert.Equal("[DONE]", data[^1]);
        return [.. data.SkipLast(1).Select(d => JsonDocument.Parse(d).RootElement)];
    }
}
