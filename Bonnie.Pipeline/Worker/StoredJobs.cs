namespace Bonnie.Pipeline.Worker;

/// <summary>
/// The jobs this worker finished lately (stored, or kept as failed), by id: a job of a run is stored only when the job
/// it follows is known to be finished here. Knowing is what keeps a mailbox in order: a predecessor this worker never
/// got (its TAKE lost, its JOB answered GONE) or has forgotten counts as not finished, and its follower is released
/// to the broker, which hands it out again behind it. Releasing is always safe; storing on a guess is not.
/// </summary>
/// <remarks>
/// Bounded: a follower is handed out while its predecessor is still with this worker, so it arrives within a few
/// batches of it; <see cref="Capacity"/> is many times what a worker finishes in that time.
/// </remarks>
internal sealed class StoredJobs
{
    public const int Capacity = 16_384;

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
