namespace VectorStoreDb.Embedding;

/// <summary>Turns texts into fixed-size embedding vectors.</summary>
public interface ITextEncoder
{
    /// <summary>The name collections and requests refer to the encoder by (for example <c>demo</c>).</summary>
    string Name { get; }

    /// <summary>Length of every vector this encoder returns.</summary>
    int Dimension { get; }

    /// <summary>Longest input, in tokens, the encoder looks at; longer texts are truncated (or chunked by the caller).</summary>
    int MaxTokens { get; }

    /// <summary>True when returned vectors have unit length.</summary>
    bool Normalized { get; }

    /// <summary>Embeds each text; the result has one vector per input, in order.</summary>
    Task<float[][]> EmbedAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default);

    /// <summary>
    /// Embeds each text as a query or as a document. Retrieval models with asymmetric prompts (arctic-embed) put
    /// their query or document prefix first; symmetric encoders embed both alike, which is what this default does.
    /// </summary>
    Task<float[][]> EmbedAsync(IReadOnlyList<string> texts, EmbeddingInputType inputType, CancellationToken cancellationToken = default) =>
        EmbedAsync(texts, cancellationToken);
}

/// <summary>Describes a registered encoder for listings (<c>GET /models</c>).</summary>
public sealed record EncoderInfo(string Name, int Dimension, int MaxTokens, string Kind);

/// <summary>An encoder that can say how many tokens it reads from a text (usage reporting, chunking decisions).</summary>
public interface ITokenCounter
{
    /// <summary>Tokens the encoder reads from <paramref name="text"/>, special tokens included, after truncation to max tokens.</summary>
    int CountTokens(string text);
}
