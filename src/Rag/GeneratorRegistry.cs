using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VectorStoreDb.Engine;

namespace VectorStoreDb.Rag;

/// <summary>A generator as listings show it.</summary>
public sealed record GeneratorInfo(string Name, string Kind, int? ContextWindow, int MaxConcurrent, int QueueLimit, bool IsDefault);

/// <summary>
/// The generators a server or embedded store knows, by name (case-insensitive): the built-in
/// <c>extractive</c> one plus every configured ONNX decoder, all loaded up front so a bad folder is a
/// start-up error naming the setting and the missing file.
/// </summary>
public sealed class GeneratorRegistry : IDisposable
{
    private readonly Dictionary<string, IRagGenerator> _generators = new(StringComparer.OrdinalIgnoreCase);

    public GeneratorRegistry(RagOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<GeneratorRegistry>();
        _generators[ExtractiveGenerator.DefaultName] = new ExtractiveGenerator(options.Rag.ExtractiveSentences);
        string? firstDecoder = null;
        try
        {
            foreach (var (name, generator) in options.Generators.OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                string key = $"VectorStore:Generators:{name}";
                if (string.Equals(name, ExtractiveGenerator.DefaultName, StringComparison.OrdinalIgnoreCase))
                {
                    throw new VectorStoreException(ErrorCode.InvalidArgument, $"{key}: '{ExtractiveGenerator.DefaultName}' is the built-in generator's name; pick another.", key);
                }
                if (string.IsNullOrWhiteSpace(generator.Path))
                {
                    throw new VectorStoreException(ErrorCode.InvalidArgument, $"{key}:Path is required (the decoder's model folder).", $"{key}:Path");
                }
                DecoderModel model;
                try
                {
                    model = DecoderModel.Load(Path.GetFullPath(generator.Path), generator.IntraOpThreads, generator.Template, generator.ModelFile);
                }
                catch (VectorStoreException ex)
                {
                    throw new VectorStoreException(ex.Code, $"{key}:Path: {ex.Message}", $"{key}:Path");
                }
                _generators[name] = new OnnxRagGenerator(name, model, new GenerationLimiter(name, generator.MaxConcurrent, generator.QueueLimit));
                firstDecoder ??= name;
                logger.LogInformation("Loaded generator {Generator} from {Path}: {Layers} layers, context {Context}, vocabulary {Vocab}, {Template} template",
                    name, model.Folder, model.Decoder.NumLayers, model.ContextWindow, model.Decoder.VocabSize, model.Prompts.Template);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
        string? configured = options.Rag.DefaultGenerator;
        if (configured is not null && !_generators.ContainsKey(configured))
        {
            Dispose();
            throw new VectorStoreException(ErrorCode.InvalidArgument, $"VectorStore:Rag:DefaultGenerator: unknown generator '{configured}'; known: {string.Join(", ", _generators.Keys.Order())}.", "VectorStore:Rag:DefaultGenerator");
        }
        DefaultName = configured is not null ? _generators[configured].Name : firstDecoder ?? ExtractiveGenerator.DefaultName;
    }

    /// <summary>A registry with only the extractive generator (the embedded default).</summary>
    public static GeneratorRegistry CreateDefault() => new(new RagOptions());

    public string DefaultName { get; }

    /// <summary>The named generator, or the default when <paramref name="name"/> is null; unknown names are refused.</summary>
    public IRagGenerator Get(string? name)
    {
        name ??= DefaultName;
        return _generators.TryGetValue(name, out var generator)
            ? generator
            : throw new VectorStoreException(ErrorCode.InvalidArgument, $"generator: unknown generator '{name}'; known: {string.Join(", ", _generators.Keys.Order())}.", "generator");
    }

    public IReadOnlyList<GeneratorInfo> List() =>
        [.. _generators.Values.OrderBy(g => g.Name, StringComparer.Ordinal).Select(g => new GeneratorInfo(
            g.Name, g.Kind, (g as OnnxRagGenerator)?.Model.ContextWindow, g.Limiter.MaxConcurrent, g.Limiter.QueueLimit,
            string.Equals(g.Name, DefaultName, StringComparison.OrdinalIgnoreCase)))];

    public void Dispose()
    {
        foreach (var generator in _generators.Values)
        {
            (generator as IDisposable)?.Dispose();
        }
        _generators.Clear();
    }
}
