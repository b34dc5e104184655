using Microsoft.Extensions.Options;

namespace Bonnie.Pipeline.Worker;

/// <summary>The <c>Bonnie:Worker</c> section.</summary>
public sealed class WorkerOptions
{
    public const string Section = "Bonnie:Worker";

    /// <summary>Run a worker in this process.</summary>
    public bool Enabled { get; set; } = true;
    public string WorkerEndpoint { get; set; } = "tcp://127.0.0.1:5560";
    public string ControllerEndpoint { get; set; } = "tcp://127.0.0.1:5561";
    /// <summary>
    /// Jobs this process takes at once. The store writes what is waiting in one transaction, so this bounds that
    /// transaction (the jobs of the batch being written hold their slots, so batches settle near half of it), and big
    /// transactions are what keep the embedded store fast as it grows: each commit rewrites about one page per row of
    /// its random-key indexes whatever the batch's size. A backlog of 300,000 events of 1,000 mailboxes drained at
    /// 5,146-5,333 events/s with 1,024 slots (510 events per transaction), 6,388-6,448 with 8,192 (3,750-3,947) and
    /// 7,733 with 16,384 (7,500) (`pipeline --events 300000 --concurrency 1024,8192,16384,...`, bench/README.md).
    /// A store that writes fewer than this many jobs per <c>Bonnie:Broker:JobDeadline</c> would see jobs time out while
    /// they wait. A processor that does not take batches runs this many jobs at once.
    /// </summary>
    public int Concurrency { get; set; } = 16384;
    /// <summary>Jobs at most in one batch for a processor that takes batches.</summary>
    public int MaxBatch { get; set; } = 16384;
    /// <summary>
    /// Bytes of jobs held at most (their notifications and what the collector sent with them, whole messages): a free
    /// slot is offered to the broker only while what is held, plus what the slots offered may bring at the size jobs
    /// have had lately (64 KiB before the first), stays under it. Slots are many; messages can be large. It is a bound
    /// on an estimate: jobs much larger than the ones before them can pass it by what the slots already offered bring.
    /// A job larger than the bound still comes, alone.
    /// </summary>
    public long MaxHeldBytes { get; set; } = 256L * 1024 * 1024;
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(1);
    /// <summary>The worker's name at the broker; empty means host name and process id.</summary>
    public string Name { get; set; } = "";
    /// <summary>
    /// Diagnostics: when set, jobs go to a processor that only records each job id in this file (one line each,
    /// fsynced) instead of the store. Used to prove the broker's guarantees with real processes.
    /// </summary>
    public string RecordTo { get; set; } = "";
    /// <summary>Diagnostics, with <see cref="RecordTo"/>: how long each recorded job takes (a drill for slow work).</summary>
    public TimeSpan RecordDelay { get; set; } = TimeSpan.Zero;
}

internal sealed class ValidateWorkerOptions : IValidateOptions<WorkerOptions>
{
    public ValidateOptionsResult Validate(string? name, WorkerOptions options)
    {
        var errors = new List<string>();
        if (options.Concurrency is < 1 or > 65_536)
        {
            errors.Add($"{WorkerOptions.Section}:Concurrency must be between 1 and 65536 (was {options.Concurrency}).");
        }
        if (options.MaxBatch is < 1 or > 65_536)
        {
            errors.Add($"{WorkerOptions.Section}:MaxBatch must be between 1 and 65536 (was {options.MaxBatch}).");
        }
        if (options.MaxHeldBytes < 1)
        {
            errors.Add($"{WorkerOptions.Section}:MaxHeldBytes must be positive (was {options.MaxHeldBytes}).");
        }
        if (options.HeartbeatInterval <= TimeSpan.Zero)
        {
            errors.Add($"{WorkerOptions.Section}:HeartbeatInterval must be positive.");
        }
        foreach (var (key, value) in new[] { (nameof(options.WorkerEndpoint), options.WorkerEndpoint), (nameof(options.ControllerEndpoint), options.ControllerEndpoint) })
        {
            if (!value.StartsWith("tcp://", StringComparison.Ordinal) && !value.StartsWith("ipc://", StringComparison.Ordinal))
            {
                errors.Add($"{WorkerOptions.Section}:{key} must be a tcp:// or ipc:// endpoint (was '{value}').");
            }
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
