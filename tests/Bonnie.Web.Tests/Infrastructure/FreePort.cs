using System.Net;
using System.Net.Sockets;

namespace Bonnie.Web.Tests.Infrastructure;

internal static class FreePort
{
    /// <summary>A loopback TCP port nobody listens on now (the OS picks it), for a listener the test configures.</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
