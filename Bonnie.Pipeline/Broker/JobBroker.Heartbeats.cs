namespace Bonnie.Pipeline.Broker;

internal sealed partial class JobBroker
{
    private readonly HashSet<JobInfo> _postponed = [];
    private readonly int[] _doneHistory = new int[3600];
    private readonly int[] _submittedHistory = new int[60];
    private long _historySecond;
    private long _lastPurge;
    /// <summary>When the poller last began a turn (a handler of a socket, a command or the tick): <see cref="Turn"/>.</summary>
    private long _lastTurn;
    /// <summary>Time since the last tick in which the broker ran nothing, beyond one interval at each stall.</summary>
    private long _stalled;
    /// <summary>How far the wall clock went back since the last tick (0: it did not).</summary>
    private long _steppedBackBy;

    /// <summary>Every heartbeat interval: lost workers, missed deadlines, due retries, collects, the published state.</summary>
    private void Tick()
    {
        var now = Turn();
        ForgiveOwnPause(now);
        var silentFor = (long)(_options.HeartbeatInterval.TotalMilliseconds * _options.HeartbeatLiveness);
        foreach (var worker in _workerRing.Where(w => now - w.LastSeen > silentFor).ToList())
        {
            LoseWorker(worker, $"no heartbeat for {now - worker.LastSeen} ms");
        }
        foreach (var collector in _collectors.Values.Where(c => now - c.LastSeen > silentFor).ToList())
        {
            _collectors.Remove(collector.Id);
            foreach (var job in _collecting.Where(j => ReferenceEquals(j.Collector, collector)))
            {
                job.Collector = null;
            }
        }
        foreach (var job in _jobs.Values.Where(j => j.State == JobState.Assigned && j.Deadline <= now).ToList())
        {
            if (job.State != JobState.Assigned || job.Worker is not { } worker)
            {
                // Put back with the run it followed, below.
                continue;
            }
            if (FollowsJobOf(job, worker))
            {
                // Its predecessor with the same worker is not late (it was handed out later, after a retry): it goes
                // back with that one's run when that one is.
                continue;
            }
            if (!job.Asked)
            {
                LogTakeLost(_logger, job.Id, worker.Id);
                PutBackLostTake(job, worker);
                continue;
            }
            // A busy worker past its deadline loses the job and gets no more until it says READY again. Not one whose
            // last "READY <n>" came after this TAKE: that count is of a process that does not hold the job (one restarted
            // under the same name), and an idle worker might not say READY again.
            if (job.Take > worker.ReadyAfterTake)
            {
                worker.Unavailable = true;
            }
            LogDeadlineMissed(_logger, job.Id, worker.Id);
            RequeueWithRun(job, worker, $"worker {worker.Id} missed the job's deadline of {_options.JobDeadline}");
        }
        foreach (var job in _postponed.Where(j => j.NotBefore <= now).ToList())
        {
            _postponed.Remove(job);
            job.State = JobState.Pending;
            job.NotBefore = null;
            MarkReadyIfHead(job.Lane);
        }
        foreach (var job in _collecting.Where(j => j.Collector is null).ToList())
        {
            SendToCollector(job);
        }
        ExpireCollects(now);
        if (now - _lastPurge > 60_000)
        {
            _lastPurge = now;
            _journal!.Enqueue(new JournalWrite.PurgeDone(now - (long)_options.DoneRetention.TotalMilliseconds));
        }
        Dispatch();
        PublishSnapshot();
    }

    /// <summary>
    /// Called as each turn of the poller begins. Two intervals or more since the last turn began means the broker ran
    /// nothing meanwhile: its process was paused (a long garbage collection, a suspended virtual machine, a laptop
    /// asleep), one turn took that long, or the wall clock was stepped forward. A broker merely busy, turn after short
    /// turn, reads its workers' heartbeats as they come, and is not counted: each turn begins within an interval of the
    /// last, however late the tick runs.
    /// </summary>
    private long Turn()
    {
        var now = Now;
        if (_lastTurn != 0)
        {
            var gap = now - _lastTurn;
            var interval = (long)_options.HeartbeatInterval.TotalMilliseconds;
            if (gap < 0)
            {
                _steppedBackBy = Math.Max(_steppedBackBy, -gap);
            }
            else if (gap >= 2 * interval)
            {
                _stalled += gap - interval;
            }
        }
        _lastTurn = now;
        return now;
    }

    /// <summary>A handler of the poller, as one turn (<see cref="Turn"/>).</summary>
    private void InTurn(Action handle)
    {
        Turn();
        handle();
    }

