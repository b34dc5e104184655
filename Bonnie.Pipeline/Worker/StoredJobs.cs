namespace Bonnie.Pipeline.Worker;

/// <summary>
/// The jobs this worker finished lately (stored, or kept as failed), by id: a job of a run is stored only when the job
/// it follows is known to be finished here. Knowing is what keeps a mailbox in order: a predecessor this worker never
/// got (its TAKE lost, its JOB answered GONE) or has forgotten counts as not finished, and its follower is released
/// to the broker, which hands it out again behind it. Releasing is always safe; storing on a guess is not.
/// </summary>
/// <remarks>
/// Bounded: a follower is handed out while its predecessor is still with this worker, so it arrives within a few
/// batches of it; the capacity is several times what a worker holds (a batch is at most what its slots hold), so
/// several batches' worth. Forgetting too early would cost releases, never order.
/// </remarks>
internal sealed class StoredJobs(int capacity)
{
    /// <summary>Slots times this many jobs are remembered: four batches of a full worker.</summary>
    public const int BatchesRemembered = 4;

    public int Capacity { get; } = capacity;

    private readonly Dictionary<string, bool> _finished = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();
    private readonly Lock _lock = new();

    public void Record(string id, bool finished)
    {
        lock (_lock)
        {
            if (!_finished.ContainsKey(id))
            {
                _order.Enqueue(id);
                if (_order.Count > Capacity)
                {
                    _finished.Remove(_order.Dequeue());
                }
            }
            _finished[id] = finished;
        }
    }

    public bool IsFinished(string id)
    {
        lock (_lock)
        {
            return _finished.TryGetValue(id, out var finished) && finished;
        }
    }
}
