using System.Globalization;
using System.Text;
using Bonnie.Shared.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NetMQ;
using NetMQ.Sockets;

namespace Bonnie.Pipeline.Worker;

/// <summary>
/// A worker process's connection to the broker: announces free slots, takes jobs, runs them through the
/// <see cref="IJobProcessor"/> (resolved per job in its own scope) and reports how each ended. Sockets belong to
/// the poller thread; finished jobs come back to it through <see cref="_results"/>.
/// </summary>
internal sealed partial class JobWorker : IDisposable
{
    private readonly WorkerOptions _options;
    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly DealerSocket _controller = new();
    private readonly DealerSocket _channel = new();
    private readonly NetMQQueue<Action> _results = new();
    private readonly NetMQTimer _heartbeat;
    private readonly NetMQPoller _poller;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Dictionary<string, Task> _running = new(StringComparer.Ordinal);
    private readonly System.Threading.Channels.Channel<Job> _waiting = System.Threading.Channels.Channel.CreateUnbounded<Job>(
        new System.Threading.Channels.UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private Task? _batches;
    private const long GetAnswerTimeoutMs = 10_000;

    /// <summary>
    /// Jobs the broker gave us (TAKE) whose JOB has not come yet: when we last asked (GET), and for a job of a run
    /// (TAKE id after-id) the job of its mailbox it follows.
    /// </summary>
    private readonly Dictionary<string, (long AskedAt, string? After)> _awaiting = new(StringComparer.Ordinal);
    /// <summary>A job whose JOB came before the one it follows (a GET asked again): waits for it, by that one's id.</summary>
    private readonly Dictionary<string, Job> _parked = new(StringComparer.Ordinal);
    /// <summary>What this worker finished lately: a job of a run is stored only after the one it follows.</summary>
    private readonly StoredJobs _finished;
    private int _taken;
    /// <summary>Bytes of the jobs received and not yet reported: their notifications and what the collector sent with them.</summary>
    private long _heldBytes;
    /// <summary>Free slots not offered to the broker, because what they would bring would pass <see cref="WorkerOptions.MaxHeldBytes"/>.</summary>
    private int _withheld;
    /// <summary>
    /// What a job is expected to weigh, to bound what the slots offered may bring: a TAKE does not say how big its job
    /// is. Until a job has come, a guess large enough for a message with attachments (so the first slots offered are
    /// few when the bound is small); then a moving average of the jobs received.
    /// </summary>
    private long _jobSizeEstimate = InitialJobSizeEstimate;
    private bool _jobSizeKnown;
    internal const long InitialJobSizeEstimate = 64 * 1024;
    /// <summary>Heartbeats without a job held or a TAKE before an idle worker restates its free slots.</summary>
    private const int IdleHeartbeats = 5;
    /// <summary>When the worker last held a job or got a TAKE (<see cref="RestateFreeSlotsWhenIdle"/>).</summary>
    private long _idleSince = Environment.TickCount64;
    /// <summary>Reports sent per turn of the poller before it reads the broker's words again.</summary>
    private const int ResultsPerTurn = 256;
    private bool _draining;
    private bool _disposed;

    public JobWorker(WorkerOptions options, IServiceScopeFactory scopes, TimeProvider time, ILogger<JobWorker> logger)
    {
        _options = options;
        _finished = new StoredJobs(Math.Max(1024, options.Concurrency * StoredJobs.BatchesRemembered));
        _scopes = scopes;
        _time = time;
        _logger = logger;
        Name = string.IsNullOrEmpty(options.Name)
            ? $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}"
            : options.Name;
        var identity = Encoding.ASCII.GetBytes(Name);
        _controller.Options.Identity = identity;
        _channel.Options.Identity = identity;
        _controller.Options.Linger = TimeSpan.Zero;
        _channel.Options.Linger = TimeSpan.FromSeconds(1);
        // Every slot may be in flight at once: a TAKE each on the controller, a GET, a JOB and a report on the channel.
        // ZeroMQ's default of 1,000 queued messages would make the sender wait (the broker) or drop (nothing here may).
        var queued = Math.Max(1000, 2 * options.Concurrency);
        _controller.Options.ReceiveHighWatermark = queued;
        _controller.Options.SendHighWatermark = queued;
        _channel.Options.ReceiveHighWatermark = queued;
        _channel.Options.SendHighWatermark = queued;
        _heartbeat = new NetMQTimer(options.HeartbeatInterval);
        _poller = [_controller, _channel, _results, _heartbeat];
        _controller.ReceiveReady += (_, _) => ReceiveControl();
        _channel.ReceiveReady += (_, _) => ReceiveJobs();
        _results.ReceiveReady += (_, e) =>
        {
            // A batch's reports come all at once (thousands: a DONE and a READY each), and each READY brings a TAKE back.
            // A few hundred at a time, so that the poller reads the TAKEs between them: sent without reading, both
            // sides' queues fill, and a broker blocked on a full queue stops reading what this worker sends.
            for (var i = 0; i < ResultsPerTurn && e.Queue.TryDequeue(out var action, TimeSpan.Zero); i++)
            {
                action();
            }
        };
        _heartbeat.Elapsed += (_, _) =>
        {
            _controller.TrySendFrame(WireProtocol.Heartbeat);
            AskAgainForLostJobs();
            RestateFreeSlotsWhenIdle();
        };
    }

