using Bonnie.Shared.Cyrus;
using Microsoft.Extensions.Options;

namespace Bonnie.Pipeline.Worker.Payloads;

/// <summary>Where the worker fetches message payloads from, section <c>Bonnie:Payloads</c>.</summary>
public sealed class PayloadOptions
{
    public const string Section = "Bonnie:Payloads";

    /// <summary>Cyrus partition roots readable by this worker (<c>/var/spool/cyrus/mail</c>) when it runs on the IMAP host.</summary>
    public List<string> SpoolPartitions { get; set; } = [];
    public ImapPayloadOptions Imap { get; set; } = new();
    /// <summary>
    /// Attempts (the broker's count) before an event is kept without its payload. Must stay below the broker's
    /// <c>Bonnie:Broker:MaxAttempts</c>: the broker FAILs a job at its own limit, and a job failed for want of a payload
    /// would never reach the store.
    /// </summary>
    public int MaxAttempts { get; set; } = 5;
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>
    /// Payloads of a batch fetched and written at once. Each is read (spool, IMAP), hashed, compressed and fsynced before
    /// the batch's commit; one at a time, those waits add up (bench/README.md, store --payloads).
    /// </summary>
    public int FetchConcurrency { get; set; } = 16;
    /// <summary>
    /// Ask the collectors on the IMAP hosts (bonnie-collector, through the broker) for a delivery's message that neither
    /// the event, the spool nor IMAP gave this worker: once per job, before it is postponed. Off by default: without a
    /// collector the job would wait for the broker's <c>CollectTimeout</c>, holding up its mailbox's later events.
    /// </summary>
    public bool UseCollector { get; set; }
}

/// <summary>Fetching over IMAP as the Cyrus admin. The password is never logged.</summary>
public sealed class ImapPayloadOptions
{
    public string? Host { get; set; }
    public int Port { get; set; } = 143;
    /// <summary><c>None</c>, <c>StartTls</c> or <c>SslOnConnect</c>.</summary>
    public string Security { get; set; } = "StartTls";
    public string User { get; set; } = "cyrus";
    public string? Password { get; set; }
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>
    /// A PEM file with the root CA's certificate of the server's chain (self-signed), or the server's own certificate
    /// (pinned): trusted besides the machine's store (ServerCertificateTrust). The host name is checked either way.
    /// </summary>
    public string? TrustedCertificate { get; set; }

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Host);
}

internal sealed class ValidatePayloadOptions : IValidateOptions<PayloadOptions>
{
    public ValidateOptionsResult Validate(string? name, PayloadOptions options)
    {
        var errors = new List<string>();
        if (options.MaxAttempts is < 1 or > 1000)
        {
            errors.Add($"Bonnie:Payloads:MaxAttempts must be between 1 and 1000 (was {options.MaxAttempts}).");
        }
        if (options.FetchConcurrency is < 1 or > 256)
        {
            errors.Add($"Bonnie:Payloads:FetchConcurrency must be between 1 and 256 (was {options.FetchConcurrency}).");
        }
        if (options.RetryAfter < TimeSpan.Zero)
        {
            errors.Add("Bonnie:Payloads:RetryAfter must not be negative.");
        }
        if (options.Imap.IsConfigured)
        {
            if (options.Imap.Port is < 1 or > 65535)
            {
                errors.Add($"Bonnie:Payloads:Imap:Port must be between 1 and 65535 (was {options.Imap.Port}).");
            }
            if (string.IsNullOrEmpty(options.Imap.Password))
            {
                errors.Add("Bonnie:Payloads:Imap:Password is required when Bonnie:Payloads:Imap:Host is set.");
            }
            if (options.Imap.Security is not ("None" or "StartTls" or "SslOnConnect"))
            {
                errors.Add($"Bonnie:Payloads:Imap:Security must be None, StartTls or SslOnConnect (was '{options.Imap.Security}').");
            }
            if (ServerCertificateTrust.Check(options.Imap.TrustedCertificate) is { } trustProblem)
            {
                errors.Add($"Bonnie:Payloads:Imap:TrustedCertificate: {trustProblem}");
            }
            if (!string.IsNullOrWhiteSpace(options.Imap.TrustedCertificate) && options.Imap.Security == "None")
            {
                errors.Add("Bonnie:Payloads:Imap:TrustedCertificate is set but Security is None: choose StartTls or SslOnConnect, or remove it.");
            }
        }
        for (var i = 0; i < options.SpoolPartitions.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(options.SpoolPartitions[i]))
            {
                errors.Add($"Bonnie:Payloads:SpoolPartitions:{i} must not be blank.");
            }
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>
/// Where the broker runs in this process, the payload's attempts checked against the broker's: the worker postpones a
/// delivery at attempts 0 to MaxAttempts-1 and keeps it without its payload at MaxAttempts, so the broker must allow
/// more than that many postponements, or the job is FAILED before the event is kept.
/// </summary>
internal sealed class ValidatePayloadAttemptsAgainstBroker(IOptions<Broker.BrokerOptions> broker) : IValidateOptions<PayloadOptions>
{
    public ValidateOptionsResult Validate(string? name, PayloadOptions options)
    {
        var brokerAttempts = broker.Value.MaxAttempts;
        return options.MaxAttempts < brokerAttempts
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"Bonnie:Payloads:MaxAttempts ({options.MaxAttempts}) must be below Bonnie:Broker:MaxAttempts ({brokerAttempts}): " +
                "the broker would fail the job before the event is kept without its payload.");
    }
}
