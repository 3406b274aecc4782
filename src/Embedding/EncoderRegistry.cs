namespace VectorStoreDb.Embedding;

/// <summary>
/// The encoders a server or embedded store knows, by name (case-insensitive). Disposing the registry disposes the
/// encoders it holds (ONNX sessions own native memory and a batching thread).
/// </summary>
public sealed class EncoderRegistry : IDisposable
{
    private readonly Dictionary<string, ITextEncoder> _encoders = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> _kinds = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>A registry holding only the built-in demo encoder.</summary>
    public static EncoderRegistry CreateDefault()
    {
        var registry = new EncoderRegistry();
        registry.Add(new DemoEncoder(), "demo");
        return registry;
    }

    public void Add(ITextEncoder encoder, string kind)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        _encoders[encoder.Name] = encoder;
        _kinds[encoder.Name] = kind;
    }

    public bool TryGet(string name, out ITextEncoder encoder) => _encoders.TryGetValue(name, out encoder!);

    public IReadOnlyList<EncoderInfo> List() =>
        [.. _encoders.Values.OrderBy(e => e.Name, StringComparer.Ordinal).Select(e => new EncoderInfo(e.Name, e.Dimension, e.MaxTokens, _kinds[e.Name]))];

    public void Dispose()
    {
        foreach (var encoder in _encoders.Values)
        {
            (encoder as IDisposable)?.Dispose();
        }
    }
}
