namespace Bonnie.Pipeline.Worker;

/// <summary>
/// One notification as the broker hands it to a worker. <see cref="Id"/> is the hex SHA-256 of
/// <see cref="Notification"/>, so a notification submitted twice is one job.
/// </summary>
public sealed record Job(
    string Id,
    ReadOnlyMemory<byte> Notification,
    int Attempt,
    DateTimeOffset ReceivedAt)
{
    /// <summary>What the collector answered for this job after a <see cref="JobOutcome.Collect"/>; empty before.</summary>
    public IReadOnlyList<CollectedItem> Collected { get; init; } = [];

    /// <summary>
    /// The job of the same mailbox just before this one, when the broker handed both to this worker at once (a run):
    /// this one may be stored only after that one, and not at all when that one was not stored (postponed, sent to
    /// the collector or released itself). Null for a lane's head.
    /// </summary>
    public string? After { get; init; }
}

/// <summary>One answer of the collector: what was asked (<c>payload user/alice@example.org 1795951197 7</c>) and the bytes.</summary>
public sealed record CollectedItem(string Request, ReadOnlyMemory<byte> Data, string? Error);

/// <summary>How a worker ended a job; the broker's state machine follows it.</summary>
public abstract record JobOutcome
{
    private JobOutcome() { }

    /// <summary>Processed and stored; the broker marks the job DONE.</summary>
    public sealed record Done : JobOutcome;

    /// <summary>Try again later (a neighbour is down). The broker retries a bounded number of times, then FAILED.</summary>
    public sealed record Postpone(string Reason, TimeSpan? RetryAfter = null) : JobOutcome;

    /// <summary>The job needs what only the IMAP host can give; the broker asks the collector, then re-queues.</summary>
    public sealed record Collect(IReadOnlyList<string> Requests) : JobOutcome;

    /// <summary>The job can never succeed; kept as FAILED with the reason, visible to officers.</summary>
    public sealed record Fail(string Reason) : JobOutcome;

    /// <summary>
    /// Not processed: the job it follows (<see cref="Job.After"/>) was not stored, and a mailbox's events are never
    /// stored out of order. The broker puts it back without counting an attempt; it goes out again after that one.
    /// </summary>
    public sealed record Released : JobOutcome;

    public static JobOutcome Release { get; } = new Released();

    public static JobOutcome Success { get; } = new Done();
}

/// <summary>
/// What a worker does with a job. The store's processor (parse, keep the event, run the handlers) is the real
/// one; tests use one that records what it saw.
/// </summary>
public interface IJobProcessor
{
    Task<JobOutcome> ProcessAsync(Job job, CancellationToken cancellationToken = default);
}

/// <summary>
/// A processor that can take many jobs at once (one store transaction for all of them). The worker gives it every
/// job that is waiting, in the order the broker handed them out. Several jobs of one mailbox may share a batch (a run,
/// see <see cref="Job.After"/>): the processor stores each only after the one it follows, and releases it
/// (<see cref="JobOutcome.Release"/>) when that one is not stored in this batch.
/// </summary>
public interface IBatchJobProcessor : IJobProcessor
{
    /// <summary>The outcome of each job, in the order given.</summary>
    Task<IReadOnlyList<JobOutcome>> ProcessBatchAsync(IReadOnlyList<Job> jobs, CancellationToken cancellationToken = default);
}
