using System.Globalization;
using System.Text;
using Bonnie.Shared.Protocol;
using NetMQ;

namespace Bonnie.Pipeline.Broker;

internal sealed partial class JobBroker
{
    private sealed class WorkerInfo(string id, byte[] identity)
    {
        public string Id { get; } = id;
        public byte[] Identity { get; } = identity;
        public int FreeSlots { get; set; }
        public bool Unavailable { get; set; }
        /// <summary>Said <c>READY n RUNS</c>: takes several jobs of one lane at once and stores them in order.</summary>
        public bool TakesRuns { get; set; }
        public long LastSeen { get; set; }
        public HashSet<string> Jobs { get; } = new(StringComparer.Ordinal);
        /// <summary>
        /// Jobs whose TAKE was taken as lost and whose slot was counted free again (<see cref="WriteOffTake"/>), with
        /// the time until which a late GET for one is still matched.
        /// </summary>
        public Dictionary<string, long> LostTakes { get; } = new(StringComparer.Ordinal);
        /// <summary>
        /// <see cref="LostTakes"/> in the order they were written off, which is the order they expire in (each for one
        /// deadline): the expired ones are dropped from the front, not found by a scan of them all.
        /// </summary>
        public Queue<(string Id, long Until)> LostTakesByExpiry { get; } = new();
        /// <summary>
        /// The last TAKE sent before its last "READY &lt;n&gt;": a TAKE up to it that never reached the worker was counted
        /// free in n (a new process under the same name holds nothing; after HELLO a worker counts free what it had not
        /// got yet), so writing it off frees no slot.
        /// </summary>
        public long ReadyAfterTake { get; set; }
    }

    /// <summary>
    /// Bounds <see cref="WorkerInfo.LostTakes"/> of one worker: a TAKE written off and then handed to another worker
    /// stays remembered for a deadline, and a connection that breaks under a worker with many slots loses as many TAKEs:
    /// as many as a worker may have slots (<c>Bonnie:Worker:Concurrency</c> is at most 65,536), a few megabytes at most.
    /// </summary>
    private const int MaxLostTakes = 65_536;

    private readonly Dictionary<string, WorkerInfo> _workers = new(StringComparer.Ordinal);
    private readonly List<WorkerInfo> _workerRing = [];
    private int _nextWorker;
    private long _takes;
    private int _doneThisSecond;

    private WorkerInfo Seen(byte[] identity, out bool known)
    {
        var id = IdentityText(identity);
        known = _workers.TryGetValue(id, out var worker);
        if (worker is null)
        {
            worker = new WorkerInfo(id, identity);
            _workers.Add(id, worker);
            _workerRing.Add(worker);
            LogWorkerJoined(_logger, id);
        }
        worker.LastSeen = Now;
        return worker;
    }

    private static string IdentityText(byte[] identity)
    {
        foreach (var b in identity)
        {
            if (b is < 0x21 or > 0x7e)
            {
                return Convert.ToHexStringLower(identity);
            }
        }
        return Encoding.ASCII.GetString(identity);
    }

    private void ReceiveControl()
    {
        var message = new NetMQMessage();
        for (var i = 0; i < 1000 && _controller.TryReceiveMultipartMessage(ref message); i++)
        {
            if (message.FrameCount >= 2)
            {
                var worker = Seen(message[0].ToByteArray(), out var known);
                var command = Text(message[1]);
                if (command == WireProtocol.Ready && message.FrameCount >= 3
                    && int.TryParse(Text(message[2]), NumberStyles.None, CultureInfo.InvariantCulture, out var free))
                {
                    // "READY <n>": the worker says how many slots it has free, all told (at start, or after HELLO).
                    // A written-off TAKE that still comes may be counted in n already: forgotten, its late GET can leave
                    // the worker a slot more than it has, never one less.
                    worker.FreeSlots = free;
                    worker.ReadyAfterTake = _takes;
                    worker.LostTakes.Clear();
                    worker.LostTakesByExpiry.Clear();
                    worker.Unavailable = false;
                    worker.TakesRuns = message.FrameCount >= 4 && Text(message[3]) == WireProtocol.Runs;
                }
                else if (!known)
                {
                    // The first word of a worker this broker does not know is not its count (the broker restarted
                    // while the worker ran): ask it to say how many slots it has free.
                    SendControl(worker, WireProtocol.Hello);
                }
                else if (command == WireProtocol.Ready)
                {
                    // A bare READY: one more slot free.
                    worker.FreeSlots++;
                    worker.Unavailable = false;
                }
            }
            message = new NetMQMessage();
        }
        Dispatch();
    }

