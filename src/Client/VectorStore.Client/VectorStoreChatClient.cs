using System.Runtime.CompilerServices;
using System.Text.Json;
using Google.Protobuf;
using Struct = Google.Protobuf.WellKnownTypes.Struct;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.AI;
using V1 = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.Client;

/// <summary>A passage an answer cites as [<see cref="Index"/>].</summary>
public sealed record ChatCitation(int Index, string DocumentId, int Chunk, float Score, string Text);

/// <summary>
/// <see cref="IChatClient"/> (Microsoft.Extensions.AI) over a VectorStore server's RAG chat (gRPC
/// <c>Rag.Chat</c>) for one collection. <see cref="ChatOptions.ModelId"/> picks the server's generator;
/// <see cref="ChatOptions.AdditionalProperties"/> may carry <c>k</c> (int), <c>filter</c> (JSON text, e.g.
/// <c>{"topic":"pets"}</c>) and <c>repetition_penalty</c> (float). Citations come back as
/// <see cref="CitationAnnotation"/>s on the answer text and as <c>AdditionalProperties["citations"]</c>.
/// Cancelling stops the server's generation.
/// </summary>
public sealed class VectorStoreChatClient : IChatClient
{
    private readonly V1.Rag.RagClient _client;
    private readonly GrpcChannel? _ownedChannel;
    private readonly string _collection;
    private readonly ChatClientMetadata _metadata;
    private readonly Metadata? _headers;

    /// <summary>Chat over <paramref name="collection"/> on the server at <paramref name="address"/> (the gRPC endpoint).</summary>
    public VectorStoreChatClient(Uri address, string collection)
        : this(GrpcChannel.ForAddress(address), collection, ownsChannel: true)
    {
    }

    /// <summary>
    /// Chat over <paramref name="collection"/> on the server at <paramref name="address"/>, sending
    /// <see cref="VectorStoreClientOptions.ApiKey"/> (as <c>authorization: Bearer</c>) on every call.
    /// </summary>
    public VectorStoreChatClient(Uri address, string collection, VectorStoreClientOptions? options)
        : this(GrpcChannel.ForAddress(address), collection, ownsChannel: true)
    {
        if (!string.IsNullOrEmpty(options?.ApiKey))
        {
            _headers = new Metadata { { "authorization", $"Bearer {options.ApiKey}" } };
        }
    }

