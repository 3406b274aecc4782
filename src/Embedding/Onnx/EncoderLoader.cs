using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace VectorStoreDb.Embedding.Onnx;

/// <summary>Loads the encoders configured under <c>VectorStore:Encoders</c> into an <see cref="EncoderRegistry"/> at start-up.</summary>
public static class EncoderLoader
{
    /// <summary>Registry kind of the encoders this loader adds.</summary>
    public const string OnnxKind = "onnx";

    /// <summary>
    /// Loads every configured encoder and adds it to <paramref name="registry"/>. Relative paths are resolved
    /// against <paramref name="basePath"/> (the content root). All-or-nothing: on the first broken folder the
    /// encoders loaded so far are disposed and an <see cref="EncoderLoadException"/> naming the file is thrown.
    /// </summary>
    public static IReadOnlyList<OnnxTextEncoder> LoadInto(EncoderRegistry registry, IReadOnlyDictionary<string, EncoderOptions>? encoders,
        string? basePath = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        loggerFactory ??= NullLoggerFactory.Instance;
        var loaded = new List<OnnxTextEncoder>();
        if (encoders is null)
        {
            return loaded;
        }
        try
        {
            foreach (var (name, options) in encoders.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                string key = $"VectorStore:Encoders:{name}";
                if (!string.Equals(options.Kind, OnnxKind, StringComparison.OrdinalIgnoreCase))
                {
                    throw new EncoderLoadException($"{key}:Kind", $"{key}:Kind is '{options.Kind}'; only '{OnnxKind}' encoders can be configured.");
                }
                if (string.IsNullOrWhiteSpace(options.Path))
                {
                    throw new EncoderLoadException($"{key}:Path", $"{key}:Path is not set; it must name a model folder holding model.onnx and vocab.txt.");
                }
                string path = basePath is null ? System.IO.Path.GetFullPath(options.Path) : System.IO.Path.GetFullPath(options.Path, basePath);
                var encoder = OnnxTextEncoder.Load(name, path, options, loggerFactory.CreateLogger<OnnxTextEncoder>());
                loaded.Add(encoder);
                registry.Add(encoder, OnnxKind);
            }
        }
        catch
        {
            foreach (var encoder in loaded)
            {
                encoder.Dispose();
            }
            throw;
        }
        return loaded;
    }
}
