using Microsoft.Extensions.Options;

namespace Bonnie.Pipeline.Broker;

/// <summary>The <c>Bonnie:Broker</c> section.</summary>
public sealed class BrokerOptions
{
    public const string Section = "Bonnie:Broker";

    /// <summary>Run the broker in this process.</summary>
    public bool Enabled { get; set; } = true;

    // Loopback by default: a broker reachable from the network is a decision an administrator makes.
    public string ClientEndpoint { get; set; } = "tcp://127.0.0.1:5570";
    public string WorkerEndpoint { get; set; } = "tcp://127.0.0.1:5560";
    public string ControllerEndpoint { get; set; } = "tcp://127.0.0.1:5561";
    public string CollectorEndpoint { get; set; } = "tcp://127.0.0.1:5569";

    /// <summary>
    /// Where a process beside the broker connects to reach the endpoint it binds: a wildcard host (<c>*</c>,
    /// <c>0.0.0.0</c>, <c>[::]</c>) is reached over loopback; any other endpoint as written.
    /// </summary>
    public static string ConnectTo(string bound)
    {
        const string Tcp = "tcp://";
        if (!bound.StartsWith(Tcp, StringComparison.OrdinalIgnoreCase))
        {
            return bound;
        }
        var colon = bound.LastIndexOf(':');
        var host = colon > Tcp.Length ? bound[Tcp.Length..colon] : "";
        var loopback = host switch
        {
            "*" or "0.0.0.0" => "127.0.0.1",
            "[::]" or "[*]" => "[::1]",
            _ => null,
        };
        return loopback is null ? bound : Tcp + loopback + bound[colon..];
    }

    /// <summary>Where the job queue lives; empty means <c>&lt;DataDirectory&gt;/broker</c>.</summary>
    public string QueueDirectory { get; set; } = "";

    /// <summary>Notifications above this are refused with <c>REFUSED</c> (the dealer keeps them as undeliverable).</summary>
    public int MaxNotificationBytes { get; set; } = 16 * 1024 * 1024;

    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(1);
    /// <summary>Heartbeats a worker may miss before it is marked gone and its jobs return to PENDING.</summary>
    public int HeartbeatLiveness { get; set; } = 3;
    /// <summary>
    /// A job assigned longer than this returns to PENDING. If its worker asked for it, the job is charged an attempt
    /// and the worker is marked unavailable. If it never asked, its TAKE was lost: no attempt is charged and the slot
    /// is free again (docs/broker.md).
    /// </summary>
    public TimeSpan JobDeadline { get; set; } = TimeSpan.FromMinutes(5);
    /// <summary>Attempts (postponements and deadline misses) before a job is FAILED with its reason.</summary>
    public int MaxAttempts { get; set; } = 8;
    /// <summary>Delay of the first retry after POSTPONE without a delay of its own; doubles each attempt.</summary>
    public TimeSpan PostponeDelay { get; set; } = TimeSpan.FromSeconds(15);
    /// <summary>How long a job may wait for a collector before it goes back to a worker with an error.</summary>
    public TimeSpan CollectTimeout { get; set; } = TimeSpan.FromMinutes(2);
    /// <summary>DONE jobs are purged from the queue after this (the store keeps the events).</summary>
    public TimeSpan DoneRetention { get; set; } = TimeSpan.FromDays(7);
    /// <summary>Submissions committed with one fsync, at most.</summary>
    public int MaxBatch { get; set; } = 2000;

    /// <summary>
    /// Jobs of one mailbox out with one worker at once, in order (a run), to workers that store batches. 1 hands out
    /// one job per mailbox at a time: a burst of one mailbox (a migration's APPENDs, a journaling mailbox) is then one
    /// store transaction per event, 509 events/s against 4,000+ with runs (bench/README.md, pipeline --users 1). Runs
    /// of 4,096 drained such a burst at 11,609-11,811 events/s against 8,408-9,555 with 256 (1,852 events per
    /// transaction against 120-125; `pipeline --events 50000 --users 1 --concurrency 16384 --lane-runs 256,4096,256,4096`).
    /// A run goes back whole when its head is late, uncharged behind it.
    /// </summary>
    public int MaxLaneRun { get; set; } = 4096;
}

internal sealed class ValidateBrokerOptions : IValidateOptions<BrokerOptions>
{
    public ValidateOptionsResult Validate(string? name, BrokerOptions options)
    {
        var errors = new List<string>();
        foreach (var (key, value) in new[]
                 {
                     (nameof(options.ClientEndpoint), options.ClientEndpoint),
                     (nameof(options.WorkerEndpoint), options.WorkerEndpoint),
                     (nameof(options.ControllerEndpoint), options.ControllerEndpoint),
                     (nameof(options.CollectorEndpoint), options.CollectorEndpoint),
                 })
        {
            if (!value.StartsWith("tcp://", StringComparison.Ordinal) && !value.StartsWith("ipc://", StringComparison.Ordinal))
            {
                errors.Add($"{BrokerOptions.Section}:{key} must be a tcp:// or ipc:// endpoint (was '{value}').");
            }
        }
        if (options.MaxNotificationBytes < 1024)
        {
            errors.Add($"{BrokerOptions.Section}:MaxNotificationBytes must be at least 1024.");
        }
        if (options.HeartbeatInterval <= TimeSpan.Zero)
        {
            errors.Add($"{BrokerOptions.Section}:HeartbeatInterval must be positive.");
        }
        if (options.HeartbeatLiveness < 1)
        {
            errors.Add($"{BrokerOptions.Section}:HeartbeatLiveness must be at least 1.");
        }
        if (options.JobDeadline <= TimeSpan.Zero)
        {
            errors.Add($"{BrokerOptions.Section}:JobDeadline must be positive.");
        }
        if (options.MaxAttempts < 1)
        {
            errors.Add($"{BrokerOptions.Section}:MaxAttempts must be at least 1.");
        }
        if (options.MaxLaneRun is < 1 or > 4096)
        {
            errors.Add($"{BrokerOptions.Section}:MaxLaneRun must be between 1 and 4096 (was {options.MaxLaneRun}).");
        }
        if (options.MaxBatch is < 1 or > 100_000)
        {
            errors.Add($"{BrokerOptions.Section}:MaxBatch must be between 1 and 100000.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
