using Bonnie.Shared.Cyrus;
using Microsoft.Extensions.Options;

namespace Bonnie.Collector;

/// <summary>The <c>Bonnie:Collector</c> section.</summary>
public sealed class CollectorOptions
{
    public const string Section = "Bonnie:Collector";

    public string BrokerEndpoint { get; set; } = "tcp://127.0.0.1:5569";
    /// <summary>The collector's name at the broker; empty means host name and process id.</summary>
    public string Name { get; set; } = "";
    /// <summary>Cyrus partitions to read message files from first (imapd.conf <c>partition-*</c>).</summary>
    public List<string> SpoolPartitions { get; set; } = ["/var/spool/cyrus/mail"];
    public int Concurrency { get; set; } = 4;
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(1);
    public ImapOptions Imap { get; set; } = new();
}

/// <summary>IMAP as the Cyrus admin: the fallback for payloads, and the source of METADATA and ACLs.</summary>
public sealed class ImapOptions
{
    public string Host { get; set; } = "127.0.0.1";
    public int Port { get; set; } = 143;
    /// <summary>None, StartTls or SslOnConnect.</summary>
    public string Security { get; set; } = "None";
    public string AdminUser { get; set; } = "cyrus";
    /// <summary>Never logged. Empty: IMAP is not used, only the spool.</summary>
    public string AdminPassword { get; set; } = "";
    /// <summary>
    /// A PEM file with the root CA's certificate of the server's chain (self-signed), or the server's own certificate
    /// (pinned): trusted besides the machine's store (ServerCertificateTrust). The host name is checked either way.
    /// </summary>
    public string? TrustedCertificate { get; set; }
}

internal sealed class ValidateCollectorOptions : IValidateOptions<CollectorOptions>
{
    public ValidateOptionsResult Validate(string? name, CollectorOptions options)
    {
        var errors = new List<string>();
        if (!options.BrokerEndpoint.StartsWith("tcp://", StringComparison.Ordinal) && !options.BrokerEndpoint.StartsWith("ipc://", StringComparison.Ordinal))
        {
            errors.Add($"{CollectorOptions.Section}:BrokerEndpoint must be a tcp:// or ipc:// endpoint (was '{options.BrokerEndpoint}').");
        }
        if (options.Concurrency is < 1 or > 64)
        {
            errors.Add($"{CollectorOptions.Section}:Concurrency must be between 1 and 64.");
        }
        if (options.Imap.Port is < 1 or > 65535)
        {
            errors.Add($"{CollectorOptions.Section}:Imap:Port must be a TCP port.");
        }
        if (options.Imap.Security is not ("None" or "StartTls" or "SslOnConnect"))
        {
            errors.Add($"{CollectorOptions.Section}:Imap:Security must be None, StartTls or SslOnConnect (was '{options.Imap.Security}').");
        }
        if (ServerCertificateTrust.Check(options.Imap.TrustedCertificate) is { } trustProblem)
        {
            errors.Add($"{CollectorOptions.Section}:Imap:TrustedCertificate: {trustProblem}");
        }
        if (!string.IsNullOrWhiteSpace(options.Imap.TrustedCertificate) && options.Imap.Security == "None")
        {
            errors.Add($"{CollectorOptions.Section}:Imap:TrustedCertificate is set but Security is None: choose StartTls or SslOnConnect, or remove it.");
        }
        if (options.SpoolPartitions.Count == 0 && options.Imap.AdminPassword.Length == 0)
        {
            errors.Add($"{CollectorOptions.Section}: give SpoolPartitions or an Imap:AdminPassword, or the collector can answer nothing.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
