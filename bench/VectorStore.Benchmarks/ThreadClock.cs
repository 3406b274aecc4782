using System.Runtime.InteropServices;

namespace VectorStoreDb.Benchmarks;

/// <summary>
/// CPU time of the calling thread (Linux <c>CLOCK_THREAD_CPUTIME_ID</c>): on a machine shared with other
/// work, wall time mostly measures how often the scheduler ran us; thread CPU time measures the scan.
/// The C++ baseline harness uses the same clock.
/// </summary>
internal static partial class ThreadClock
{
    private const int ThreadCpuClock = 3;

    public static double Seconds()
    {
        if (!OperatingSystem.IsLinux() || ClockGetTime(ThreadCpuClock, out var time) != 0)
        {
            return System.Diagnostics.Stopwatch.GetTimestamp() / (double)System.Diagnostics.Stopwatch.Frequency;
        }
        return time.Seconds + time.Nanoseconds * 1e-9;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out Timespec time);
}
