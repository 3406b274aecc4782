using VectorStoreDb.Engine;

namespace VectorStoreDb.Rag;

/// <summary>
/// Bounds concurrent generations (a decoder saturates the CPU, so more at once only makes each slower) and
/// how many may wait; beyond the queue a request is refused at once with <see cref="ErrorCode.Busy"/>.
/// </summary>
public sealed class GenerationLimiter(string name, int maxConcurrent, int queueLimit) : IDisposable
{
    private readonly SemaphoreSlim _slots = new(maxConcurrent, maxConcurrent);
    private int _admitted;

    public int MaxConcurrent { get; } = maxConcurrent;

    public int QueueLimit { get; } = queueLimit;

    /// <summary>Generations running or waiting.</summary>
    public int InFlight => Volatile.Read(ref _admitted);

    /// <summary>Waits for a slot; dispose the result to free it.</summary>
    public async ValueTask<Lease> AcquireAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _admitted) > MaxConcurrent + QueueLimit)
        {
            Interlocked.Decrement(ref _admitted);
            throw new VectorStoreException(ErrorCode.Busy,
                $"Generator '{name}' is busy: {MaxConcurrent} generations running and {QueueLimit} waiting; retry later.");
        }
        try
        {
            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Interlocked.Decrement(ref _admitted);
            throw;
        }
        return new Lease(this);
    }

    private void Release()
    {
        _slots.Release();
        Interlocked.Decrement(ref _admitted);
    }

    public void Dispose() => _slots.Dispose();

    /// <summary>A held generation slot.</summary>
    public sealed class Lease(GenerationLimiter owner) : IDisposable
    {
        private GenerationLimiter? _owner = owner;

        public void Dispose() => Interlocked.Exchange(ref _owner, null)?.Release();
    }
}