    /// <summary>Chat over <paramref name="collection"/> through an existing channel (not disposed by this client unless <paramref name="ownsChannel"/>).</summary>
    public VectorStoreChatClient(GrpcChannel channel, string collection, bool ownsChannel = false)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentException.ThrowIfNullOrEmpty(collection);
        _client = new V1.Rag.RagClient(channel);
        _ownedChannel = ownsChannel ? channel : null;
        _collection = collection;
        _metadata = new ChatClientMetadata("vectorstore", new Uri(channel.Target.Contains("://", StringComparison.Ordinal) ? channel.Target : $"http://{channel.Target}"), null);
    }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var text = new System.Text.StringBuilder();
        IReadOnlyList<ChatCitation> citations = [];
        V1.ChatDone? done = null;
        await foreach (var e in StreamAsync(messages, options, cancellationToken).ConfigureAwait(false))
        {
            switch (e.EventCase)
            {
                case V1.ChatEvent.EventOneofCase.Citations:
                    citations = ToCitations(e.Citations);
                    break;
                case V1.ChatEvent.EventOneofCase.Token:
                    text.Append(e.Token);
                    break;
                case V1.ChatEvent.EventOneofCase.Done:
                    done = e.Done;
                    break;
            }
        }
        var content = new TextContent(text.ToString()) { Annotations = [.. citations.Select(ToAnnotation)] };
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, [content]))
        {
            ModelId = done?.Generator,
            FinishReason = done?.FinishReason == "length" ? ChatFinishReason.Length : ChatFinishReason.Stop,
            Usage = done is null ? null : ToUsage(done.Usage),
            AdditionalProperties = new AdditionalPropertiesDictionary { ["citations"] = citations },
        };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string responseId = Guid.NewGuid().ToString("N");
        await foreach (var e in StreamAsync(messages, options, cancellationToken).ConfigureAwait(false))
        {
            switch (e.EventCase)
            {
                case V1.ChatEvent.EventOneofCase.Citations:
                    var citations = ToCitations(e.Citations);
                    yield return new ChatResponseUpdate(ChatRole.Assistant, [new TextContent("") { Annotations = [.. citations.Select(ToAnnotation)] }])
                    {
                        ResponseId = responseId,
                        ModelId = e.Citations.Generator,
                        AdditionalProperties = new AdditionalPropertiesDictionary { ["citations"] = citations },
                    };
                    break;
                case V1.ChatEvent.EventOneofCase.Token:
                    yield return new ChatResponseUpdate(ChatRole.Assistant, e.Token) { ResponseId = responseId };
                    break;
                case V1.ChatEvent.EventOneofCase.Done:
                    yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(ToUsage(e.Done.Usage))])
                    {
                        ResponseId = responseId,
                        ModelId = e.Done.Generator,
                        FinishReason = e.Done.FinishReason == "length" ? ChatFinishReason.Length : ChatFinishReason.Stop,
                    };
                    break;
            }
        }
    }

    private async IAsyncEnumerable<V1.ChatEvent> StreamAsync(IEnumerable<ChatMessage> messages, ChatOptions? options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var call = _client.Chat(ToRequest(messages, options), _headers, cancellationToken: cancellationToken);
        await foreach (var e in call.ResponseStream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return e;
        }
    }

    private V1.ChatRequest ToRequest(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var request = new V1.ChatRequest { Collection = _collection };
        request.Messages.Add(messages.Select(m => new V1.ChatMessage { Role = m.Role.Value, Content = m.Text }));
        if (options is not null)
        {
            if (options.MaxOutputTokens is { } max)
            {
                request.MaxTokens = max;
            }
            if (options.Temperature is { } t)
            {
                request.Temperature = t;
            }
            if (options.TopK is { } topK)
            {
                request.TopK = topK;
            }
            if (options.TopP is { } topP)
            {
                request.TopP = topP;
            }
            if (options.Seed is { } seed)
            {
                request.Seed = unchecked((int)seed);
            }
            if (options.StopSequences is { Count: > 0 } stop)
            {
                request.Stop.Add(stop);
            }
            if (options.ModelId is { } generator)
            {
                request.Generator = generator;
            }
            var props = options.AdditionalProperties;
            if (props?.TryGetValue("k", out int k) == true)
            {
                request.K = k;
            }
            if (props?.TryGetValue("repetition_penalty", out float penalty) == true)
            {
                request.RepetitionPenalty = penalty;
            }
            if (props?.TryGetValue("filter", out object? filter) == true && filter is not null)
            {
                string json = filter is JsonElement element ? element.GetRawText() : filter.ToString()!;
                request.Filter = JsonParser.Default.Parse<Struct>(json);
            }
        }
        return request;
    }

    private static List<ChatCitation> ToCitations(V1.ChatCitations citations) =>
        [.. citations.Citations.Select(c => new ChatCitation(c.Index, c.DocumentId, c.Chunk, c.Score, c.Text))];

    private static CitationAnnotation ToAnnotation(ChatCitation c) => new() { Title = $"[{c.Index}] {c.DocumentId}", FileId = c.DocumentId, Snippet = c.Text };

    private static UsageDetails ToUsage(V1.ChatUsage usage) =>
        new() { InputTokenCount = usage.PromptTokens, OutputTokenCount = usage.CompletionTokens, TotalTokenCount = usage.TotalTokens };

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(ChatClientMetadata) ? _metadata
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    public void Dispose() => _ownedChannel?.Dispose();
}
