using VectorStoreDb.Embedding;
using VectorStoreDb.Embedding.Onnx;

namespace VectorStoreDb.Server.Hosting;

/// <summary>
/// Builds the encoder registry at start-up: the built-in demo encoder, the built-in pretrained models
/// (<c>minilm</c>, <c>arctic-xs</c>) when the build carries them, and every <c>VectorStore:Encoders:{name}</c>.
/// </summary>
internal static class EncoderSetup
{
    public const string SectionName = "VectorStore:Encoders";

    public const string DefaultEncoderKey = "VectorStore:DefaultEncoder";

    /// <summary>
    /// Loads all encoders. A broken model folder or built-in model throws <see cref="EncoderLoadException"/> naming
    /// the file, which stops the host from starting (better than failing at the first request).
    /// </summary>
    public static EncoderRegistry CreateRegistry(IConfiguration configuration, ILoggerFactory loggerFactory)
    {
        var registry = EncoderRegistry.CreateDefault();
        var encoders = configuration.GetSection(SectionName).Get<Dictionary<string, EncoderOptions>>();
        var builtIn = configuration.GetSection(BuiltInEncoderOptions.SectionName).Get<BuiltInEncoderOptions>() ?? new BuiltInEncoderOptions();
        var logger = loggerFactory.CreateLogger(typeof(EncoderSetup));
        try
        {
            BuiltInEncoders.AddTo(registry, builtIn, loggerFactory);
            // Relative model paths resolve against the working directory, like DataPath. A configured encoder may
            // take a built-in's name and replace it (a newer export of the same model, say).
            EncoderLoader.LoadInto(registry, encoders, Directory.GetCurrentDirectory(), loggerFactory);
        }
        catch (EncoderLoadException ex)
        {
            logger.LogCritical("Cannot start: {Message} ({File})", ex.Message, ex.FilePath);
            registry.Dispose();
            throw;
        }
        if (configuration[DefaultEncoderKey] is { Length: > 0 } pinned)
        {
            if (!registry.TryGet(pinned, out _))
            {
                registry.Dispose();
                throw new EncoderLoadException(DefaultEncoderKey,
                    $"{DefaultEncoderKey} is '{pinned}', which is not an encoder; known: {string.Join(", ", registry.List().Select(e => e.Name))}.");
            }
            registry.SetDefault(pinned);
        }
        logger.LogInformation("Default encoder for new text collections: {Encoder}", registry.DefaultName);
        return registry;
    }
}
