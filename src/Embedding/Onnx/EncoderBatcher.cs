using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace VectorStoreDb.Embedding.Onnx;

/// <summary>
/// Coalesces concurrent embedding calls into micro-batches: sequences of all callers are sorted by length and split
/// into runs that keep padding small (<see cref="PlanBatches"/>), each run goes to the inference function, and every
/// caller gets its own vectors back. A lone caller runs inline on its own thread (no hops, no wait); callers
/// arriving during a run queue up and are batched together when it ends.
/// </summary>
internal sealed class EncoderBatcher : IDisposable
{
    private readonly Func<int[][], int, float[][]> _infer;
    private readonly EncoderOptions _options;
    private readonly ILogger _logger;
    private readonly string _name;
    private readonly Channel<WorkItem> _queue = Channel.CreateUnbounded<WorkItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _runner;
    private readonly CancellationTokenSource _shutdown = new();
    // One inference at a time: either the batching loop or a lone caller running its own texts inline.
    private readonly SemaphoreSlim _runGate = new(1, 1);
    private int _inFlight;

    /// <summary>Starts the batching loop; <paramref name="infer"/> runs one batch padded to the given length, one vector per sequence.</summary>
    public EncoderBatcher(string name, EncoderOptions options, ILogger logger, Func<int[][], int, float[][]> infer)
    {
        _name = name;
        _options = options;
        _logger = logger;
        _infer = infer;
        _runner = Task.Run(RunLoopAsync);
    }

    public bool IsDisposed => _shutdown.IsCancellationRequested;

    /// <summary>Calls of <see cref="EmbedAsync"/> not yet completed.</summary>
    public int PendingCalls => Volatile.Read(ref _inFlight);

    /// <summary>
    /// Holds the run gate as a running batch would, until disposed: lets tests queue callers "during a run"
    /// deterministically, whatever the machine's speed.
    /// </summary>
    public IDisposable HoldRuns()
    {
        _runGate.Wait();
        return new GateRelease(_runGate);
    }

    /// <summary>Embeds already tokenized sequences; the result has one vector per sequence, in order.</summary>
    public Task<float[][]> EmbedAsync(int[][] tokens, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var request = new Request(tokens, cancellationToken);
        // Fast path: the only caller, and nothing running. Its texts form the batch anyway, so run them on this
        // thread and skip the two thread hops through the batching loop. Callers arriving meanwhile queue up and
        // are batched together once this run finishes.
        if (Interlocked.Increment(ref _inFlight) == 1 && tokens.Length <= _options.MaxBatchSize && _runGate.Wait(0, CancellationToken.None))
        {
            try
            {
                var items = new List<WorkItem>(tokens.Length);
                for (int i = 0; i < tokens.Length; i++)
                {
                    items.Add(new WorkItem(request, i));
                }
                Process(items);
            }
            finally
            {
                _runGate.Release();
            }
            return request.Completion.Task;
        }
        // Registered before queueing so the runner's release always sees (and disposes) the registration.
        if (cancellationToken.CanBeCanceled)
        {
            request.Registration = cancellationToken.Register(static r => ((Request)r!).TryCancel(), request);
        }
        for (int i = 0; i < tokens.Length; i++)
        {
            _queue.Writer.TryWrite(new WorkItem(request, i));
        }
        return request.Completion.Task;
    }

    /// <summary>Stops the batching loop, fails queued calls and waits for a running batch to end.</summary>
    public void Dispose()
    {
        if (_shutdown.IsCancellationRequested)
        {
            return;
        }
        _shutdown.Cancel();
        _queue.Writer.TryComplete();
        try
        {
            _runner.Wait(TimeSpan.FromSeconds(10));
        }
        catch (AggregateException)
        {
        }
        // Let an inline run on a caller's thread finish before the caller disposes the session.
        _runGate.Wait(TimeSpan.FromSeconds(10));
        _shutdown.Dispose();
        _runGate.Dispose();
    }

    private async Task RunLoopAsync()
    {
        var reader = _queue.Reader;
        var pending = new List<WorkItem>();
        var distinct = new HashSet<Request>(ReferenceEqualityComparer.Instance);
        int window = Math.Max(_options.MaxBatchSize * 4, 64);
        using var waitCts = new CancellationTokenSource();
        try
        {
            while (await reader.WaitToReadAsync(_shutdown.Token).ConfigureAwait(false))
            {
                pending.Clear();
                distinct.Clear();
                while (pending.Count < window && reader.TryRead(out var item))
                {
                    pending.Add(item);
                    distinct.Add(item.Request);
                }
                // Wait briefly for other callers only when some are in flight but have not queued yet: a lone
                // caller never pays the wait.
                if (_options.MaxWaitMs > 0 && pending.Count < _options.MaxBatchSize && distinct.Count < Volatile.Read(ref _inFlight))
                {
                    long deadline = Environment.TickCount64 + _options.MaxWaitMs;
                    while (pending.Count < _options.MaxBatchSize && distinct.Count < Volatile.Read(ref _inFlight))
                    {
                        if (reader.TryRead(out var item))
                        {
                            pending.Add(item);
                            distinct.Add(item.Request);
                            continue;
                        }
                        long remaining = deadline - Environment.TickCount64;
                        if (remaining <= 0)
                        {
                            break;
                        }
                        waitCts.TryReset();
                        waitCts.CancelAfter(TimeSpan.FromMilliseconds(remaining));
                        try
                        {
                            if (!await reader.WaitToReadAsync(waitCts.Token).ConfigureAwait(false))
                            {
                                break;
                            }
                        }
                        catch (OperationCanceledException) when (!_shutdown.IsCancellationRequested)
                        {
                            break;
                        }
                    }
                }
                await _runGate.WaitAsync(_shutdown.Token).ConfigureAwait(false);
                try
                {
                    Process(pending);
                }
                finally
                {
                    _runGate.Release();
                }
            }
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
        }
        // Fail whatever is still queued so no caller waits forever.
        while (reader.TryRead(out var item))
        {
            item.Request.Fail(new ObjectDisposedException(nameof(OnnxTextEncoder)), this);
        }
    }

