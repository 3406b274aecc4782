using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.AI;
using VectorStoreDb.Engine;
using VectorStoreDb.Engine.Filtering;

namespace VectorStoreDb.Rag;

/// <summary>
/// <see cref="IChatClient"/> (Microsoft.Extensions.AI) over in-process RAG on one collection, so code written
/// for any chat model can answer from a VectorStore collection. <see cref="ChatOptions.ModelId"/> picks the
/// generator; <see cref="ChatOptions.AdditionalProperties"/> may carry <c>k</c>, <c>filter</c> (JSON text or
/// element), <c>repetition_penalty</c>. Citations come back as <see cref="CitationAnnotation"/>s on the answer
/// text and as <c>AdditionalProperties["citations"]</c>.
/// </summary>
public sealed class RagChatClient(RagService rag, string collection) : IChatClient
{
    private readonly ChatClientMetadata _metadata = new("vectorstore", null, rag.Generators.DefaultName);

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var r = await rag.ChatAsync(collection, ToRequest(messages, options), cancellationToken).ConfigureAwait(false);
        var text = new TextContent(r.Answer) { Annotations = [.. r.Citations.Select(ToAnnotation)] };
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, [text]))
        {
            ModelId = r.Generator,
            FinishReason = r.FinishReason == "length" ? ChatFinishReason.Length : ChatFinishReason.Stop,
            Usage = new UsageDetails { InputTokenCount = r.Usage.PromptTokens, OutputTokenCount = r.Usage.CompletionTokens, TotalTokenCount = r.Usage.TotalTokens },
            AdditionalProperties = new AdditionalPropertiesDictionary { ["citations"] = r.Citations, ["timings"] = r.Timings },
        };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string responseId = Guid.NewGuid().ToString("N");
        await foreach (var e in rag.ChatStreamAsync(collection, ToRequest(messages, options), cancellationToken).ConfigureAwait(false))
        {
            switch (e)
            {
                case RagCitationsEvent c:
                    yield return new ChatResponseUpdate(ChatRole.Assistant, [new TextContent("") { Annotations = [.. c.Citations.Select(ToAnnotation)] }])
                    {
                        ResponseId = responseId,
                        ModelId = c.Generator,
                        AdditionalProperties = new AdditionalPropertiesDictionary { ["citations"] = c.Citations },
                    };
                    break;
                case RagTokenEvent t:
                    yield return new ChatResponseUpdate(ChatRole.Assistant, t.Text) { ResponseId = responseId };
                    break;
                case RagDoneEvent d:
                    yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(new UsageDetails
                    {
                        InputTokenCount = d.Usage.PromptTokens,
                        OutputTokenCount = d.Usage.CompletionTokens,
                        TotalTokenCount = d.Usage.TotalTokens,
                    })])
                    {
                        ResponseId = responseId,
                        ModelId = d.Generator,
                        FinishReason = d.FinishReason == "length" ? ChatFinishReason.Length : ChatFinishReason.Stop,
                    };
                    break;
            }
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(ChatClientMetadata) ? _metadata
        : serviceType.IsInstanceOfType(this) ? this
        : serviceType == typeof(RagService) ? rag
        : null;

    public void Dispose()
    {
    }

    private static CitationAnnotation ToAnnotation(Citation c) => new() { Title = $"[{c.Index}] {c.DocumentId}", FileId = c.DocumentId, Snippet = c.Text };

    internal static RagRequest ToRequest(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var props = options?.AdditionalProperties;
        return new RagRequest
        {
            Messages = [.. messages.Select(m => new RagMessage(m.Role.Value, m.Text))],
            K = props?.TryGetValue("k", out int k) == true ? k : null,
            Filter = props?.TryGetValue("filter", out object? filter) == true ? ParseFilter(filter) : null,
            RepetitionPenalty = props?.TryGetValue("repetition_penalty", out float penalty) == true ? penalty : null,
            MaxTokens = options?.MaxOutputTokens,
            Temperature = options?.Temperature,
            TopK = options?.TopK,
            TopP = options?.TopP,
            Seed = options?.Seed is { } seed ? unchecked((int)seed) : null,
            Stop = options?.StopSequences is { Count: > 0 } stop ? [.. stop] : null,
            Generator = options?.ModelId,
        };
    }

    private static MetadataFilter? ParseFilter(object? filter) => filter switch
    {
        null => null,
        MetadataFilter f => f,
        JsonElement e => MetadataFilter.Parse(e),
        string json => MetadataFilter.Parse(JsonDocument.Parse(json).RootElement),
        _ => throw new VectorStoreException(ErrorCode.InvalidArgument, "filter: pass a MetadataFilter, a JsonElement or JSON text.", "filter"),
    };
}
