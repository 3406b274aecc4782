using System.Diagnostics;

namespace VectorStoreDb.Server.Dashboard;

/// <summary>
/// Documents acknowledged by this node's upsert endpoints (REST and gRPC), counted per second in a ring of the last
/// hour, so the dashboard can show a long import's rate. Counting sits on the endpoints, not the engine, so it covers
/// single-node and cluster mode alike and counts what clients were told is written, once per document.
/// </summary>
public sealed class IngestStatistics
{
    /// <summary>Seconds kept; also the longest window a rate can be asked for.</summary>
    public const int Seconds = 3600;

    private readonly long[] _counts = new long[Seconds];
    private readonly long[] _secondOfSlot = new long[Seconds];
    private readonly long _start = Stopwatch.GetTimestamp();
    private long _total;

    /// <summary>Records an acknowledged upsert of <paramref name="documents"/> documents.</summary>
    public void Record(int documents)
    {
        long second = CurrentSecond();
        int slot = (int)(second % Seconds);
        if (Volatile.Read(ref _secondOfSlot[slot]) != second)
        {
            // Once per slot per hour: a lock keeps two writers from both resetting a slot the other already counted in.
            lock (_counts)
            {
                if (_secondOfSlot[slot] != second)
                {
                    _counts[slot] = 0;
                    Volatile.Write(ref _secondOfSlot[slot], second);
                }
            }
        }
        Interlocked.Add(ref _counts[slot], documents);
        Interlocked.Add(ref _total, documents);
    }

    /// <summary>The ingest rate over the last <paramref name="window"/> (or since start, when that is shorter).</summary>
    public IngestStatisticsSnapshot Snapshot(TimeSpan window)
    {
        long now = CurrentSecond();
        int seconds = (int)Math.Clamp(window.TotalSeconds, 1, Seconds - 1);
        long sum = 0;
        for (long second = now - seconds + 1; second <= now; second++)
        {
            if (second < 0)
            {
                continue;
            }
            int slot = (int)(second % Seconds);
            if (Volatile.Read(ref _secondOfSlot[slot]) == second)
            {
                sum += Interlocked.Read(ref _counts[slot]);
            }
        }
        double span = Math.Clamp(Stopwatch.GetElapsedTime(_start).TotalSeconds, 1, seconds);
        return new IngestStatisticsSnapshot(sum / span, sum, Interlocked.Read(ref _total));
    }

    // Slot 0 starts "unused" at second 0 only for the first second of the process, when it is the current second anyway.
    private long CurrentSecond() => (long)Stopwatch.GetElapsedTime(_start).TotalSeconds;
}

/// <summary>Documents per second over the window, documents in the window, and documents since the server started.</summary>
public sealed record IngestStatisticsSnapshot(double DocumentsPerSecond, long Documents, long TotalDocuments);