    private WorkerInfo? NextFreeWorker()
    {
        for (var i = 0; i < _workerRing.Count; i++)
        {
            var worker = _workerRing[(_nextWorker + i) % _workerRing.Count];
            if (worker.FreeSlots > 0 && !worker.Unavailable)
            {
                _nextWorker = (_nextWorker + i + 1) % _workerRing.Count;
                return worker;
            }
        }
        return null;
    }

    private bool Assign(JobInfo job, WorkerInfo worker, string? after = null)
    {
        if (!(after is null ? SendControl(worker, WireProtocol.Take, job.Id) : SendControl(worker, WireProtocol.Take, job.Id, after)))
        {
            return false;
        }
        worker.FreeSlots--;
        worker.Jobs.Add(job.Id);
        job.State = JobState.Assigned;
        job.Worker = worker;
        job.Asked = false;
        job.Take = ++_takes;
        job.Deadline = Now + (long)_options.JobDeadline.TotalMilliseconds;
        return true;
    }

    private bool SendControl(WorkerInfo worker, params string[] frames)
    {
        var message = new NetMQMessage(frames.Length + 1);
        message.Append(worker.Identity);
        foreach (var frame in frames)
        {
            message.Append(frame);
        }
        try
        {
            _controller.SendMultipartMessage(message);
            return true;
        }
        catch (HostUnreachableException)
        {
            LoseWorker(worker, "its connection is gone");
            return false;
        }
    }

