using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using VectorStoreDb.Engine;
using VectorStoreDb.Engine.Filtering;
using VectorStoreDb.Rag;
using VectorStoreDb.Server.Operations;
using VectorStoreDb.Wire;

namespace VectorStoreDb.Server.Rest;

/// <summary>
/// RAG chat over REST: <c>POST /collections/{name}/chat</c> (JSON, or server-sent events with
/// <c>"stream": true</c>); the OpenAI-compatible <c>POST /v1/chat/completions</c> (OpenAiChatApi) shares its request parsing. Request fields are
/// accepted in snake_case (OpenAI style, e.g. <c>max_tokens</c>) or camelCase (<c>maxTokens</c>).
/// A client that disconnects cancels its generation.
/// </summary>
public static class ChatApi
{
    // The fields ParseRequest reads (snake_case and camelCase spellings) plus "stream"; anything else is refused, so a
    // misspelled setting is not dropped while the client believes it took effect.
    internal static readonly HashSet<string> ChatFields = new(StringComparer.Ordinal)
    {
        "question", "messages", "k", "filter", "max_tokens", "maxTokens", "max_completion_tokens", "temperature", "top_k", "topK",
        "top_p", "topP", "repetition_penalty", "repetitionPenalty", "seed", "stop", "generator", "debug", "ignore_eos", "stream",
    };

    private static readonly HashSet<string> MessageFields = new(StringComparer.Ordinal) { "role", "content", "name" };

