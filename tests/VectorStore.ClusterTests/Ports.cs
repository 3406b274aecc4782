using System.Net;
using System.Net.Sockets;

namespace VectorStoreDb.ClusterTests;

internal static class Ports
{
    /// <summary>A loopback port nothing listens on right now.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
