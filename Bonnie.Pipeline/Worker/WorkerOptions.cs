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
    /// Jobs this process takes at once. The store processes what is waiting in one transaction, so this bounds that
    /// transaction (the jobs of the batch being written hold their slots). Before runs (one job per user at a time)
    /// 1,024 slots drained a backlog of 1,000 users barely faster than 256 (5,905 against 5,625 events/s); with runs of
    /// up to 256 jobs per user, 6,774-6,876 against 4,103-4,195, 484-492 events per transaction against 121-123
    /// (`pipeline --events 30000 --users 1000 --concurrency 256,1024,256,1024`, bench/README.md).
    /// </summary>
    public int Concurrency { get; set; } = 1024;
    /// <summary>Jobs at most in one batch for a processor that takes batches.</summary>
    public int MaxBatch { get; set; } = 1024;
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
        if (options.Concurrency is < 1 or > 4096)
        {
            errors.Add($"{WorkerOptions.Section}:Concurrency must be between 1 and 4096 (was {options.Concurrency}).");
        }
        if (options.MaxBatch is < 1 or > 10_000)
        {
            errors.Add($"{WorkerOptions.Section}:MaxBatch must be between 1 and 10000 (was {options.MaxBatch}).");
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
