using Microsoft.Extensions.AI;

namespace VectorStoreDb.Client;

/// <summary>
/// <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> (Microsoft.Extensions.AI) over a VectorStore client, remote or
/// embedded: any library written against the abstraction (Semantic Kernel, Microsoft.Extensions.VectorData, your own
/// RAG code) can embed with the store's encoders.
/// <code>
/// IEmbeddingGenerator&lt;string, Embedding&lt;float&gt;&gt; generator = client.AsEmbeddingGenerator("minilm");
/// var vectors = await generator.GenerateAsync(["hello world"]);
/// </code>
/// </summary>
public sealed class VectorStoreEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly IVectorStoreClient _client;
    private readonly bool _ownsClient;
    private readonly EmbeddingGeneratorMetadata _metadata;

    /// <param name="client">The store to embed with.</param>
    /// <param name="encoder">Default encoder (model) name; <see cref="EmbeddingGenerationOptions.ModelId"/> overrides it per call.</param>
    /// <param name="dimensions">The encoder's dimension when known (reported in metadata, checked against <see cref="EmbeddingGenerationOptions.Dimensions"/>).</param>
    /// <param name="ownsClient">Dispose <paramref name="client"/> with this generator.</param>
    public VectorStoreEmbeddingGenerator(IVectorStoreClient client, string encoder = "demo", int? dimensions = null, bool ownsClient = false)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(encoder);
        _client = client;
        _ownsClient = ownsClient;
        Encoder = encoder;
        _metadata = new EmbeddingGeneratorMetadata("vectorstore", defaultModelId: encoder, defaultModelDimensions: dimensions);
    }

    /// <summary>The default encoder name.</summary>
    public string Encoder { get; }

    /// <summary>Key of <see cref="EmbeddingGenerationOptions.AdditionalProperties"/> that asks for the query form: <c>input_type</c> = <c>query</c>.</summary>
    public const string InputTypeProperty = "input_type";

    /// <inheritdoc />
    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        string[] texts = [.. values];
        string model = options?.ModelId ?? Encoder;
        var result = new GeneratedEmbeddings<Embedding<float>>(texts.Length);
        if (texts.Length == 0)
        {
            return result;
        }
        // Microsoft.Extensions.AI has no query/document switch; callers pass AdditionalProperties["input_type"] = "query".
        var inputType = options?.AdditionalProperties?.TryGetValue(InputTypeProperty, out var kind) == true
            && string.Equals(kind?.ToString(), "query", StringComparison.OrdinalIgnoreCase) ? EmbeddingInputType.Query : EmbeddingInputType.Document;
        var vectors = await _client.EmbedAsync(texts, model, inputType, cancellationToken).ConfigureAwait(false);
        if (options?.Dimensions is int wanted && vectors.Count > 0 && vectors[0].Length != wanted)
        {
            throw new ArgumentException($"Encoder '{model}' produces {vectors[0].Length} dimensions, not {wanted}; it cannot shorten vectors.", nameof(options));
        }
        var created = DateTimeOffset.UtcNow;
        foreach (var vector in vectors)
        {
            result.Add(new Embedding<float>(vector) { ModelId = model, CreatedAt = created });
        }
        return result;
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }
        if (serviceType == typeof(EmbeddingGeneratorMetadata))
        {
            return _metadata;
        }
        return serviceType.IsInstanceOfType(this) ? this : serviceType.IsInstanceOfType(_client) ? _client : null;
    }

    public void Dispose()
    {
        if (_ownsClient)
        {
            _client.Dispose();
        }
    }
}

/// <summary>Adapters from a VectorStore client to Microsoft.Extensions.AI abstractions.</summary>
public static class VectorStoreClientAIExtensions
{
    /// <summary>An <see cref="IEmbeddingGenerator{String, Embedding}"/> that embeds with <paramref name="encoder"/> on this store.</summary>
    public static IEmbeddingGenerator<string, Embedding<float>> AsEmbeddingGenerator(this IVectorStoreClient client, string encoder = "demo", int? dimensions = null) =>
        new VectorStoreEmbeddingGenerator(client, encoder, dimensions);
}
