using System.Diagnostics;

namespace VectorStoreDb.Server.Dashboard;

/// <summary>
/// Recent request latencies in a fixed-size ring buffer: recording is two interlocked increments and one
/// struct store, with no allocation and no lock, so it can sit in front of every request. A reader may see
/// a slot being overwritten; for a dashboard's percentiles that is harmless.
/// </summary>
public sealed class RequestStatistics
{
    /// <summary>Slots in the ring (a power of two). At 1,000 requests/s it covers the last 16 s.</summary>
    public const int Capacity = 16_384;

    private readonly Entry[] _entries = new Entry[Capacity];
    private long _next;
    private long _totalRequests;
    private long _totalQueries;
    private long _totalErrors;

    /// <summary>When the statistics (and so, in practice, the process) started.</summary>
    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    private readonly long _startTimestamp = Stopwatch.GetTimestamp();

    /// <summary>Records one finished request.</summary>
    public void Record(RequestKind kind, long startTimestamp, long endTimestamp, int statusCode)
    {
        long n = Interlocked.Increment(ref _next) - 1;
        _entries[(int)(n & (Capacity - 1))] = new Entry(endTimestamp, endTimestamp - startTimestamp, kind, statusCode);
        Interlocked.Increment(ref _totalRequests);
        if (kind == RequestKind.Query)
        {
            Interlocked.Increment(ref _totalQueries);
        }
        if (statusCode >= 500)
        {
            Interlocked.Increment(ref _totalErrors);
        }
    }

    /// <summary>Rates and latency percentiles over the requests that finished in the last <paramref name="window"/>.</summary>
    public RequestStatisticsSnapshot Snapshot(TimeSpan window)
    {
        long now = Stopwatch.GetTimestamp();
        long since = now - (long)(window.TotalSeconds * Stopwatch.Frequency);
        var queries = new List<long>();
        var all = new List<long>();
        int errors = 0;
        foreach (var e in _entries)
        {
            if (e.Kind == RequestKind.None || e.EndTimestamp < since || e.EndTimestamp > now)
            {
                continue;
            }
            all.Add(e.ElapsedTicks);
            if (e.Kind == RequestKind.Query)
            {
                queries.Add(e.ElapsedTicks);
            }
            if (e.StatusCode >= 500)
            {
                errors++;
            }
        }
        // Early in the process the window is shorter than asked; dividing by it would understate the rate.
        double seconds = Math.Max(1e-3, Math.Min(window.TotalSeconds, Stopwatch.GetElapsedTime(_startTimestamp, now).TotalSeconds));
        return new RequestStatisticsSnapshot(
            WindowSeconds: seconds,
            Requests: all.Count,
            RequestsPerSecond: all.Count / seconds,
            Queries: queries.Count,
            QueriesPerSecond: queries.Count / seconds,
            Errors: errors,
            QueryLatency: Latency.Of(queries),
            RequestLatency: Latency.Of(all),
            TotalRequests: Interlocked.Read(ref _totalRequests),
            TotalQueries: Interlocked.Read(ref _totalQueries),
            TotalErrors: Interlocked.Read(ref _totalErrors));
    }

    /// <summary>What is worth telling apart on a dashboard: searches and chats versus everything else.</summary>
    public static RequestKind Classify(PathString path)
    {
        string p = path.Value ?? "";
        if (p.StartsWith("/dashboard", StringComparison.Ordinal) || p is "/stats" or "/healthz" or "/readyz" or "/metrics")
        {
            // The dashboard polls these itself; counting them would make an idle server look busy.
            return RequestKind.None;
        }
        return p.EndsWith("/query", StringComparison.Ordinal) || p.EndsWith("/chat", StringComparison.Ordinal) || p == "/vectorstore.v1.Search/Query"
            ? RequestKind.Query
            : RequestKind.Other;
    }

    private readonly record struct Entry(long EndTimestamp, long ElapsedTicks, RequestKind Kind, int StatusCode);
}

/// <summary>How a request is counted.</summary>
public enum RequestKind : byte
{
    /// <summary>Not recorded (an empty slot, or the dashboard's own polling).</summary>
    None,
    /// <summary>A k-NN query or a chat (REST or gRPC).</summary>
    Query,
    /// <summary>Any other API request.</summary>
    Other,
}

/// <summary>Latency percentiles in milliseconds; zero when there were no requests.</summary>
public sealed record Latency(double P50Ms, double P90Ms, double P99Ms, double MaxMs)
{
    internal static Latency Of(List<long> ticks)
    {
        if (ticks.Count == 0)
        {
            return new Latency(0, 0, 0, 0);
        }
        ticks.Sort();
        double Ms(double q) => ticks[Math.Min(ticks.Count - 1, (int)Math.Ceiling(q * ticks.Count) - 1)] * 1000.0 / Stopwatch.Frequency;
        return new Latency(Ms(0.50), Ms(0.90), Ms(0.99), ticks[^1] * 1000.0 / Stopwatch.Frequency);
    }
}

/// <summary>Request rates and latencies over a recent window, plus totals since start.</summary>
public sealed record RequestStatisticsSnapshot(
    double WindowSeconds,
    int Requests,
    double RequestsPerSecond,
    int Queries,
    double QueriesPerSecond,
    int Errors,
    Latency QueryLatency,
    Latency RequestLatency,
    long TotalRequests,
    long TotalQueries,
    long TotalErrors);
