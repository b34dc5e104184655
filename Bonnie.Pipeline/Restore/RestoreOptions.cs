using Bonnie.Shared.Cyrus;
using Microsoft.Extensions.Options;

namespace Bonnie.Pipeline.Restore;

/// <summary>Where restores go, section <c>Bonnie:Restore</c>. The password is never logged.</summary>
public sealed class RestoreOptions
{
    public const string Section = "Bonnie:Restore";

    public RestoreImapOptions Imap { get; set; } = new();
    /// <summary>Messages sent in one MULTIAPPEND; a failure names the batch's messages.</summary>
    public int BatchSize { get; set; } = 20;
    /// <summary>Finished restores kept for <c>GET /api/restore/{id}</c>.</summary>
    public TimeSpan KeepFinishedFor { get; set; } = TimeSpan.FromHours(24);
}

/// <summary>The Cyrus admin Bonnie restores as, authorizing as each mailbox's owner (SASL PLAIN with an authorization id).</summary>
public sealed class RestoreImapOptions
{
    public string? Host { get; set; }
    public int Port { get; set; } = 143;
    /// <summary><c>None</c>, <c>StartTls</c> or <c>SslOnConnect</c>.</summary>
    public string Security { get; set; } = "StartTls";
    public string AdminUser { get; set; } = "cyrus";
    public string? Password { get; set; }
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);
    /// <summary>
    /// A PEM file with the root CA's certificate of the server's chain (self-signed), or the server's own certificate
    /// (pinned): trusted besides the machine's store (ServerCertificateTrust). The host name is checked either way.
    /// </summary>
    public string? TrustedCertificate { get; set; }

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Host);
}

internal sealed class ValidateRestoreOptions : IValidateOptions<RestoreOptions>
{
    public ValidateOptionsResult Validate(string? name, RestoreOptions options)
    {
        var errors = new List<string>();
        var imap = options.Imap;
        if (imap.IsConfigured)
        {
            if (imap.Port is < 1 or > 65535)
            {
                errors.Add($"Bonnie:Restore:Imap:Port must be between 1 and 65535 (was {imap.Port}).");
            }
            if (string.IsNullOrWhiteSpace(imap.AdminUser))
            {
                errors.Add("Bonnie:Restore:Imap:AdminUser is required when Bonnie:Restore:Imap:Host is set.");
            }
            if (string.IsNullOrEmpty(imap.Password))
            {
                errors.Add("Bonnie:Restore:Imap:Password is required when Bonnie:Restore:Imap:Host is set.");
            }
            if (imap.Security is not ("None" or "StartTls" or "SslOnConnect"))
            {
                errors.Add($"Bonnie:Restore:Imap:Security must be None, StartTls or SslOnConnect (was '{imap.Security}').");
            }
            if (ServerCertificateTrust.Check(imap.TrustedCertificate) is { } trustProblem)
            {
                errors.Add($"Bonnie:Restore:Imap:TrustedCertificate: {trustProblem}");
            }
            if (!string.IsNullOrWhiteSpace(imap.TrustedCertificate) && imap.Security == "None")
            {
                errors.Add("Bonnie:Restore:Imap:TrustedCertificate is set but Security is None: choose StartTls or SslOnConnect, or remove it.");
            }
            if (imap.Timeout <= TimeSpan.Zero)
            {
                errors.Add("Bonnie:Restore:Imap:Timeout must be positive.");
            }
        }
        if (options.BatchSize is < 1 or > 1000)
        {
            errors.Add($"Bonnie:Restore:BatchSize must be between 1 and 1000 (was {options.BatchSize}).");
        }
        if (options.KeepFinishedFor <= TimeSpan.Zero)
        {
            errors.Add("Bonnie:Restore:KeepFinishedFor must be positive.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
