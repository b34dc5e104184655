namespace Bonnie.Pipeline.Broker;

/// <summary>What the broker looks like now: queue depth by state, its workers, its rates.</summary>
public sealed record BrokerSnapshot
{
    public static BrokerSnapshot Empty { get; } = new();

    public bool Running { get; init; }
    public DateTimeOffset At { get; init; }
    public IReadOnlyDictionary<JobState, long> Jobs { get; init; } = new Dictionary<JobState, long>();
    /// <summary>How long DONE jobs are kept in the queue, so how far back the DONE count reaches.</summary>
    public TimeSpan DoneRetention { get; init; }
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
/// on the thread pool, one call at a time and always with the newest snapshot: snapshots published while a call runs
/// are not delivered one by one, the newest of them follows it. They marshal to their own context.
/// </summary>
public sealed class BrokerMonitor
{
    private BrokerSnapshot _current = BrokerSnapshot.Empty;
    private int _delivering;

    public BrokerSnapshot Current => Volatile.Read(ref _current);

    public event Action<BrokerSnapshot>? Changed;

    internal void Publish(BrokerSnapshot snapshot)
    {
        Volatile.Write(ref _current, snapshot);
        // Subscribers run on the thread pool, never on the broker's poller thread: its synchronization context would
        // capture their continuations (and is gone once the broker stops), and a slow subscriber would stall the broker.
        // One delivery at a time: with one pool item per snapshot, items ran in any order and a subscriber could be
        // left holding an older snapshot than the broker's last.
        if (Interlocked.Exchange(ref _delivering, 1) == 0)
        {
            ThreadPool.QueueUserWorkItem(static monitor => monitor.Deliver(), this, preferLocal: false);
        }
    }

    private void Deliver()
    {
        while (true)
        {
            var snapshot = Current;
            Changed?.Invoke(snapshot);
            // A full fence before reading the current snapshot again: a Publish that found the flag set has written
            // its snapshot before this read, or finds the flag clear and delivers it itself.
            Interlocked.Exchange(ref _delivering, 0);
            if (ReferenceEquals(Current, snapshot) || Interlocked.Exchange(ref _delivering, 1) != 0)
            {
                return;
            }
        }
    }
}
