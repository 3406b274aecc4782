using System.Text.Json;
using System.Text.Json.Serialization;
using VectorStoreDb.Engine;
using VectorStoreDb.Rag;
using VectorStoreDb.Server.Hosting;
using VectorStoreDb.Server.Operations;
using VectorStoreDb.Wire;

namespace VectorStoreDb.Server.Rest.OpenAi;

/// <summary>
/// <c>POST /v1/chat/completions</c> in OpenAI's shape, answering from a collection (RAG). The collection is the model:
/// <c>"model": "{collection}"</c> or <c>"{collection}:{generator}"</c>, so every OpenAI SDK can choose it with its plain
/// model option; the extra body field <c>collection</c> still works (then <c>model</c> may name a generator).
/// Citations come back in the top-level <c>citations</c> field of the completion and of the first streamed chunk.
/// Parameters OpenAI defines but a RAG answer cannot honour (tools, response formats, several choices, log-probs) are
/// refused naming the parameter rather than silently ignored.
/// </summary>
public static class OpenAiChatApi
{
    // OpenAI's conventions: snake_case everywhere (our citations too, as document_id) and nulls left out.
    internal static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    // OpenAI parameters RefuseUnsupported answers with "unsupported_parameter" (or accepts at their neutral value).
    private static readonly string[] UnsupportedParameters =
    [
        "tools", "functions", "tool_choice", "function_call", "response_format", "n", "logprobs", "top_logprobs", "logit_bias",
        "presence_penalty", "frequency_penalty", "modalities", "audio", "prediction", "web_search_options", "reasoning_effort",
    ];

    // Besides the chat fields: the model (collection or "collection:generator"), our extra 'collection', 'user' (an
    // end-user tag that changes nothing) and 'stream_options'; anything else is refused as OpenAI does.
    private static readonly HashSet<string> Fields = new(ChatApi.ChatFields.Concat(["model", "collection", "user", "stream_options"]).Concat(UnsupportedParameters), StringComparer.Ordinal);

    public static IEndpointRouteBuilder MapOpenAiChat(this IEndpointRouteBuilder app)
    {
        app.MapPost($"{OpenAiErrorWriter.RoutePrefix}/chat/completions", async (HttpContext http, RagService rag, IDocumentStore store) =>
        {
            var body = await ChatApi.ReadBody(http);
            RefuseUnsupported(body);
            ChatApi.RefuseUnknownFields(body, Fields, "", name => $"Unrecognized request argument supplied: {name}");
            bool stream = ChatApi.Bool(body, "stream");
            bool includeUsage = ReadStreamOptions(body, stream);
            var request = ChatApi.ParseRequest(body);
            string model = ChatApi.String(body, "model") ?? "";
            string? named = ChatApi.String(body, "collection");
            // The model names the collection unless 'collection' does; only then is the collection list needed.
            var route = OpenAiModels.ResolveChat(model, named, rag, named is null ? await store.ListSettingsAsync(http.RequestAborted) : []);
            if (request.Generator is null && route.Generator is not null)
            {
                request = request with { Generator = route.Generator };
            }
            string id = $"chatcmpl-{Guid.NewGuid():N}";
            long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            string modelName = model.Length > 0 ? model : route.Collection;
            var ct = http.RequestAborted;
            if (!stream)
            {
                var r = await rag.ChatAsync(route.Collection, request, ct);
                var completion = new OpenAiCompletion(id, "chat.completion", created, modelName,
                    [new OpenAiChoice(0, new OpenAiMessage("assistant", r.Answer), null, r.FinishReason)],
                    Usage(r.Usage), [.. r.Citations.Select(OpenAiCitation.From)]);
                return Results.Json(completion, Json);
            }
            await using var events = rag.ChatStreamAsync(route.Collection, request, ct).GetAsyncEnumerator(ct);
            // The first MoveNext does validation, the queue and retrieval: refusals still get an error status.
            bool any = await events.MoveNextAsync();
            ChatApi.StartEventStream(http);
            OpenAiChunk Chunk(OpenAiMessage delta, string? finish, IReadOnlyList<OpenAiCitation>? citations = null) =>
                new(id, "chat.completion.chunk", created, modelName, [new OpenAiChoice(0, null, delta, finish)], null, citations);
            try
            {
                for (; any; any = await events.MoveNextAsync())
                {
                    switch (events.Current)
                    {
                        case RagCitationsEvent c:
                            await Write(http, Chunk(new OpenAiMessage("assistant", ""), null, [.. c.Citations.Select(OpenAiCitation.From)]), ct);
                            break;
                        case RagTokenEvent t:
                            await Write(http, Chunk(new OpenAiMessage(null, t.Text), null), ct);
                            break;
                        case RagDoneEvent d:
                            await Write(http, Chunk(new OpenAiMessage(null, null), d.FinishReason), ct);
                            if (includeUsage)
                            {
                                // As OpenAI: one last chunk with no choices carries the usage of the whole request.
                                await Write(http, new OpenAiChunk(id, "chat.completion.chunk", created, modelName, [], Usage(d.Usage), null), ct);
                            }
                            break;
                    }
                }
            }
            catch (VectorStoreException e) when (!ct.IsCancellationRequested)
            {
                // Headers are gone: OpenAI reports a failure mid-stream as an error object in the stream.
                int status = ErrorTable.For(e.Code).HttpStatus;
                await ChatApi.WriteData(http, JsonSerializer.Serialize(new OpenAiErrorBody(new OpenAiError(e.Message, OpenAiError.TypeOf(status), e.Field, OpenAiError.CodeOf(status)))), ct);
            }
            await ChatApi.WriteData(http, "[DONE]", ct);
            return Results.Empty;
        }).WithTags("OpenAI").WithName("createChatCompletion").RequireReadKey().ProducesProblem(StatusCodes.Status404NotFound)
            .Accepts<OpenAiChatRequest>("application/json")
            .Produces(StatusCodes.Status200OK, typeof(OpenAiCompletion), "application/json", "text/event-stream")
            .WithSummary("OpenAI-compatible chat completions over a collection: \"model\": \"{collection}\" or \"{collection}:{generator}\".");
        return app;
    }

