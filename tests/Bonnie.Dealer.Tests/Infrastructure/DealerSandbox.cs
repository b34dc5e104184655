using System.Net;
using System.Net.Sockets;

namespace Bonnie.Dealer.Tests.Infrastructure;

/// <summary>A private spool and configuration for one test's dealers; nothing of the machine's /etc is read.</summary>
internal sealed class DealerSandbox : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("bonnie-dealer-test-").FullName;

    public DealerSandbox(string broker, int timeoutMs = 5000)
    {
        Spool = Path.Combine(_root, "spool");
        ConfigPath = Path.Combine(_root, "dealer.conf");
        File.WriteAllText(ConfigPath, "# written by the test\n");
        Environment["BONNIE_DEALER_CONFIG"] = ConfigPath;
        Environment["BONNIE_DEALER_BROKER"] = broker;
        Environment["BONNIE_DEALER_SPOOL"] = Spool;
        Environment["BONNIE_DEALER_TIMEOUT_MS"] = timeoutMs.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Environment["HOME"] = _root;
        Environment["XDG_STATE_HOME"] = Path.Combine(_root, "state");
    }

    public string Root => _root;

    public string Spool { get; }

    public string ConfigPath { get; }

    public Dictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);

    public string Undeliverable => Path.Combine(Spool, "undeliverable");

    /// <summary>Pending spool files, oldest first (the names sort by arrival).</summary>
    public string[] PendingFiles() =>
        Directory.Exists(Spool)
            ? Directory.GetFiles(Spool).Where(f => f.EndsWith(".json", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray()
            : [];

    public string[] AllSpoolFiles() =>
        Directory.Exists(Spool) ? Directory.GetFiles(Spool, "*", SearchOption.AllDirectories) : [];

    /// <summary>A loopback port nothing listens on (a broker that is down).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory must not fail the test that produced it.
        }
    }
}