    public static IEndpointRouteBuilder MapVectorStoreChatApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/collections/{name}/chat", async (string name, HttpContext http, RagService rag) =>
        {
            var body = await ReadBody(http);
            RefuseUnknownFields(body, ChatFields, "", name => $"{name}: unknown field; known: {string.Join(", ", ChatFields)}.");
            var request = ParseRequest(body);
            var ct = http.RequestAborted;
            if (!Bool(body, "stream"))
            {
                var response = await rag.ChatAsync(name, request, ct);
                return Results.Json(ChatResponseDto.From(response), Json(http));
            }
            await using var events = rag.ChatStreamAsync(name, request, ct).GetAsyncEnumerator(ct);
            // The first MoveNext does validation, the queue and retrieval: failures still become error statuses.
            bool any = await events.MoveNextAsync();
            StartEventStream(http);
            var json = Json(http);
            try
            {
                for (; any; any = await events.MoveNextAsync())
                {
                    (string kind, object data) = events.Current switch
                    {
                        RagCitationsEvent c => ("citations", (object)new CitationsDto([.. c.Citations.Select(CitationDto.From)], c.Generator)),
                        RagTokenEvent t => ("token", new TokenDto(t.Text)),
                        RagDoneEvent d => ("done", DoneDto.From(d)),
                        _ => ("", new object()),
                    };
                    await WriteEvent(http, kind, JsonSerializer.Serialize(data, json), ct);
                }
            }
            catch (VectorStoreException e) when (!ct.IsCancellationRequested)
            {
                await WriteEvent(http, "error", JsonSerializer.Serialize(new { status = ErrorTable.For(e.Code).HttpStatus, detail = e.Message, field = e.Field }, json), ct);
            }
            return Results.Empty;
        }).WithTags("Chat").RequireReadKey().WithName("chat")
            .Accepts<ChatRequestBody>("application/json")
            .Produces(StatusCodes.Status200OK, typeof(ChatResponseDto), "application/json", "text/event-stream")
            .WithSummary("Answer a question from the collection's passages (RAG); \"stream\": true for server-sent events.");

        app.MapGet("/generators", (RagService rag) => TypedResults.Ok(new GeneratorListDto(rag.Generators.List())))
            .WithTags("Chat").RequireReadKey().WithName("listGenerators").WithSummary("The generators chat can use (extractive plus configured ONNX decoders).");
        return app;
    }

    private static JsonSerializerOptions Json(HttpContext http) => http.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;

    internal static async Task<JsonElement> ReadBody(HttpContext http)
    {
        if (!http.Request.HasJsonContentType())
        {
            throw new VectorStoreException(ErrorCode.InvalidArgument, "body: send JSON with Content-Type: application/json.", "body");
        }
        using var doc = await JsonDocument.ParseAsync(http.Request.Body, default, http.RequestAborted);
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new VectorStoreException(ErrorCode.InvalidArgument, "body: must be a JSON object.", "body");
        }
        return doc.RootElement.Clone();
    }

    /// <summary>Reads the chat fields shared by both endpoints, refusing wrong types with the field's name.</summary>
    internal static RagRequest ParseRequest(JsonElement body)
    {
        List<RagMessage>? messages = null;
        if (Get(body, "messages") is { } list)
        {
            if (list.ValueKind != JsonValueKind.Array)
            {
                throw Invalid("messages", "must be an array of {role, content}.");
            }
            messages = [];
            int i = 0;
            foreach (var m in list.EnumerateArray())
            {
                if (m.ValueKind != JsonValueKind.Object)
                {
                    throw Invalid($"messages[{i}]", "must be an object {role, content}.");
                }
                RefuseUnknownFields(m, MessageFields, $"messages[{i}].", name => $"messages[{i}].{name}: unknown field; a message has role, content and name.");
                messages.Add(new RagMessage(String(m, "role", $"messages[{i}].role") ?? "", Content(m, i)));
                i++;
            }
        }
        IReadOnlyList<string>? stop = Get(body, "stop") switch
        {
            null => null,
            { ValueKind: JsonValueKind.String } s => [Text(s, "stop")],
            { ValueKind: JsonValueKind.Array } a => [.. a.EnumerateArray().Select((e, i) => e.ValueKind == JsonValueKind.String ? Text(e, $"stop[{i}]") : throw Invalid($"stop[{i}]", "must be a string."))],
            _ => throw Invalid("stop", "must be a string or an array of strings."),
        };
        return new RagRequest
        {
            Question = String(body, "question"),
            Messages = messages,
            K = Int(body, "k"),
            Filter = Get(body, "filter") is { } f ? MetadataFilter.Parse(f) : null,
            MaxTokens = Int(body, "max_tokens", "maxTokens") ?? Int(body, "max_completion_tokens"),
            Temperature = Float(body, "temperature"),
            TopK = Int(body, "top_k", "topK"),
            TopP = Float(body, "top_p", "topP"),
            RepetitionPenalty = Float(body, "repetition_penalty", "repetitionPenalty"),
            Seed = Int(body, "seed"),
            Stop = stop,
            Generator = String(body, "generator"),
            Debug = Bool(body, "debug"),
            IgnoreEos = Bool(body, "ignore_eos"),
        };
    }

    private static string Content(JsonElement message, int i)
    {
        var content = Get(message, "content");
        return content switch
        {
            { ValueKind: JsonValueKind.String } s => Text(s, $"messages[{i}].content"),
            // OpenAI's multi-part content: keep the text parts.
            { ValueKind: JsonValueKind.Array } parts => string.Concat(parts.EnumerateArray()
                .Where(p => p.ValueKind == JsonValueKind.Object && p.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
                .Select(p => Text(p.GetProperty("text"), $"messages[{i}].content"))),
            _ => throw Invalid($"messages[{i}].content", "must be a string."),
        };
    }

    internal static JsonElement? Get(JsonElement body, string name, string? alternative = null)
    {
        if (body.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null)
        {
            return value;
        }
        return alternative is not null && body.TryGetProperty(alternative, out value) && value.ValueKind != JsonValueKind.Null ? value : null;
    }

    internal static string? String(JsonElement body, string name, string? field = null) => Get(body, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } s => Text(s, field ?? name),
        _ => throw Invalid(field ?? name, "must be a string."),
    };

    /// <summary>A JSON string as .NET text; an escaped unpaired surrogate ("\ud800") is refused naming the field.</summary>
    private static string Text(JsonElement value, string field)
    {
        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw Invalid(field, "is not valid Unicode text (it holds an unpaired UTF-16 surrogate).");
        }
    }

    /// <summary>Refuses the first property of <paramref name="body"/> not in <paramref name="known"/>, naming it.</summary>
    internal static void RefuseUnknownFields(JsonElement body, HashSet<string> known, string prefix, Func<string, string> message)
    {
        foreach (var property in body.EnumerateObject())
        {
            string name;
            try
            {
                name = property.Name;
            }
            catch (InvalidOperationException)
            {
                throw Invalid(prefix.Length > 0 ? prefix.TrimEnd('.') : "body", "a field name is not valid Unicode text (it holds an unpaired UTF-16 surrogate).");
            }
            if (!known.Contains(name))
            {
                throw new VectorStoreException(ErrorCode.InvalidArgument, message(name), prefix + name);
            }
        }
    }

    private static int? Int(JsonElement body, string name, string? alternative = null) => Get(body, name, alternative) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } n when n.TryGetInt32(out int i) => i,
        _ => throw Invalid(name, "must be an integer."),
    };

    private static float? Float(JsonElement body, string name, string? alternative = null) => Get(body, name, alternative) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } n when n.TryGetSingle(out float f) && float.IsFinite(f) => f,
        _ => throw Invalid(name, "must be a finite number."),
    };

    internal static bool Bool(JsonElement body, string name) => Get(body, name) switch
    {
        null => false,
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        _ => throw Invalid(name, "must be true or false."),
    };

    internal static VectorStoreException Invalid(string field, string message) => new(ErrorCode.InvalidArgument, $"{field}: {message}", field);

    internal static void StartEventStream(HttpContext http)
    {
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        // Proxies (nginx) must not buffer a token stream.
        http.Response.Headers["X-Accel-Buffering"] = "no";
    }

    private static async Task WriteEvent(HttpContext http, string kind, string json, CancellationToken ct)
    {
        await http.Response.WriteAsync($"event: {kind}\ndata: {json}\n\n", ct);
        await http.Response.Body.FlushAsync(ct);
    }

    internal static async Task WriteData(HttpContext http, string data, CancellationToken ct)
    {
        await http.Response.WriteAsync($"data: {data}\n\n", ct);
        await http.Response.Body.FlushAsync(ct);
    }
}