    public string Name { get; }

    /// <summary>Jobs taken and not yet reported.</summary>
    public int Busy => Volatile.Read(ref _taken);

    public void Start()
    {
        // A processor that takes batches (the store: one transaction for many jobs) gets every job that is waiting;
        // any other gets each job on its own task.
        using (var scope = _scopes.CreateScope())
        {
            if (scope.ServiceProvider.GetService<IJobProcessor>() is IBatchJobProcessor)
            {
                _batches = Task.Run(ProcessBatchesAsync);
            }
        }
        _controller.Connect(_options.ControllerEndpoint);
        _channel.Connect(_options.WorkerEndpoint);
        AnnounceFreeSlots();
        _poller.RunAsync("bonnie-worker");
        LogStarted(_logger, Name, _options.ControllerEndpoint, _options.WorkerEndpoint, _options.Concurrency);
    }

    /// <summary>
    /// Takes no new job and waits, up to <paramref name="grace"/>, for the running ones to report. When
    /// <paramref name="cancellationToken"/> ends first (the host's shutdown time is up, perhaps spent by the web server
    /// waiting for its connections), what still runs is given up as at the end of the grace period; it never throws for
    /// that, so the host goes on stopping everything else.
    /// </summary>
    public async Task StopAsync(TimeSpan grace, CancellationToken cancellationToken = default)
    {
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!Post(() =>
        {
            _draining = true;
            // No more jobs: the broker sets this worker's free slots to none. A TAKE already on its way is released.
            SendReady(0);
            drained.TrySetResult();
        }))
        {
            // Disposed already (a host stopped twice at once: the first stop disposed us): nothing left to stop.
            return;
        }
        try
        {
            await drained.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            // What is already here is still processed, within the grace period.
            _waiting.Writer.TryComplete();
            Task[] running;
            lock (_running)
            {
                running = _batches is null ? [.. _running.Values] : [.. _running.Values, _batches];
            }
            await Task.WhenAll(running).WaitAsync(grace, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException || (e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            // What is still running is given up; the broker hands those jobs out again after their deadline.
            LogStopCut(_logger, Name, Busy);
            _waiting.Writer.TryComplete();
            GiveUpRunning();
        }
        // Let the last reports leave the poller before the sockets close. If they cannot (the broker is gone and
        // the socket is full), the broker hands those jobs out again after their deadline: stop anyway.
        var flushed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() => flushed.TrySetResult());
        await Task.WhenAny(flushed.Task, Task.Delay(TimeSpan.FromSeconds(5), cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>
    /// "READY &lt;n&gt;": how many slots are free, all told; the broker sets its count to it. A worker that stores
    /// batches adds RUNS: it takes several jobs of one mailbox at once and keeps their order (<see cref="Job.After"/>).
    /// </summary>
    private void AnnounceFreeSlots()
    {
        var free = Math.Max(0, _options.Concurrency - _taken);
        _withheld = free;
        var offered = 0;
        while (_withheld > 0 && MayOffer(offered))
        {
            _withheld--;
            offered++;
        }
        SendReady(offered);
    }

    /// <summary>A slot is free again (a job reported, or one we were handed but do not hold): tell the broker, unless we hold too much.</summary>
    private void FreeSlot()
    {
        if (_draining)
        {
            return;
        }
        _withheld++;
        AnnounceWithheld();
    }

    /// <summary>
    /// The slots are many (a batch is what the slots hold, and big batches are what make the store fast), so the jobs
    /// they hold could be large: a collector sends each message's bytes with its job. A free slot is offered only while
    /// what is held, and what the slots already offered or asked for may bring, stays within the bound.
    /// </summary>
    private void AnnounceWithheld()
    {
        while (!_draining && _withheld > 0 && MayOffer(Offered))
        {
            _withheld--;
            _controller.SendFrame(WireProtocol.Ready);
        }
    }

    /// <summary>Slots the broker counts free for us: all but those taken and those kept back.</summary>
    private int Offered => _options.Concurrency - _taken - _withheld;

    /// <summary>
    /// One more slot on top of <paramref name="offered"/>: what is held plus what the offered slots and the jobs asked for
    /// may bring, at the estimated size, within <see cref="WorkerOptions.MaxHeldBytes"/>. A worker that holds nothing
    /// and offers nothing always offers one, so a job larger than the bound still comes, alone.
    /// </summary>
    private bool MayOffer(int offered)
    {
        if (_taken == 0 && offered == 0)
        {
            return true;
        }
        var coming = (long)(offered + 1 + _awaiting.Count) * _jobSizeEstimate;
        return _heldBytes + coming <= _options.MaxHeldBytes;
    }

    /// <summary>A job came: its size moves the estimate (the first one replaces the guess).</summary>
    private void Weigh(long size)
    {
        _jobSizeEstimate = _jobSizeKnown ? Math.Max(1, _jobSizeEstimate + ((size - _jobSizeEstimate) / 8)) : Math.Max(1, size);
        _jobSizeKnown = true;
    }

    /// <summary>
    /// Idle a while, say again how many slots are free, all told. The broker's count is kept by one word per slot, and a
    /// word can be lost with a broken connection (a bare READY, a DONE whose deadline then makes the broker think us
    /// busy): a worker that holds nothing would otherwise wait for a TAKE that never comes. Idle means no job held and
    /// no TAKE for <see cref="IdleHeartbeats"/> heartbeats, so no TAKE is likely on its way to be counted twice.
    /// </summary>
    private void RestateFreeSlotsWhenIdle()
    {
        if (_taken > 0 || _draining)
        {
            _idleSince = Environment.TickCount64;
            return;
        }
        var idleFor = Environment.TickCount64 - _idleSince;
        if (idleFor >= IdleHeartbeats * (long)_options.HeartbeatInterval.TotalMilliseconds)
        {
            AnnounceFreeSlots();
            _idleSince = Environment.TickCount64;
        }
    }

    private static long Size(Job job)
    {
        long size = job.Notification.Length;
        foreach (var item in job.Collected)
        {
            size += item.Data.Length;
        }
        return size;
    }

    private void SendReady(int freeSlots)
    {
        var free = freeSlots.ToString(CultureInfo.InvariantCulture);
        if (_batches is null)
        {
            _controller.SendMoreFrame(WireProtocol.Ready).SendFrame(free);
        }
        else
        {
            _controller.SendMoreFrame(WireProtocol.Ready).SendMoreFrame(free).SendFrame(WireProtocol.Runs);
        }
    }

    private void ReceiveControl()
    {
        var message = new NetMQMessage();
        while (_controller.TryReceiveMultipartMessage(ref message))
        {
            switch (message[0].ConvertToString(Encoding.ASCII))
            {
                case WireProtocol.Take when message.FrameCount >= 2:
                    var id = message[1].ConvertToString(Encoding.ASCII);
                    if (_draining)
                    {
                        // Stopping: straight back to the broker, which hands it to another worker now rather than
                        // after its deadline (and counts no attempt).
                        _channel.SendMoreFrame(WireProtocol.Release).SendFrame(id);
                    }
                    else if (_awaiting.TryAdd(id, (Environment.TickCount64, message.FrameCount >= 3 ? message[2].ConvertToString(Encoding.ASCII) : null)))
                    {
                        _idleSince = Environment.TickCount64;
                        _taken++;
                        _channel.SendMoreFrame(WireProtocol.Get).SendFrame(id);
                    }
                    else
                    {
                        // Handed to us again while we still wait for it (it went past its deadline and came back):
                        // we hold it once, so the slot the broker counted for this TAKE is free.
                        FreeSlot();
                    }
                    break;
                case WireProtocol.Hello when !_draining:
                    // The broker does not know us (it restarted): what it handed out before is not ours any more,
                    // and a GET lost with the old connection would hold its slot for ever. Free those slots and
                    // say again how many are free.
                    _taken -= _awaiting.Count + _parked.Count;
                    foreach (var parked in _parked.Values)
                    {
                        _heldBytes -= Size(parked);
                    }
                    _awaiting.Clear();
                    _parked.Clear();
                    AnnounceFreeSlots();
                    break;
            }
            message = new NetMQMessage();
        }
    }

    /// <summary>
    /// A GET whose answer never came (lost with a broken connection) is sent again; the broker answers JOB if the job is
    /// still ours, GONE if not, so the slot is never lost.
    /// </summary>
    private void AskAgainForLostJobs()
    {
        var now = Environment.TickCount64;
        foreach (var (id, (sentAt, after)) in _awaiting.ToList())
        {
            if (now - sentAt > GetAnswerTimeoutMs)
            {
                _awaiting[id] = (now, after);
                _channel.SendMoreFrame(WireProtocol.Get).SendFrame(id);
            }
        }
    }

    private void ReceiveJobs()
    {
        var message = new NetMQMessage();
        while (_channel.TryReceiveMultipartMessage(ref message))
        {
            var kind = message[0].ConvertToString(Encoding.ASCII);
            var id = message.FrameCount >= 2 ? message[1].ConvertToString(Encoding.ASCII) : "";
            if (kind == WireProtocol.Job && message.FrameCount >= 5)
            {
                // Only a job we asked for and have not got yet: a GET sent again may be answered twice.
                if (_awaiting.Remove(id, out var awaited))
                {
                    var job = ReadJob(message) with { After = awaited.After };
                    var size = Size(job);
                    _heldBytes += size;
                    Weigh(size);
                    Deliver(job);
                    // Lighter than expected, the slots kept back may be worth offering now.
                    AnnounceWithheld();
                }
            }
            else if (kind == WireProtocol.Gone && _awaiting.Remove(id))
            {
                // Someone else has it now (we were too slow, or the broker restarted); the slot is free again.
                _taken--;
                FreeSlot();
                // A job that follows it cannot be stored here before it: give that one back too.
                ReleaseParkedBehind(id);
            }
            message = new NetMQMessage();
        }
    }

    /// <summary>Runs a job, unless the job it follows has not come yet (then it waits for that one).</summary>
    private void Deliver(Job job)
    {
        while (true)
        {
            if (job.After is { } after && _awaiting.ContainsKey(after))
            {
                if (_parked.Remove(after, out var earlier))
                {
                    // Two jobs said to follow the same one (the lane changed under a lost answer): neither order can
                    // be trusted, give the earlier back.
                    Report(earlier, JobOutcome.Release);
                }
                _parked[after] = job;
                return;
            }
            Run(job);
            if (!_parked.Remove(job.Id, out var next))
            {
                return;
            }
            job = next;
        }
    }

    private void ReleaseParkedBehind(string id)
    {
        while (_parked.Remove(id, out var next))
        {
            Report(next, JobOutcome.Release);
            id = next.Id;
        }
    }

    private static Job ReadJob(NetMQMessage message)
    {
        var collected = new List<CollectedItem>();
        for (var f = 5; f + 2 < message.FrameCount; f += 3)
        {
            var status = message[f + 1].ConvertToString(Encoding.UTF8);
            collected.Add(new CollectedItem(
                message[f].ConvertToString(Encoding.UTF8), message[f + 2].ToByteArray(), status == WireProtocol.CollectOk ? null : status));
        }
        return new Job(
            message[1].ConvertToString(Encoding.ASCII),
            message[4].ToByteArray(),
            int.Parse(message[2].ConvertToString(Encoding.ASCII), CultureInfo.InvariantCulture),
            DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(message[3].ConvertToString(Encoding.ASCII), CultureInfo.InvariantCulture)))
        {
            Collected = collected,
        };
    }

    private async Task ProcessBatchesAsync()
    {
        var reader = _waiting.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stopping.Token).ConfigureAwait(false))
            {
                var batch = new List<Job>();
                while (batch.Count < _options.MaxBatch && reader.TryRead(out var job))
                {
                    batch.Add(job);
                }
                // A job of a run is processed only when the job it follows is earlier in this batch (the processor then
                // stores it only if that one is stored) or known finished here; otherwise it is released unseen.
                var released = new List<Job>();
                var inBatch = new HashSet<string>(StringComparer.Ordinal);
                foreach (var job in batch)
                {
                    if (job.After is { } after && !inBatch.Contains(after) && !_finished.IsFinished(after))
                    {
                        released.Add(job);
                    }
                    else
                    {
                        inBatch.Add(job.Id);
                    }
                }
                foreach (var job in released)
                {
                    Post(() => Report(job, JobOutcome.Release));
                }
                if (released.Count > 0)
                {
                    batch.RemoveAll(released.Contains);
                    if (batch.Count == 0)
                    {
                        continue;
                    }
                }
                IReadOnlyList<JobOutcome> outcomes;
                try
                {
                    await using var scope = _scopes.CreateAsyncScope();
                    var processor = (IBatchJobProcessor)scope.ServiceProvider.GetRequiredService<IJobProcessor>();
                    outcomes = await processor.ProcessBatchAsync(batch, _stopping.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception exception)
                {
                    // As for a single job: retried later, a bounded number of times, then FAILED with this reason.
                    LogBatchFailed(_logger, exception, batch.Count);
                    var postpone = new JobOutcome.Postpone($"{exception.GetType().Name}: {exception.Message}");
                    outcomes = batch.Select(_ => (JobOutcome)postpone).ToList();
                }
                for (var i = 0; i < batch.Count; i++)
                {
                    var (job, outcome) = (batch[i], outcomes[i]);
                    _finished.Record(job.Id, outcome is JobOutcome.Done or JobOutcome.Fail);
                    Post(() => Report(job, outcome));
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Stopping: what was not processed goes back to PENDING after its deadline.
        }
    }

    private void Run(Job job)
    {
        if (_batches is not null)
        {
            if (!_waiting.Writer.TryWrite(job))
            {
                // Stopping, and past taking more: the broker hands it to another worker now.
                Report(job, JobOutcome.Release);
            }
            return;
        }
        var task = Task.Run(async () =>
        {
            JobOutcome outcome;
            try
            {
                await using var scope = _scopes.CreateAsyncScope();
                var processor = scope.ServiceProvider.GetRequiredService<IJobProcessor>();
                outcome = await processor.ProcessAsync(job, _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                // A processor that throws is retried later, a bounded number of times, then FAILED with this reason.
                LogProcessorFailed(_logger, exception, job.Id);
                outcome = new JobOutcome.Postpone($"{exception.GetType().Name}: {exception.Message}");
            }
            Post(() => Report(job, outcome));
        });
        lock (_running)
        {
            _running[job.Id] = task;
        }
        task.ContinueWith(
            t =>
            {
                lock (_running)
                {
                    _running.Remove(job.Id);
                }
            },
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void Report(Job job, JobOutcome outcome)
    {
        switch (outcome)
        {
            case JobOutcome.Done:
                _channel.SendMoreFrame(WireProtocol.Done).SendFrame(job.Id);
                break;
            case JobOutcome.Postpone postpone:
                _channel.SendMoreFrame(WireProtocol.Postpone).SendMoreFrame(job.Id).SendMoreFrame(postpone.Reason)
                    .SendFrame(((long)(postpone.RetryAfter?.TotalMilliseconds ?? 0)).ToString(CultureInfo.InvariantCulture));
                break;
            case JobOutcome.Collect collect:
                var message = new NetMQMessage();
                message.Append(WireProtocol.Collect);
                message.Append(job.Id);
                foreach (var request in collect.Requests)
                {
                    message.Append(request, Encoding.UTF8);
                }
                _channel.SendMultipartMessage(message);
                break;
            case JobOutcome.Fail fail:
                _channel.SendMoreFrame(WireProtocol.Fail).SendMoreFrame(job.Id).SendFrame(fail.Reason);
                break;
            case JobOutcome.Released:
                _channel.SendMoreFrame(WireProtocol.Release).SendFrame(job.Id);
                break;
        }
        _taken--;
        _heldBytes -= Size(job);
        FreeSlot();
    }

    /// <summary>
    /// Hands work to the poller thread. Processing tasks may finish while the worker is being disposed; what they
    /// report then is dropped (the broker hands those jobs out again), never posted to a disposed queue. False when
    /// dropped.
    /// </summary>
    private bool Post(Action action)
    {
        lock (_results)
        {
            if (!_disposed)
            {
                _results.Enqueue(action);
                return true;
            }
            return false;
        }
    }

    /// <summary>Cancels what still runs, unless <see cref="Dispose"/> did already.</summary>
    private void GiveUpRunning()
    {
        lock (_results)
        {
            if (!_disposed)
            {
                _stopping.Cancel();
            }
        }
    }

    public void Dispose()
    {
        lock (_results)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
        }
        // Whatever still runs is abandoned: its jobs go back to PENDING at the broker after their deadline.
        _stopping.Cancel();
        _waiting.Writer.TryComplete();
        if (_poller.IsRunning)
        {
            _poller.Stop();
        }
        _poller.Dispose();
        _controller.Dispose();
        _channel.Dispose();
        _results.Dispose();
        _stopping.Dispose();
    }

    [LoggerMessage(1, LogLevel.Information, "Worker {Name} connected to {Controller} and {Channel} with {Concurrency} slots")]
    private static partial void LogStarted(ILogger logger, string name, string controller, string channel, int concurrency);

    [LoggerMessage(3, LogLevel.Error, "The processor threw on a batch of {Count} jobs; they are postponed and retried")]
    private static partial void LogBatchFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(4, LogLevel.Warning, "Worker {Name} stopped with {Busy} jobs unfinished; the broker hands them out again after their deadline")]
    private static partial void LogStopCut(ILogger logger, string name, int busy);

    [LoggerMessage(2, LogLevel.Error, "The processor threw on job {Job}; it is postponed and retried")]
    private static partial void LogProcessorFailed(ILogger logger, Exception exception, string job);
}
