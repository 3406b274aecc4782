namespace VectorStoreDb.Embedding.Onnx;

/// <summary>How a sentence encoder turns token states into one vector.</summary>
public enum EncoderPooling
{
    /// <summary>Mean over the tokens the attention mask keeps (sentence-transformers' default).</summary>
    Mean,

    /// <summary>The state of the first (<c>[CLS]</c>) token.</summary>
    Cls,
}

/// <summary>
/// The resolved settings of a loaded encoder model: how many tokens it reads, how it pools and normalises, and the
/// prefixes put before queries and documents (retrieval models such as arctic-embed embed the two differently).
/// </summary>
public sealed record EncoderModelSettings(int MaxTokens, bool Normalize, EncoderPooling Pooling, string QueryPrefix = "", string DocumentPrefix = "");