/// <summary>Answer of <c>GET /generators</c>.</summary>
public sealed record GeneratorListDto(IReadOnlyList<GeneratorInfo> Generators);

/// <summary>
/// The body of <c>POST /collections/{name}/chat</c> as the OpenAPI document describes it. ChatApi reads the body by
/// hand (snake_case or camelCase spellings, each wrong field named), so this record describes the contract; the
/// OpenAPI conformance test checks real requests against it.
/// </summary>
public sealed record ChatRequestBody(
    [property: JsonPropertyName("question")] string? Question = null,
    [property: JsonPropertyName("messages")] IReadOnlyList<ChatRequestMessage>? Messages = null,
    [property: JsonPropertyName("k")] int? K = null,
    [property: JsonPropertyName("filter")] JsonElement? Filter = null,
    [property: JsonPropertyName("max_tokens")] int? MaxTokens = null,
    [property: JsonPropertyName("max_completion_tokens")] int? MaxCompletionTokens = null,
    [property: JsonPropertyName("temperature")] float? Temperature = null,
    [property: JsonPropertyName("top_k")] int? TopK = null,
    [property: JsonPropertyName("top_p")] float? TopP = null,
    [property: JsonPropertyName("repetition_penalty")] float? RepetitionPenalty = null,
    [property: JsonPropertyName("seed")] int? Seed = null,
    [property: JsonPropertyName("stop")] JsonElement? Stop = null,
    [property: JsonPropertyName("generator")] string? Generator = null,
    [property: JsonPropertyName("debug")] bool? Debug = null,
    [property: JsonPropertyName("ignore_eos")] bool? IgnoreEos = null,
    [property: JsonPropertyName("stream")] bool? Stream = null);

/// <summary>One earlier turn of the conversation: role <c>user</c> or <c>assistant</c> (or <c>system</c>), content a string.</summary>
public sealed record ChatRequestMessage(
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("content")] JsonElement Content,
    [property: JsonPropertyName("name")] string? Name = null);

public sealed record CitationDto(int Index, string DocumentId, int Chunk, float Score, string Text)
{
    internal static CitationDto From(Citation c) => new(c.Index, c.DocumentId, c.Chunk, c.Score, c.Text);
}

public sealed record UsageDto(int PromptTokens, int CompletionTokens, int TotalTokens);

public sealed record TimingsDto(double RetrievalMs, double QueueMs, double TimeToFirstTokenMs, double GenerationMs, double TotalMs, double TokensPerSecond)
{
    internal static TimingsDto From(RagTimings t) => new(t.RetrievalMs, t.QueueMs, t.TimeToFirstTokenMs, t.GenerationMs, t.TotalMs, t.TokensPerSecond);
}

/// <summary>Response of <c>POST /collections/{name}/chat</c>.</summary>
public sealed record ChatResponseDto(string Answer, IReadOnlyList<CitationDto> Citations, UsageDto Usage, TimingsDto Timings, string Generator, string FinishReason, string? Prompt)
{
    internal static ChatResponseDto From(RagResponse r) => new(r.Answer, [.. r.Citations.Select(CitationDto.From)],
        new UsageDto(r.Usage.PromptTokens, r.Usage.CompletionTokens, r.Usage.TotalTokens), TimingsDto.From(r.Timings), r.Generator, r.FinishReason, r.Prompt);
}

public sealed record CitationsDto(IReadOnlyList<CitationDto> Citations, string Generator);

public sealed record TokenDto(string Text);

public sealed record DoneDto(UsageDto Usage, TimingsDto Timings, string FinishReason, string Generator, string? Prompt)
{
    internal static DoneDto From(RagDoneEvent d) => new(new UsageDto(d.Usage.PromptTokens, d.Usage.CompletionTokens, d.Usage.TotalTokens), TimingsDto.From(d.Timings), d.FinishReason, d.Generator, d.Prompt);
}
