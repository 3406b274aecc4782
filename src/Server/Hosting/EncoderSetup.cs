using VectorStoreDb.Embedding;
using VectorStoreDb.Embedding.Onnx;

namespace VectorStoreDb.Server.Hosting;

/// <summary>Builds the encoder registry at start-up: the built-in demo encoder plus every <c>VectorStore:Encoders:{name}</c>.</summary>
internal static class EncoderSetup
{
    public const string SectionName = "VectorStore:Encoders";

    /// <summary>
    /// Loads all configured encoders. A broken model folder throws <see cref="EncoderLoadException"/> naming the
    /// file, which stops the host from starting (better than failing at the first request).
    /// </summary>
    public static EncoderRegistry CreateRegistry(IConfiguration configuration, ILoggerFactory loggerFactory)
    {
        var registry = EncoderRegistry.CreateDefault();
        var encoders = configuration.GetSection(SectionName).Get<Dictionary<string, EncoderOptions>>();
        try
        {
            // Relative model paths resolve against the working directory, like DataPath.
            EncoderLoader.LoadInto(registry, encoders, Directory.GetCurrentDirectory(), loggerFactory);
        }
        catch (EncoderLoadException ex)
        {
            loggerFactory.CreateLogger(typeof(EncoderSetup)).LogCritical("Cannot start: {Message} ({File})", ex.Message, ex.FilePath);
            throw;
        }
        return registry;
    }
}
