namespace VectorStoreDb.Embedding.Onnx;

/// <summary>
/// An encoder could not be loaded from its model folder (missing or broken file, bad setting). Thrown at start-up so
/// the server refuses to start instead of failing at the first request; <see cref="FilePath"/> names the culprit.
/// </summary>
public sealed class EncoderLoadException : Exception
{
    public EncoderLoadException(string filePath, string message, Exception? inner = null) : base(message, inner) => FilePath = filePath;

    /// <summary>The file (or configuration key) that is missing or invalid.</summary>
    public string FilePath { get; }
}
