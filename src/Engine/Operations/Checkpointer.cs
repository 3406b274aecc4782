using Microsoft.Extensions.Logging;
using VectorStoreDb.Engine.Catalog;

namespace VectorStoreDb.Engine.Operations;

/// <summary>
/// Checkpoints collections on demand and, every <see cref="DurabilityOptions.CheckpointIntervalSeconds"/>, in the
/// background, so a restart loads checkpoints instead of replaying long logs.
/// </summary>
internal sealed class Checkpointer(CollectionCatalog catalog, DurabilityOptions durability, ILogger logger) : IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    /// <summary>Starts the background loop (once recovery has finished); does nothing when the interval is 0.</summary>
    public void Start()
    {
        if (durability.CheckpointIntervalSeconds > 0)
        {
            _loop = Task.Run(LoopAsync);
        }
    }

    /// <summary>
    /// Checkpoints every shard with writes no checkpoint covers yet (or every shard when <paramref name="force"/>),
    /// then truncates their logs. A collection deleted meanwhile is skipped: its lease keeps it open until done.
    /// </summary>
    public async Task<int> CheckpointAsync(bool force, CancellationToken cancellationToken)
    {
        catalog.ThrowIfNotReady();
        var leases = catalog.AcquireAll();
        int written = 0;
        try
        {
            foreach (var lease in leases)
            {
                written += await lease.Collection.CheckpointAsync(force, cancellationToken);
            }
        }
        finally
        {
            foreach (var lease in leases)
            {
                lease.Dispose();
            }
        }
        return written;
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(durability.CheckpointIntervalSeconds));
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                try
                {
                    await CheckpointAsync(force: false, _stopping.Token);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
                {
                    logger.LogError(ex, "Background checkpoint failed; the log keeps every write until the next one succeeds");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Stops the loop and waits for a checkpoint in progress to end.</summary>
    public void Dispose()
    {
        _stopping.Cancel();
        try
        {
            _loop?.Wait();
        }
        catch (AggregateException ex)
        {
            logger.LogWarning(ex, "Background checkpointing ended with an error during shutdown");
        }
        _stopping.Dispose();
    }
}
