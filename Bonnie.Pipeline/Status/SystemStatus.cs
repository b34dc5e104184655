namespace Bonnie.Pipeline.Status;

/// <summary>
/// What the system is doing right now, as the officers' home page and live view show it. The broker
/// publishes queue depths and workers, the store publishes counts; pages subscribe and re-render.
/// A value that no component has reported yet is <c>null</c>, so the UI can say "not reported" instead of
/// showing a zero that is not true.
/// </summary>
public sealed class SystemStatus
{
    private readonly Lock _gate = new();
    private readonly List<Action<SystemStatusSnapshot>> _subscribers = [];
    private SystemStatusSnapshot _current = SystemStatusSnapshot.Empty;

    /// <summary>The latest state.</summary>
    public SystemStatusSnapshot Current => Volatile.Read(ref _current);

    /// <summary>
    /// Applies a change and notifies subscribers on the caller's thread. Subscribers must return quickly:
    /// Blazor components only schedule a render (<c>InvokeAsync(StateHasChanged)</c>).
    /// </summary>
    public void Update(Func<SystemStatusSnapshot, SystemStatusSnapshot> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        SystemStatusSnapshot next;
        Action<SystemStatusSnapshot>[] subscribers;
        lock (_gate)
        {
            next = change(_current);
            Volatile.Write(ref _current, next);
            subscribers = [.. _subscribers];
        }
        foreach (var subscriber in subscribers)
        {
            subscriber(next);
        }
    }

    /// <summary>Calls <paramref name="onChanged"/> after every update until the returned handle is disposed.</summary>
    public IDisposable Subscribe(Action<SystemStatusSnapshot> onChanged)
    {
        ArgumentNullException.ThrowIfNull(onChanged);
        lock (_gate)
        {
            _subscribers.Add(onChanged);
        }
        return new Subscription(this, onChanged);
    }

    private sealed class Subscription(SystemStatus owner, Action<SystemStatusSnapshot> onChanged) : IDisposable
    {
        public void Dispose()
        {
            lock (owner._gate)
            {
                owner._subscribers.Remove(onChanged);
            }
        }
    }
}

/// <summary>One consistent view of the system's state.</summary>
/// <param name="EventsStored">Events in the store; null until the store reports.</param>
/// <param name="QueueDepthByState">Jobs per broker state (PENDING, ASSIGNED, POSTPONED, ...); null until the broker reports.</param>
/// <param name="Workers">Workers the broker knows; null until the broker reports.</param>
/// <param name="Quarantined">Notifications kept in quarantine; null until reported.</param>
/// <param name="UpdatedAt">When any of the above last changed.</param>
public sealed record SystemStatusSnapshot(
    long? EventsStored,
    IReadOnlyDictionary<string, long>? QueueDepthByState,
    IReadOnlyList<WorkerStatus>? Workers,
    long? Quarantined,
    DateTimeOffset? UpdatedAt)
{
    /// <summary>Nothing reported yet.</summary>
    public static SystemStatusSnapshot Empty { get; } = new(null, null, null, null, null);
}

/// <summary>A worker as the broker sees it.</summary>
/// <param name="Id">The worker's identity on the controller channel.</param>
/// <param name="State">READY, BUSY or UNAVAILABLE.</param>
/// <param name="LastSeen">Its last heartbeat.</param>
public sealed record WorkerStatus(string Id, string State, DateTimeOffset LastSeen);
