using System.Text.Json.Serialization;

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
    [property: JsonPropertyName("citations")] IReadOnlyList<CitationDto> Citations);

/// <summary>A streamed chunk; the first carries <c>citations</c>, the optional last one (no choices) the <c>usage</c>.</summary>
public sealed record OpenAiChunk(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("choices")] IReadOnlyList<OpenAiChoice> Choices,
    [property: JsonPropertyName("usage")] OpenAiUsage? Usage,
    [property: JsonPropertyName("citations")] IReadOnlyList<CitationDto>? Citations);

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