    /// <summary>
    /// Splits length-sorted work into runs that minimise padded tokens plus a fixed cost per run
    /// (<see cref="EncoderOptions.RunOverheadTokens"/>), within <see cref="EncoderOptions.MaxBatchSize"/> and
    /// <see cref="EncoderOptions.MaxBatchTokens"/>: one request of 32 texts from 10 to 128 tokens is no longer padded
    /// to 128 throughout. Dynamic programming over at most a few hundred items; returns each run's end index.
    /// </summary>
    private List<int> PlanBatches(List<WorkItem> sorted)
    {
        int n = sorted.Count;
        var cost = new long[n + 1];
        var cut = new int[n + 1];
        for (int end = 1; end <= n; end++)
        {
            cost[end] = long.MaxValue;
            int length = sorted[end - 1].Tokens.Length; // the longest of any run ending here
            for (int start = end - 1; start >= 0 && end - start <= _options.MaxBatchSize; start--)
            {
                int count = end - start;
                if (count > 1 && (long)count * length > _options.MaxBatchTokens)
                {
                    break;
                }
                long candidate = cost[start] + ((long)count * length) + _options.RunOverheadTokens;
                if (candidate < cost[end])
                {
                    cost[end] = candidate;
                    cut[end] = start;
                }
            }
        }
        var ends = new List<int>();
        for (int end = n; end > 0; end = cut[end])
        {
            ends.Add(end);
        }
        ends.Reverse();
        return ends;
    }

    private void Process(List<WorkItem> pending)
    {
        foreach (var item in pending)
        {
            item.Request.ReleaseIfCancelled(this);
        }
        pending.RemoveAll(w => w.Request.Completion.Task.IsCompleted);
        // Similar lengths together keep padding (wasted FLOPs) small.
        pending.Sort(static (a, b) => a.Tokens.Length.CompareTo(b.Tokens.Length));
        var ends = PlanBatches(pending);
        int start = 0;
        foreach (int end in ends)
        {
            int count = end - start;
            int maxLength = pending[end - 1].Tokens.Length;
            var batch = pending.GetRange(start, count);
            start = end;
            try
            {
                var sequences = new int[batch.Count][];
                for (int i = 0; i < batch.Count; i++)
                {
                    sequences[i] = batch[i].Tokens;
                }
                var vectors = _infer(sequences, maxLength);
                for (int i = 0; i < batch.Count; i++)
                {
                    batch[i].Request.Complete(batch[i].Index, vectors[i], this);
                }
            }
            catch (Exception ex)
            {
                _logger.LogError(ex, "Encoder {Encoder}: inference failed for a batch of {Count}", _name, batch.Count);
                foreach (var item in batch)
                {
                    item.Request.Fail(ex, this);
                }
            }
        }
    }

    private sealed class GateRelease(SemaphoreSlim gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Release();
            }
        }
    }

    private readonly record struct WorkItem(Request Request, int Index)
    {
        public int[] Tokens => Request.Tokens[Index];
    }

    private sealed class Request(int[][] tokens, CancellationToken cancellationToken)
    {
        private int _remaining = tokens.Length;
        private int _released;

        public int[][] Tokens { get; } = tokens;

        public float[][] Results { get; } = new float[tokens.Length][];

        public TaskCompletionSource<float[][]> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Registration { get; set; }

        public void Complete(int index, float[] vector, EncoderBatcher owner)
        {
            Results[index] = vector;
            if (Interlocked.Decrement(ref _remaining) == 0)
            {
                Release(owner);
                Completion.TrySetResult(Results);
            }
        }

        public void Fail(Exception ex, EncoderBatcher owner)
        {
            Release(owner);
            Completion.TrySetException(ex);
        }

        public void TryCancel()
        {
            // The runner skips the remaining items of a cancelled request; _inFlight is released when it sees them
            // or, if all were already taken, by the caller-visible completion below.
            Completion.TrySetCanceled(cancellationToken);
        }

        private void Release(EncoderBatcher owner)
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                Registration.Dispose();
                Interlocked.Decrement(ref owner._inFlight);
            }
        }

        public void ReleaseIfCancelled(EncoderBatcher owner)
        {
            if (Completion.Task.IsCanceled)
            {
                Release(owner);
            }
        }
    }
}
