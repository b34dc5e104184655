using System.Globalization;
using System.Net;

namespace Bonnie.Dealer.Transport;

/// <summary>A broker's client router address, written as ZeroMQ writes it: <c>tcp://host:port</c>.</summary>
internal sealed record BrokerEndpoint(string Host, int Port)
{
    public const string Default = "tcp://127.0.0.1:5570";

    public static bool TryParse(string text, out BrokerEndpoint? endpoint, out string error)
    {
        endpoint = null;
        const string scheme = "tcp://";
        if (!text.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            error = $"broker endpoint '{text}' must start with tcp://";
            return false;
        }
        var rest = text[scheme.Length..];
        var colon = rest.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(rest.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port is < 1 or > 65535)
        {
            error = $"broker endpoint '{text}' needs a port (tcp://host:port)";
            return false;
        }
        var host = rest[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        if (host is "*" or "")
        {
            error = $"broker endpoint '{text}' needs a host to connect to";
            return false;
        }
        endpoint = new BrokerEndpoint(host, port);
        error = "";
        return true;
    }

    public IPAddress[] Resolve() =>
        IPAddress.TryParse(Host, out var address) ? [address] : Dns.GetHostAddresses(Host);

    public override string ToString() =>
        Host.Contains(':', StringComparison.Ordinal) ? $"tcp://[{Host}]:{Port}" : $"tcp://{Host}:{Port}";
}
