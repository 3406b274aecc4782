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

    /// <summary>
    /// The encoder new text collections and <c>/embed</c> use when a request names none: the one set here
    /// (<c>VectorStore:DefaultEncoder</c>), else the built-in <c>minilm</c> when the build carries it, else <c>demo</c>.
    /// </summary>
    public string DefaultName => _defaultName ?? (_encoders.ContainsKey(PreferredDefault) ? PreferredDefault : DemoEncoder.DefaultName);

    /// <summary>Pins <see cref="DefaultName"/> to a registered encoder, or (null) goes back to the automatic choice.</summary>
    /// <exception cref="ArgumentException">No encoder of that name is registered.</exception>
    public void SetDefault(string? name)
    {
        if (name is not null && !_encoders.ContainsKey(name))
        {
            throw new ArgumentException($"Default encoder '{name}' is not registered; known: {string.Join(", ", _encoders.Keys.Order(StringComparer.Ordinal))}.", nameof(name));
        }
        _defaultName = name;
    }

    /// <summary>The built-in real model preferred as default when present (see <c>BuiltInEncoders</c>).</summary>
    public const string PreferredDefault = "minilm";

    private string? _defaultName;

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
