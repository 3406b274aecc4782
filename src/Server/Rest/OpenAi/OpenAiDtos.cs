using System.Text.Json;
using System.Text.Json.Serialization;
using VectorStoreDb.Rag;

namespace VectorStoreDb.Server.Rest.OpenAi;

// OpenAI's wire names, exactly (snake_case), independent of the API's camelCase policy.

public sealed record OpenAiMessage([property: JsonPropertyName("role")] string? Role, [property: JsonPropertyName("content")] string? Content);

public sealed record OpenAiChoice(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("message")] OpenAiMessage? Message,
    [property: JsonPropertyName("delta")] OpenAiMessage? Delta,
    // OpenAI sends "finish_reason": null on every chunk but the last; some clients expect the key.
    [property: JsonPropertyName("finish_reason"), JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? FinishReason);

public sealed record OpenAiUsage(
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("completion_tokens")] int CompletionTokens,
    [property: JsonPropertyName("total_tokens")] int TotalTokens);

/// <summary>A chat completion; <c>citations</c> (an extension of OpenAI's shape) lists the passages the answer cites as [n].</summary>
public sealed record OpenAiCompletion(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("choices")] IReadOnlyList<OpenAiChoice> Choices,
    [property: JsonPropertyName("usage")] OpenAiUsage Usage,
    [property: JsonPropertyName("citations")] IReadOnlyList<OpenAiCitation> Citations);

/// <summary>A streamed chunk; the first carries <c>citations</c>, the optional last one (no choices) the <c>usage</c>.</summary>
public sealed record OpenAiChunk(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("choices")] IReadOnlyList<OpenAiChoice> Choices,
    [property: JsonPropertyName("usage")] OpenAiUsage? Usage,
    [property: JsonPropertyName("citations")] IReadOnlyList<OpenAiCitation>? Citations);

/// <summary>One entry of <c>/v1/models</c>; <c>kind</c> (an extension) is <c>collection</c>, <c>generator</c> or <c>encoder</c>.</summary>
public sealed record OpenAiModel(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("owned_by")] string OwnedBy,
    [property: JsonPropertyName("kind")] string Kind);

public sealed record OpenAiModelList(
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("data")] IReadOnlyList<OpenAiModel> Data);

/// <summary>A passage the answer cites as [n] (an extension of OpenAI's shape), in snake_case like the rest of it.</summary>
public sealed record OpenAiCitation(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("document_id")] string DocumentId,
    [property: JsonPropertyName("chunk")] int Chunk,
    [property: JsonPropertyName("score")] float Score,
    [property: JsonPropertyName("text")] string Text)
{
    internal static OpenAiCitation From(Citation c) => new(c.Index, c.DocumentId, c.Chunk, c.Score, c.Text);
}

/// <summary>
/// The body of <c>POST /v1/chat/completions</c> as the OpenAPI document describes it: OpenAI's fields this server
/// honours plus its extensions. OpenAiChatApi reads the body by hand (to name each refused parameter the way OpenAI
/// does), so this record describes the contract; the OpenAPI conformance test checks real requests against it.
/// </summary>
public sealed record OpenAiChatRequest(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("messages")] IReadOnlyList<OpenAiChatRequestMessage> Messages,
    [property: JsonPropertyName("collection")] string? Collection = null,
    [property: JsonPropertyName("stream")] bool? Stream = null,
    [property: JsonPropertyName("stream_options")] OpenAiStreamOptions? StreamOptions = null,
    [property: JsonPropertyName("max_tokens")] int? MaxTokens = null,
    [property: JsonPropertyName("max_completion_tokens")] int? MaxCompletionTokens = null,
    [property: JsonPropertyName("temperature")] float? Temperature = null,
    [property: JsonPropertyName("top_p")] float? TopP = null,
    [property: JsonPropertyName("seed")] int? Seed = null,
    [property: JsonPropertyName("stop")] JsonElement? Stop = null,
    [property: JsonPropertyName("user")] string? User = null,
    [property: JsonPropertyName("k")] int? K = null,
    [property: JsonPropertyName("filter")] JsonElement? Filter = null,
    [property: JsonPropertyName("generator")] string? Generator = null,
    [property: JsonPropertyName("top_k")] int? TopK = null,
    [property: JsonPropertyName("repetition_penalty")] float? RepetitionPenalty = null);

/// <summary>A message: role <c>system</c>, <c>developer</c>, <c>user</c> or <c>assistant</c>; content a string or OpenAI's text parts.</summary>
public sealed record OpenAiChatRequestMessage(
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("content")] JsonElement Content,
    [property: JsonPropertyName("name")] string? Name = null);

/// <summary><c>stream_options</c>: <c>include_usage</c> adds a last chunk with the usage and no choices.</summary>
public sealed record OpenAiStreamOptions([property: JsonPropertyName("include_usage")] bool? IncludeUsage = null);
