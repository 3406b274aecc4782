using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using VectorStoreDb.Embedding;
using VectorStoreDb.Engine;
using VectorStoreDb.Server.Operations;
using VectorStoreDb.Server.Rest.OpenAi;

namespace VectorStoreDb.Server.Rest;

/// <summary>
/// <c>POST /v1/embeddings</c> in the shape of OpenAI's embeddings API, so existing OpenAI SDKs and tools can point at
/// this server (base URL <c>http://host:6333/v1</c>). <c>input</c> is a string or an array of strings;
/// <c>encoding_format</c> <c>float</c> (default) or <c>base64</c> (little-endian float32, what the OpenAI Python SDK asks for).
/// </summary>
public static class OpenAiEmbeddingsApi
{
    public static IEndpointRouteBuilder MapOpenAiEmbeddings(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/embeddings", async (OpenAiEmbeddingsRequest body, VectorStoreEngine engine, CancellationToken cancellationToken) =>
        {
            if (string.IsNullOrWhiteSpace(body.Model))
            {
                throw Invalid("model", $"required; known models: {string.Join(", ", engine.Encoders.List().Select(e => e.Name))}.");
            }
            var texts = ReadInput(body.Input);
            bool base64 = body.EncodingFormat switch
            {
                null or "float" => false,
                "base64" => true,
                _ => throw Invalid("encoding_format", "must be 'float' or 'base64'."),
            };
            if (!EmbeddingInputTypes.TryParse(body.InputType, out var inputType))
            {
                throw Invalid("input_type", $"must be 'query' or 'document', was '{body.InputType}'.");
            }
            if (!engine.Encoders.TryGet(body.Model, out var encoder))
            {
                throw OpenAiRequestException.ModelNotFound(body.Model, $"embedding models are the encoders: {string.Join(", ", engine.Encoders.List().Select(e => e.Name))}.");
            }
            if (body.Dimensions is int dimensions && dimensions != encoder.Dimension)
            {
                throw Invalid("dimensions", $"model '{encoder.Name}' produces {encoder.Dimension} dimensions; it cannot shorten them.");
            }
            float[][] vectors;
            try
            {
                vectors = await engine.EmbedAsync(texts, encoder.Name, inputType, cancellationToken);
            }
            catch (VectorStoreException e) when (e.Field?.StartsWith("texts", StringComparison.Ordinal) == true)
            {
                // The engine names its own parameter; OpenAI clients sent 'input'.
                string field = "input" + e.Field["texts".Length..];
                throw new VectorStoreException(e.Code, field + e.Message[Math.Min(e.Message.Length, e.Field.Length)..], field);
            }
            var data = new OpenAiEmbedding[vectors.Length];
            for (int i = 0; i < vectors.Length; i++)
            {
                object embedding = base64 ? Convert.ToBase64String(MemoryMarshal.AsBytes(vectors[i].AsSpan())) : vectors[i];
                data[i] = new OpenAiEmbedding("embedding", embedding, i);
            }
            int tokens = encoder is ITokenCounter counter ? texts.Sum(counter.CountTokens) : 0;
            return TypedResults.Ok(new OpenAiEmbeddingsResponse("list", data, encoder.Name, new OpenAiEmbeddingUsage(tokens, tokens)));
        }).WithTags("OpenAI").WithName("createEmbedding").RequireReadKey().ProducesProblem(StatusCodes.Status404NotFound).WithSummary("OpenAI-compatible embeddings: {\"model\", \"input\"} → {\"data\":[{\"embedding\"}]}.");
        return app;
    }

    private static VectorStoreException Invalid(string field, string message) => new(ErrorCode.InvalidArgument, $"{field}: {message}", field);

    private static string[] ReadInput(JsonElement input) => input.ValueKind switch
    {
        JsonValueKind.String => [input.GetString()!],
        JsonValueKind.Array => [.. input.EnumerateArray().Select((e, i) => e.ValueKind == JsonValueKind.String
            ? e.GetString()!
            : throw Invalid($"input[{i}]", "must be a string (token-id input is not supported)."))],
        JsonValueKind.Undefined or JsonValueKind.Null => throw Invalid("input", "required: a string or an array of strings."),
        _ => throw Invalid("input", "must be a string or an array of strings."),
    };
}

public sealed record OpenAiEmbeddingsRequest(
    [property: JsonPropertyName("model")] string? Model,
    [property: JsonPropertyName("input")] JsonElement Input,
    [property: JsonPropertyName("encoding_format")] string? EncodingFormat = null,
    [property: JsonPropertyName("dimensions")] int? Dimensions = null,
    [property: JsonPropertyName("user")] string? User = null,
    // Not in OpenAI's API (its models are symmetric); Voyage and Cohere name the same switch input_type.
    [property: JsonPropertyName("input_type")] string? InputType = null);

public sealed record OpenAiEmbedding(
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("embedding")] object Embedding,
    [property: JsonPropertyName("index")] int Index);

public sealed record OpenAiEmbeddingUsage(
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("total_tokens")] int TotalTokens);

public sealed record OpenAiEmbeddingsResponse(
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("data")] IReadOnlyList<OpenAiEmbedding> Data,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("usage")] OpenAiEmbeddingUsage Usage);
