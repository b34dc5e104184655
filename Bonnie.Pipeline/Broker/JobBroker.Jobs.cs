namespace Bonnie.Pipeline.Broker;

internal sealed partial class JobBroker
{
    private sealed class JobInfo(long seq, string id, Lane lane)
    {
        public long Seq { get; } = seq;
        public string Id { get; } = id;
        public Lane Lane { get; } = lane;
        public JobState State { get; set; }
        public int Attempts { get; set; }
        public long? NotBefore { get; set; }
        public string? Reason { get; set; }
        public WorkerInfo? Worker { get; set; }
        public long Deadline { get; set; }
        public IReadOnlyList<string> CollectRequests { get; set; } = [];
        public CollectorInfo? Collector { get; set; }
    }

    /// <summary>The jobs of one mailbox owner, in arrival order; only the head is ever out with a worker.</summary>
    private sealed class Lane(string key)
    {
        public string Key { get; } = key;
        public Queue<JobInfo> Jobs { get; } = new();
        public bool Queued { get; set; }
    }

    private readonly Dictionary<string, JobInfo> _jobs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Lane> _lanes = new(StringComparer.Ordinal);
    private readonly PriorityQueue<Lane, long> _readyLanes = new();
    private readonly Dictionary<JobState, long> _finished = new() { [JobState.Done] = 0, [JobState.Failed] = 0 };

    private void Reload(JobJournal journal)
    {
        foreach (var stored in journal.LoadUnfinished())
        {
            // Whatever was out with a worker or a collector when the broker stopped goes out again; the store is
            // idempotent by job id, so a job the worker had already finished is not stored twice.
            var job = Admit(stored.Seq, stored.Id, stored.Lane);
            job.Attempts = stored.Attempts;
            job.Reason = stored.Reason;
            job.State = stored.State == JobState.Postponed ? JobState.Postponed : JobState.Pending;
            job.NotBefore = stored.State == JobState.Postponed ? stored.NotBefore : null;
            if (job.State == JobState.Postponed)
            {
                _postponed.Add(job);
            }
            MarkReadyIfHead(job.Lane);
        }
        _finished[JobState.Done] = journal.Count(JobState.Done);
        _finished[JobState.Failed] = journal.Count(JobState.Failed);
    }

    private JobInfo Admit(long seq, string id, string laneKey)
    {
        if (!_lanes.TryGetValue(laneKey, out var lane))
        {
            lane = new Lane(laneKey);
            _lanes.Add(laneKey, lane);
        }
        var job = new JobInfo(seq, id, lane) { State = JobState.Pending };
        lane.Jobs.Enqueue(job);
        _jobs.Add(id, job);
        return job;
    }

    private void MarkReadyIfHead(Lane lane)
    {
        if (!lane.Queued && lane.Jobs.TryPeek(out var head) && head.State == JobState.Pending)
        {
            lane.Queued = true;
            _readyLanes.Enqueue(lane, head.Seq);
        }
    }

    /// <summary>Hands ready lanes' head jobs to workers with free slots, oldest job first.</summary>
    private void Dispatch()
    {
        while (_readyLanes.Count > 0)
        {
            var worker = NextFreeWorker();
            if (worker is null)
            {
                return;
            }
            var lane = _readyLanes.Dequeue();
            lane.Queued = false;
            if (!lane.Jobs.TryPeek(out var job) || job.State != JobState.Pending)
            {
                continue;
            }
            if (!Assign(job, worker))
            {
                MarkReadyIfHead(lane);
            }
        }
    }

    private void Finish(JobInfo job, JobState state, string? reason)
    {
        job.State = state;
        job.Reason = reason;
        job.Worker?.Jobs.Remove(job.Id);
        job.Worker = null;
        _jobs.Remove(job.Id);
        _postponed.Remove(job);
        _collecting.Remove(job);
        var lane = job.Lane;
        if (lane.Jobs.TryPeek(out var head) && ReferenceEquals(head, job))
        {
            lane.Jobs.Dequeue();
        }
        else if (RemoveFromLane(lane, job))
        {
            // Only a lane's head is ever out, but a worker may report a job a broker killed before handed it: that
            // broker had finished the jobs ahead of it, and their DONE died with it before reaching the disk. The
            // job is done; left in the lane, it would become a head no one hands out and stall the lane for ever.
            LogFinishedBehindHead(_logger, job.Id, lane.Key);
        }
        if (lane.Jobs.Count == 0)
        {
            _lanes.Remove(lane.Key);
        }
        else
        {
            MarkReadyIfHead(lane);
        }
        _journal!.Enqueue(new JournalWrite.SetState(job.Id, state, job.Attempts, null, reason));
        if (state == JobState.Done)
        {
            _doneThisSecond++;
        }
        else
        {
            LogJobFailed(_logger, job.Id, job.Attempts, reason ?? "");
        }
    }

    private static bool RemoveFromLane(Lane lane, JobInfo job)
    {
        var rest = lane.Jobs.Where(j => !ReferenceEquals(j, job)).ToList();
        if (rest.Count == lane.Jobs.Count)
        {
            return false;
        }
        lane.Jobs.Clear();
        foreach (var other in rest)
        {
            lane.Jobs.Enqueue(other);
        }
        return true;
    }

    /// <summary>Back to PENDING after a lost worker or a missed deadline; FAILED once the attempts are used up.</summary>
    private void Requeue(JobInfo job, string reason)
    {
        job.Worker?.Jobs.Remove(job.Id);
        job.Worker = null;
        job.Attempts++;
        if (job.Attempts >= _options.MaxAttempts)
        {
            Finish(job, JobState.Failed, $"{reason} ({job.Attempts} attempts)");
            return;
        }
        job.State = JobState.Pending;
        job.Reason = reason;
        _journal!.Enqueue(new JournalWrite.SetState(job.Id, JobState.Pending, job.Attempts, null, reason));
        MarkReadyIfHead(job.Lane);
    }

    private void Postpone(JobInfo job, string reason, TimeSpan? retryAfter)
    {
        job.Worker?.Jobs.Remove(job.Id);
        job.Worker = null;
        job.Attempts++;
        if (job.Attempts >= _options.MaxAttempts)
        {
            Finish(job, JobState.Failed, $"postponed {job.Attempts} times, last because: {reason}");
            return;
        }
        var delay = retryAfter ?? _options.PostponeDelay * Math.Pow(2, job.Attempts - 1);
        job.State = JobState.Postponed;
        job.Reason = reason;
        job.NotBefore = Now + (long)delay.TotalMilliseconds;
        _postponed.Add(job);
        _journal!.Enqueue(new JournalWrite.SetState(job.Id, JobState.Postponed, job.Attempts, job.NotBefore, reason));
    }

    private bool RetryFailed(string id)
    {
        if (_journal?.Read(id) is not { } stored || stored.Job.State != JobState.Failed)
        {
            return false;
        }
        var job = Admit(stored.Job.Seq, id, stored.Job.Lane);
        _finished[JobState.Failed]--;
        _journal.Enqueue(new JournalWrite.SetState(id, JobState.Pending, 0, null, null));
        // A retried job waits behind what its lane already holds: it is older, but the lane has moved on.
        MarkReadyIfHead(job.Lane);
        Dispatch();
        PublishSnapshot();
        return true;
    }
}
