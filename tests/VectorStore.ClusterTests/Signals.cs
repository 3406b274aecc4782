using System.Runtime.InteropServices;

namespace VectorStoreDb.ClusterTests;

/// <summary>
/// POSIX signals for processes the tests started: .NET's Process can only SIGKILL, and a clean shutdown (SIGTERM for a
/// server, SIGINT for PostgreSQL's fast shutdown) must not depend on a <c>kill</c> binary being installed.
/// </summary>
internal static partial class Signals
{
    public const int Interrupt = 2;
    public const int Terminate = 15;

    /// <summary>Sends <paramref name="signal"/>; false if the process is gone (or the signal could not be sent).</summary>
    public static bool Send(int pid, int signal) => kill(pid, signal) == 0;

    [LibraryImport("libc")]
    private static partial int kill(int pid, int signal);
}
