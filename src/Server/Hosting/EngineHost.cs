using Microsoft.Extensions.Options;
using VectorStoreDb.Embedding;
using VectorStoreDb.Engine;
using VectorStoreDb.Engine.Storage;

namespace VectorStoreDb.Server.Hosting;

/// <summary>
/// Owns the engine's lifetime: opens the store when the host starts (recovery runs in the background, so the
/// server listens at once and <c>/readyz</c> answers 503 until it is done; requests meanwhile get Unavailable)
/// and closes it on shutdown, which flushes the log and writes checkpoints.
/// </summary>
public sealed class EngineHost(IOptions<VectorStoreOptions> options, EncoderRegistry encoders, ILoggerFactory loggerFactory) : IHostedService, IDisposable
{
    private VectorStoreEngine? _engine;

    /// <summary>The open engine. Throws while the store is still starting.</summary>
    public VectorStoreEngine Engine => _engine ?? throw new VectorStoreException(ErrorCode.Unavailable, "The store is still starting.");

    /// <summary>True once the store has recovered every collection it could.</summary>
    public bool IsReady => _engine is { State: EngineState.Ready };

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        settings.RecoverInBackground = true;
        var storage = new FasterStorageProvider(settings.DataPath, settings.Durability, loggerFactory);
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