    /// <summary>
    /// The time the broker ran nothing (<see cref="Turn"/>) read no heartbeat, so it is not the workers' silence, nor time
    /// they had for their jobs: their last word and the jobs' deadlines move on by it. Counted, every worker would be lost
    /// at once after a pause, and every job they hold would go out again with an attempt charged while they still store
    /// it. A worker that is really gone is lost after the same number of ticks as ever.
    /// </summary>
    private void ForgiveOwnPause(long now)
    {
        var (forgiven, steppedBackBy) = (_stalled, _steppedBackBy);
        (_stalled, _steppedBackBy) = (0, 0);
        if (forgiven == 0 && steppedBackBy == 0)
        {
            return;
        }
        // A clock stepped back leaves last words and deadlines ahead of now: a worker that is gone would not be lost, nor a
        // late job taken back, until the clock caught up again (an hour back, an hour). They are brought back to now
        // (below), not shifted: what was read since the step already counts from the new time.
        if (steppedBackBy > 0)
        {
            LogClockSteppedBack(_logger, steppedBackBy);
        }
        if (forgiven > 0)
        {
            LogPaused(_logger, forgiven);
        }
        // Never later than now: a word read in this same turn, before the tick, already counts from now (and the live
        // view shows when each was last seen). Likewise a deadline is never further than a whole one from now: a job handed
        // out or sent to collect in this same turn already has its whole time from now.
        var jobDeadline = (long)_options.JobDeadline.TotalMilliseconds;
        var collectTimeout = (long)_options.CollectTimeout.TotalMilliseconds;
        foreach (var worker in _workerRing)
        {
            worker.LastSeen = Math.Min(now, worker.LastSeen + forgiven);
        }
        foreach (var collector in _collectors.Values)
        {
            collector.LastSeen = Math.Min(now, collector.LastSeen + forgiven);
        }
        foreach (var job in _jobs.Values)
        {
            if (job.State is JobState.Assigned)
            {
                job.Deadline = Math.Min(now + jobDeadline, job.Deadline + forgiven);
            }
            else if (job.State is JobState.Collecting)
            {
                job.Deadline = Math.Min(now + collectTimeout, job.Deadline + forgiven);
            }
        }
    }

    private void AdvanceHistory(long now)
    {
        var second = now / 1000;
        if (_historySecond == 0)
        {
            _historySecond = second;
        }
        for (var s = _historySecond; s < second && s < _historySecond + 3600; s++)
        {
            _doneHistory[s % 3600] = 0;
            _submittedHistory[s % 60] = 0;
        }
        _doneHistory[(_historySecond % 3600)] += _doneThisSecond;
        _submittedHistory[(_historySecond % 60)] += _submittedThisSecond;
        _doneThisSecond = 0;
        _submittedThisSecond = 0;
        if (second != _historySecond)
        {
            _doneHistory[second % 3600] = 0;
            _submittedHistory[second % 60] = 0;
            _historySecond = second;
        }
    }

    private void PublishSnapshot()
    {
        var nowTime = _time.GetUtcNow();
        var now = nowTime.ToUnixTimeMilliseconds();
        AdvanceHistory(now);
        var counts = new Dictionary<JobState, long>
        {
            [JobState.Pending] = 0, [JobState.Assigned] = 0, [JobState.Collecting] = 0, [JobState.Postponed] = 0,
            [JobState.Done] = _finished[JobState.Done], [JobState.Failed] = _finished[JobState.Failed],
        };
        foreach (var job in _jobs.Values)
        {
            counts[job.State]++;
        }
        var current = _historySecond % 3600;
        var history = new int[3600];
        for (var i = 0; i < 3600; i++)
        {
            history[i] = _doneHistory[(current + 1 + i) % 3600];
        }
        var lastMinuteDone = 0;
        for (var i = 0; i < 60; i++)
        {
            lastMinuteDone += history[3599 - i];
        }
        _monitor.Publish(new BrokerSnapshot
        {
            Running = _fault is null,
            At = nowTime,
            Jobs = counts,
            DoneRetention = _options.DoneRetention,
            Workers = _workerRing.Select(w => new WorkerSnapshot(
                w.Id,
                w.Unavailable ? WorkerState.Unavailable : w.FreeSlots > 0 ? WorkerState.Ready : WorkerState.Busy,
                w.FreeSlots, w.Jobs.Count, DateTimeOffset.FromUnixTimeMilliseconds(w.LastSeen))).ToList(),
            Collectors = _collectors.Count,
            SubmittedPerSecond = _submittedHistory.Sum() / 60.0,
            DonePerSecond = lastMinuteDone / 60.0,
            DoneHistory = history,
            Submitted = _submitted,
            Duplicates = _duplicates,
            Refused = _refused,
            Fault = _fault,
        });
    }
}
