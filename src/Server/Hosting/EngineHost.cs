using Microsoft.Extensions.Options;
using VectorStore.Embedding;
using VectorStore.Engine;
using VectorStore.Engine.Storage;

namespace VectorStore.Server.Hosting;

/// <summary>
/// Owns the engine's lifetime: opens (recovers) the store when the host starts and closes it on shutdown,
/// so requests never see a half-recovered store and shutdown flushes cleanly.
/// </summary>
public sealed class EngineHost(IOptions<VectorStoreOptions> options, EncoderRegistry encoders, ILoggerFactory loggerFactory) : IHostedService, IDisposable
{
    private VectorStoreEngine? _engine;

    /// <summary>The open engine. Throws while the store is still starting.</summary>
    public VectorStoreEngine Engine => _engine ?? throw new VectorStoreException(ErrorCode.Unavailable, "The store is still starting.");

    public bool IsReady => _engine is not null;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var storage = new LogFileStorageProvider(settings.DataPath, loggerFactory.CreateLogger<LogFileStorageProvider>());
        _engine = new VectorStoreEngine(settings, encoders, storage, loggerFactory.CreateLogger<VectorStoreEngine>());
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        Interlocked.Exchange(ref _engine, null)?.Dispose();
    }
}
