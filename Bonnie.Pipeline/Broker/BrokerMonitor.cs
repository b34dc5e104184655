namespace Bonnie.Pipeline.Broker;

/// <summary>What the broker looks like now: queue depth by state, its workers, its rates.</summary>
public sealed record BrokerSnapshot
{
    public static BrokerSnapshot Empty { get; } = new();

    public bool Running { get; init; }
    public DateTimeOffset At { get; init; }
    public IReadOnlyDictionary<JobState, long> Jobs { get; init; } = new Dictionary<JobState, long>();
    public IReadOnlyList<WorkerSnapshot> Workers { get; init; } = [];
    public int Collectors { get; init; }
    /// <summary>Submissions acknowledged per second, averaged over the last minute.</summary>
    public double SubmittedPerSecond { get; init; }
    /// <summary>Jobs finished (DONE) per second, averaged over the last minute.</summary>
    public double DonePerSecond { get; init; }
    /// <summary>Jobs finished in each of the last 3,600 seconds, oldest first (the live view's chart).</summary>
    public IReadOnlyList<int> DoneHistory { get; init; } = [];
    public long Submitted { get; init; }
    public long Duplicates { get; init; }
    public long Refused { get; init; }
    /// <summary>Set when the queue cannot be written: nothing is acknowledged until it is mended.</summary>
    public string? Fault { get; init; }
}

public enum WorkerState
{
    /// <summary>Has free slots.</summary>
    Ready,
    /// <summary>Every slot is processing a job.</summary>
    Busy,
    /// <summary>Missed a job's deadline: gets no new job until it says READY again.</summary>
    Unavailable,
}

public sealed record WorkerSnapshot(string Id, WorkerState State, int FreeSlots, int Jobs, DateTimeOffset LastSeen);

/// <summary>
/// Publishes the broker's state to whoever shows it (the live view, the home page, metrics). Subscribers are called
/// on the thread pool; they marshal to their own context.
/// </summary>
public sealed class BrokerMonitor
{
    private BrokerSnapshot _current = BrokerSnapshot.Empty;

    public BrokerSnapshot Current => Volatile.Read(ref _current);

    public event Action<BrokerSnapshot>? Changed;

    internal void Publish(BrokerSnapshot snapshot)
    {
        Volatile.Write(ref _current, snapshot);
        // Subscribers run on the thread pool, never on the broker's poller thread: its synchronization context would
        // capture their continuations (and is gone once the broker stops), and a slow subscriber would stall the broker.
        if (Changed is { } changed)
        {
            ThreadPool.QueueUserWorkItem(static state => state.changed(state.snapshot), (changed, snapshot), preferLocal: false);
        }
    }
}
