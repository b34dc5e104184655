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
        /// <summary>Its worker asked for it (GET) since it was handed out: the TAKE arrived.</summary>
        public bool Asked { get; set; }
        /// <summary>
        /// Numbers the TAKEs in the order they are sent (from 1). A worker gets its TAKEs in that order, or loses them, and
        /// asks for each as it comes: if it asked for a job and not for one of its jobs with a lower number, that TAKE was
        /// lost (<see cref="Release"/>).
        /// </summary>
        public long Take { get; set; }
        /// <summary>
        /// The <see cref="Take"/> of the job before it, when the worker that had asked for that one gave this one back:
        /// not handed out again behind that same TAKE (<see cref="Release"/>).
        /// </summary>
        public long ReleasedBehind { get; set; }
        public long Deadline { get; set; }
        public IReadOnlyList<string> CollectRequests { get; set; } = [];
        public CollectorInfo? Collector { get; set; }
    }

    /// <summary>
    /// The jobs of one mailbox owner, in arrival order. What is out with workers is the head, or a run: the head and
    /// the jobs right behind it, all with the one worker that holds the head (<see cref="ExtendRun"/>).
    /// </summary>
    private sealed class Lane(string key)
    {
        public string Key { get; } = key;
        public Queue<JobInfo> Jobs { get; } = new();
        public bool Queued { get; set; }
    }

    private readonly Dictionary<string, JobInfo> _jobs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Lane> _lanes = new(StringComparer.Ordinal);
    private readonly PriorityQueue<Lane, long> _readyLanes = new();
    /// <summary>Lanes whose head is out and that may have jobs pending behind their run (new, or a slot freed).</summary>
    private readonly HashSet<Lane> _extendable = [];
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
        if (lane.Jobs.Peek().State == JobState.Assigned)
        {
            _extendable.Add(lane);
        }
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
            if (Assign(job, worker) && !ExtendRun(lane, worker))
            {
                _extendable.Add(lane);
            }
            else if (job.State != JobState.Assigned)
            {
                MarkReadyIfHead(lane);
            }
        }
        ExtendRuns();
    }

    private void ExtendRuns()
    {
        // Nothing to do while no worker that takes runs has a free slot (the common case under load: O(1)).
        if (_extendable.Count == 0 || !_workerRing.Exists(w => w.TakesRuns && w.FreeSlots > 0 && !w.Unavailable))
        {
            return;
        }
        foreach (var lane in _extendable.ToList())
        {
            if (!lane.Jobs.TryPeek(out var head) || head.State != JobState.Assigned || head.Worker is not { } worker
                || ExtendRun(lane, worker))
            {
                _extendable.Remove(lane);
            }
        }
    }

    /// <summary>
    /// Hands the worker that holds a lane's head the pending jobs right behind it, in order, each with the id of the
    /// job it follows, up to <see cref="BrokerOptions.MaxLaneRun"/> out at once. The worker stores them in one
    /// transaction, in order, and gives back (RELEASE) any whose predecessor it did not store, so the lane's order holds
    /// however each ends. False when the worker's free slots stopped the run (try again when one frees).
    /// </summary>
    private bool ExtendRun(Lane lane, WorkerInfo worker)
    {
        if (!worker.TakesRuns || _options.MaxLaneRun <= 1)
        {
            return true;
        }
        if (worker.FreeSlots <= 0 || worker.Unavailable)
        {
            return false;
        }
        var run = 0;
        JobInfo? last = null;
        var next = new List<JobInfo>();
        foreach (var job in lane.Jobs)
        {
            if (next.Count == 0 && job.State == JobState.Assigned && ReferenceEquals(job.Worker, worker))
            {
                run++;
                last = job;
                continue;
            }
            // The run starts at the head and has no gaps: a job behind one that is not with this worker waits. So does one
            // this worker gave back behind the very TAKE it still holds: it would give it back again.
            if (last is null || job.State != JobState.Pending || job.ReleasedBehind == last.Take
                || run + next.Count >= _options.MaxLaneRun || next.Count >= worker.FreeSlots)
            {
                break;
            }
            next.Add(job);
        }
        foreach (var job in next)
        {
            // Assign may lose the worker (its connection is gone), which puts its jobs back: stop there.
            if (!ReferenceEquals(last!.Worker, worker) || !Assign(job, worker, last.Id))
            {
                return true;
            }
            last = job;
        }
        return worker.FreeSlots > 0 || run + next.Count >= _options.MaxLaneRun;
    }

    /// <summary>True when the job just ahead of this one in its lane is out with the same worker (a run's follower).</summary>
    private static bool FollowsJobOf(JobInfo job, WorkerInfo worker)
        => Predecessor(job) is { State: JobState.Assigned } previous && ReferenceEquals(previous.Worker, worker);

    /// <summary>The job just ahead of this one in its lane, if any.</summary>
    private static JobInfo? Predecessor(JobInfo job)
    {
        JobInfo? previous = null;
        foreach (var other in job.Lane.Jobs)
        {
            if (ReferenceEquals(other, job))
            {
                return previous;
            }
            previous = other;
        }
        return null;
    }

    /// <summary>
    /// Back to PENDING after a lost worker or a missed deadline, charged an attempt (<see cref="Requeue"/>), with the rest
    /// of its run: the jobs right behind it out with the same worker go back without one. They only waited on this job,
    /// so a job that crashes or hangs its worker does not take its followers to FAILED with it.
    /// </summary>
    private void RequeueWithRun(JobInfo head, WorkerInfo worker, string reason)
    {
        var run = RunBehind(head, worker);
        Requeue(head, reason);
        PutBackRun(run, worker);
    }

    /// <summary>
    /// At the deadline of a job its worker never asked for: its TAKE was lost (a connection that broke and came back
    /// discards what was queued on it), so the job never ran and the worker never had it. Back to PENDING with its run,
    /// without an attempt, and the slots counted for what never arrived are free again.
    /// </summary>
    private void PutBackLostTake(JobInfo head, WorkerInfo worker)
    {
        var run = RunBehind(head, worker);
        WriteOffTake(head, worker);
        PutBack(head);
        PutBackRun(run, worker);
    }

    /// <summary>The jobs right behind <paramref name="head"/> in its lane out with the same worker, in order.</summary>
    private static List<JobInfo> RunBehind(JobInfo head, WorkerInfo worker)
    {
        var run = new List<JobInfo>();
        var behind = false;
        foreach (var other in head.Lane.Jobs)
        {
            if (behind)
            {
                if (other.State != JobState.Assigned || !ReferenceEquals(other.Worker, worker))
                {
                    break;
                }
                run.Add(other);
            }
            behind |= ReferenceEquals(other, head);
        }
        return run;
    }

    private void PutBackRun(List<JobInfo> run, WorkerInfo worker)
    {
        foreach (var follower in run)
        {
            // One the worker asked for it holds, and gives back itself (RELEASE, with a READY for its slot); one it
            // never asked for did not reach it, with its head's TAKE or on its own.
            if (!follower.Asked)
            {
                WriteOffTake(follower, worker);
            }
            PutBack(follower);
        }
    }

    /// <summary>
    /// RELEASE from the worker that holds the job: it did not store it, because it does not have the job it follows
    /// stored. If that job is out with the same worker, was handed out before this one and was never asked for, while
    /// this one was, its TAKE was lost: the control socket and the job channel are each ordered, and a worker asks for a
    /// TAKE as soon as it comes. It goes back at once, as at its deadline (<see cref="PutBackLostTake"/>), and the lane
    /// goes out again in order. Left out until its deadline, this job would go out again behind it, come back, and so on.
    /// If the worker did ask for that job, this one waits until that job is reported or goes out again.
    /// </summary>
    private void Release(JobInfo job, WorkerInfo worker)
    {
        var previous = Predecessor(job);
        // An old copy given back (handed out again, its new TAKE not answered yet; a stopping worker's TAKEs were counted
        // in its "READY 0" and free nothing here).
        WriteOffUnansweredTake(job);
        // Back first, so that only the job before it is written off: the jobs behind it that are still out the worker
        // gives back itself (it did not store this one).
        PutBack(job);
        if (previous is not { State: JobState.Assigned } || !ReferenceEquals(previous.Worker, worker))
        {
            return;
        }
        if (previous.Asked)
        {
            // It has that job and did not store it, yet its report has not come: it was sent before this RELEASE, on
            // the same channel, and lost with a broken connection (or the worker restarted under the same name). Handed
            // out behind it again, this one would come back again, and so on until that job's deadline.
            job.ReleasedBehind = previous.Take;
        }
        // Only a job the worker asked for tells of the TAKE before it. A stopping worker gives back each TAKE as it comes,
        // without asking, the one before first. A worker may give back a copy it held from before (taken back at a
        // deadline and handed out again) before the new TAKEs reach it. And a TAKE of the job before sent after this
        // one's (that job came back from a postponement) may still be on its way.
        else if (job.Asked && previous.Take < job.Take)
        {
            LogTakeLostBehindRelease(_logger, previous.Id, worker.Id, job.Id);
            PutBackLostTake(previous, worker);
        }
    }

    /// <summary>RELEASE: the worker did not process the job (it follows one that was not stored); no attempt counted.</summary>
    private void PutBack(JobInfo job)
    {
        job.Worker?.Jobs.Remove(job.Id);
        job.Worker = null;
        job.State = JobState.Pending;
        MarkReadyIfHead(job.Lane);
        _extendable.Add(job.Lane);
    }

    /// <summary>
    /// A job leaves ASSIGNED on the word of a copy handed out before (a report of another worker that had it before its
    /// deadline, or of its holder's old copy) while its TAKE to the holder is unanswered: that TAKE may be lost, and
    /// nothing else would free its slot, as the job no longer has a deadline there. If it was only late, its GET is
    /// answered GONE and takes the slot back (SendJob).
    /// </summary>
    private void WriteOffUnansweredTake(JobInfo job)
    {
        if (job is { State: JobState.Assigned, Asked: false, Worker: { } holder })
        {
            WriteOffTake(job, holder);
        }
    }

    private void Finish(JobInfo job, JobState state, string? reason)
    {
        WriteOffUnansweredTake(job);
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
            _extendable.Remove(lane);
        }
        else
        {
            MarkReadyIfHead(lane);
            // The run behind a finished head has room for one more.
            _extendable.Add(lane);
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
        WriteOffUnansweredTake(job);
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