    private static OpenAiUsage Usage(RagUsage u) => new(u.PromptTokens, u.CompletionTokens, u.TotalTokens);

    private static Task Write(HttpContext http, OpenAiChunk chunk, CancellationToken ct) => ChatApi.WriteData(http, JsonSerializer.Serialize(chunk, Json), ct);

    private static bool ReadStreamOptions(JsonElement body, bool stream)
    {
        if (ChatApi.Get(body, "stream_options") is not { } options)
        {
            return false;
        }
        if (!stream)
        {
            throw new OpenAiRequestException(StatusCodes.Status400BadRequest, "The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options", "invalid_value");
        }
        if (options.ValueKind != JsonValueKind.Object)
        {
            throw ChatApi.Invalid("stream_options", "must be an object, e.g. {\"include_usage\": true}.");
        }
        return ChatApi.Bool(options, "include_usage");
    }

    /// <summary>Parameters with a meaning a RAG answer cannot honour: refused unless given their neutral value.</summary>
    private static void RefuseUnsupported(JsonElement body)
    {
        if (ChatApi.Get(body, "tools") is { } tools && !(tools.ValueKind == JsonValueKind.Array && tools.GetArrayLength() == 0))
        {
            throw OpenAiRequestException.Unsupported("tools", "is not supported: answers come from the collection's passages, not from tool calls.");
        }
        if (ChatApi.Get(body, "functions") is not null)
        {
            throw OpenAiRequestException.Unsupported("functions", "is not supported: answers come from the collection's passages, not from function calls.");
        }
        foreach (string choice in (string[])["tool_choice", "function_call"])
        {
            if (ChatApi.Get(body, choice) is { } value && !(value.ValueKind == JsonValueKind.String && value.GetString() is "none" or "auto"))
            {
                throw OpenAiRequestException.Unsupported(choice, "is not supported: this server calls no tools.");
            }
        }
        if (ChatApi.Get(body, "response_format") is { } format
            && !(format.ValueKind == JsonValueKind.Object && format.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "text"))
        {
            throw OpenAiRequestException.UnsupportedValue("response_format", "only {\"type\": \"text\"} is supported: answers are cited prose, not JSON.");
        }
        if (ChatApi.Get(body, "n") is { } n && !(n.ValueKind == JsonValueKind.Number && n.TryGetInt32(out int count) && count == 1))
        {
            throw OpenAiRequestException.UnsupportedValue("n", "must be 1: one answer is generated per request.");
        }
        if (ChatApi.Get(body, "logprobs") is { ValueKind: not JsonValueKind.False })
        {
            throw OpenAiRequestException.Unsupported("logprobs", "is not supported.");
        }
        if (ChatApi.Get(body, "top_logprobs") is not null)
        {
            throw OpenAiRequestException.Unsupported("top_logprobs", "is not supported.");
        }
        if (ChatApi.Get(body, "logit_bias") is { } bias && !(bias.ValueKind == JsonValueKind.Object && !bias.EnumerateObject().Any()))
        {
            throw OpenAiRequestException.Unsupported("logit_bias", "is not supported.");
        }
        foreach (string penalty in (string[])["presence_penalty", "frequency_penalty"])
        {
            if (ChatApi.Get(body, penalty) is { } value && !(value.ValueKind == JsonValueKind.Number && value.GetDouble() == 0))
            {
                throw OpenAiRequestException.Unsupported(penalty, "is not supported; use 'repetition_penalty' (e.g. 1.1).");
            }
        }
        if (ChatApi.Get(body, "modalities") is { } modalities
            && !(modalities.ValueKind == JsonValueKind.Array && modalities.EnumerateArray().All(m => m.ValueKind == JsonValueKind.String && m.GetString() == "text")))
        {
            throw OpenAiRequestException.UnsupportedValue("modalities", "only [\"text\"] is supported.");
        }
        foreach (string other in (string[])["audio", "prediction", "web_search_options", "reasoning_effort"])
        {
            if (ChatApi.Get(body, other) is not null)
            {
                throw OpenAiRequestException.Unsupported(other, "is not supported by this server.");
            }
        }
    }
}
