using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace VectorStoreDb.ClusterTests;

internal static class Ports
{
    private static readonly HashSet<int> s_given = [];

    /// <summary>
    /// A loopback port nothing listens on right now, below the kernel's ephemeral range. A port from that range (what
    /// binding port 0 gives) can be taken as the local end of any outgoing connection between this call and the
    /// server's bind, and the many connections of a cluster test make that happen now and then; nodes that restart on
    /// their old ports are exposed to it again. Below the range only listeners compete, and this process never hands
    /// out a port twice.
    /// </summary>
    public static int Free()
    {
        int ephemeralStart = EphemeralRangeStart();
        lock (s_given)
        {
            for (int attempt = 0; attempt < 200; attempt++)
            {
                int port = Random.Shared.Next(Math.Min(10_000, ephemeralStart / 2), ephemeralStart);
                if (!s_given.Contains(port) && CanListen(port))
                {
                    s_given.Add(port);
                    return port;
                }
            }
        }
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool CanListen(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>The first port the kernel hands to outgoing connections (Linux; 32768 elsewhere or when unreadable).</summary>
    private static int EphemeralRangeStart()
    {
        try
        {
            string range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range");
            return int.Parse(range.Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return 32768;
        }
    }
}