    private void ReceiveWorkerMessages()
    {
        var message = new NetMQMessage();
        for (var i = 0; i < 1000 && _workerChannel.TryReceiveMultipartMessage(ref message); i++)
        {
            if (message.FrameCount >= 3)
            {
                var worker = Seen(message[0].ToByteArray(), out _);
                var id = Text(message[2]);
                switch (Text(message[1]))
                {
                    case WireProtocol.Get:
                        SendJob(worker, id);
                        break;
                    case WireProtocol.Done when _jobs.TryGetValue(id, out var job):
                        // Accepted from whichever worker finishes first: the store is idempotent by job id.
                        Finish(job, JobState.Done, null);
                        break;
                    // Only from the worker that holds it: a copy taken back at its deadline and handed out again is
                    // the new holder's to postpone or collect for (a DONE or FAIL, below, is final from any worker).
                    case WireProtocol.Postpone when _jobs.TryGetValue(id, out var job) && job.State == JobState.Assigned
                                                     && ReferenceEquals(job.Worker, worker):
                        var reason = message.FrameCount > 3 ? message[3].ConvertToString(Encoding.UTF8) : "postponed by the worker";
                        TimeSpan? after = message.FrameCount > 4 && long.TryParse(Text(message[4]), NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms > 0
                            ? TimeSpan.FromMilliseconds(ms)
                            : null;
                        Postpone(job, reason, after);
                        break;
                    case WireProtocol.Collect when _jobs.TryGetValue(id, out var job) && job.State == JobState.Assigned
                                                    && ReferenceEquals(job.Worker, worker):
                        var requests = new List<string>();
                        for (var f = 3; f < message.FrameCount; f++)
                        {
                            requests.Add(message[f].ConvertToString(Encoding.UTF8));
                        }
                        StartCollect(job, requests);
                        break;
                    case WireProtocol.Release when _jobs.TryGetValue(id, out var job) && job.State == JobState.Assigned
                                                     && ReferenceEquals(job.Worker, worker):
                        Release(job, worker);
                        break;
                    case WireProtocol.Fail when _jobs.TryGetValue(id, out var job):
                        Finish(job, JobState.Failed, message.FrameCount > 3 ? message[3].ConvertToString(Encoding.UTF8) : "failed by the worker");
                        break;
                }
            }
            message = new NetMQMessage();
        }
        Dispatch();
    }

    /// <summary>
    /// Answers a GET: JOB when the job is out with this worker, GONE when not. A GET for a TAKE written off as lost
    /// (<see cref="WriteOffTake"/>) shows that it was only late: the worker holds a slot for it until this GONE, then
    /// frees it with a bare READY, so that slot counts as busy again.
    /// </summary>
    private void SendJob(WorkerInfo worker, string id)
    {
        var reply = new NetMQMessage();
        reply.Append(worker.Identity);
        var held = _jobs.TryGetValue(id, out var job) && job.State == JobState.Assigned && ReferenceEquals(job.Worker, worker)
            ? job
            : null;
        if (held is not null)
        {
            held.Asked = true;
            // Handed to it again after its TAKE was written off, it may be asking for either TAKE: counted for the new
            // one. Were it the old one, the new one comes as a duplicate, which the worker frees at once: a slot more
            // than it has, never one less (docs/broker.md).
            worker.LostTakes.Remove(id);
        }
        else if (worker.LostTakes.Remove(id, out var until) && until > Now)
        {
            worker.FreeSlots--;
            LogLateTake(_logger, id, worker.Id);
        }
        if (held is not null && _journal!.Read(id) is { } stored)
        {
            reply.Append(WireProtocol.Job);
            reply.Append(id);
            reply.Append(held.Attempts.ToString(CultureInfo.InvariantCulture));
            reply.Append(stored.Job.ReceivedAt.ToString(CultureInfo.InvariantCulture));
            reply.Append(stored.Notification);
            foreach (var item in stored.Collected)
            {
                reply.Append(item.Request, Encoding.UTF8);
                reply.Append(item.Error ?? WireProtocol.CollectOk, Encoding.UTF8);
                reply.Append(item.Data.ToArray());
            }
        }
        else
        {
            reply.Append(WireProtocol.Gone);
            reply.Append(id);
        }
        try
        {
            _workerChannel.SendMultipartMessage(reply);
        }
        catch (HostUnreachableException)
        {
            LoseWorker(worker, "its connection is gone");
        }
    }

    /// <summary>
    /// The slot counted for a TAKE the worker never asked for is free again; remembered for one more deadline, in case
    /// the TAKE was only late (see <see cref="SendJob"/>).
    /// </summary>
    private void WriteOffTake(JobInfo job, WorkerInfo worker)
    {
        if (job.Take <= worker.ReadyAfterTake)
        {
            // Counted free in the worker's last "READY <n>" already: crediting it again would leave the worker more
            // slots than it has, one for each job of a process that restarted under the same name.
            return;
        }
        worker.FreeSlots++;
        var now = Now;
        while (worker.LostTakesByExpiry.TryPeek(out var oldest) && oldest.Until <= now)
        {
            worker.LostTakesByExpiry.Dequeue();
            // Unless written off again since (then a later entry stands for it), or matched by a late GET already.
            if (worker.LostTakes.TryGetValue(oldest.Id, out var until) && until == oldest.Until)
            {
                worker.LostTakes.Remove(oldest.Id);
            }
        }
        // Full of TAKEs written off within a deadline: a late one goes unmatched, and leaves the worker a slot more than
        // it has (it takes one job too many), never one less.
        if (worker.LostTakes.Count < MaxLostTakes && worker.LostTakesByExpiry.Count < 2 * MaxLostTakes)
        {
            var until = now + (long)_options.JobDeadline.TotalMilliseconds;
            worker.LostTakes[job.Id] = until;
            worker.LostTakesByExpiry.Enqueue((job.Id, until));
        }
    }

    private void LoseWorker(WorkerInfo worker, string reason)
    {
        LogWorkerLost(_logger, worker.Id, reason, worker.Jobs.Count);
        _workers.Remove(worker.Id);
        var index = _workerRing.IndexOf(worker);
        _workerRing.RemoveAt(index);
        if (_nextWorker > index)
        {
            _nextWorker--;
        }
        if (_workerRing.Count > 0)
        {
            _nextWorker %= _workerRing.Count;
        }
        else
        {
            _nextWorker = 0;
        }
        foreach (var id in worker.Jobs.ToList())
        {
            // A run's follower goes back with its head (it may come first here, while its head is still out).
            if (_jobs.TryGetValue(id, out var job) && job.State == JobState.Assigned && !FollowsJobOf(job, worker))
            {
                RequeueWithRun(job, worker, $"worker {worker.Id} was lost ({reason})");
            }
        }
        worker.Jobs.Clear();
    }
}
