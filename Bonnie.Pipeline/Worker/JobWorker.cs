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
    private int _taken;
    private bool _draining;

    public JobWorker(WorkerOptions options, IServiceScopeFactory scopes, TimeProvider time, ILogger<JobWorker> logger)
    {
        _options = options;
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
        _heartbeat = new NetMQTimer(options.HeartbeatInterval);
        _poller = [_controller, _channel, _results, _heartbeat];
        _controller.ReceiveReady += (_, _) => ReceiveControl();
        _channel.ReceiveReady += (_, _) => ReceiveJobs();
        _results.ReceiveReady += (_, e) =>
        {
            while (e.Queue.TryDequeue(out var action, TimeSpan.Zero))
            {
                action();
            }
        };
        _heartbeat.Elapsed += (_, _) => _controller.TrySendFrame(WireProtocol.Heartbeat);
    }

    public string Name { get; }

    /// <summary>Jobs taken and not yet reported.</summary>
    public int Busy => Volatile.Read(ref _taken);

    public void Start()
    {
        _controller.Connect(_options.ControllerEndpoint);
        _channel.Connect(_options.WorkerEndpoint);
        AnnounceFreeSlots();
        _poller.RunAsync("bonnie-worker");
        LogStarted(_logger, Name, _options.ControllerEndpoint, _options.WorkerEndpoint, _options.Concurrency);
    }

    /// <summary>Takes no new job and waits, up to <paramref name="grace"/>, for the running ones to report.</summary>
    public async Task StopAsync(TimeSpan grace, CancellationToken cancellationToken = default)
    {
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _results.Enqueue(() =>
        {
            _draining = true;
            drained.TrySetResult();
        });
        await drained.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        Task[] running;
        lock (_running)
        {
            running = [.. _running.Values];
        }
        try
        {
            await Task.WhenAll(running).WaitAsync(grace, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // What is still running is given up; the broker hands those jobs out again after their deadline.
            await _stopping.CancelAsync().ConfigureAwait(false);
        }
        // Let the last reports leave the poller before the sockets close. If they cannot (the broker is gone and
        // the socket is full), the broker hands those jobs out again after their deadline: stop anyway.
        var flushed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _results.Enqueue(() => flushed.TrySetResult());
        await Task.WhenAny(flushed.Task, Task.Delay(TimeSpan.FromSeconds(5), cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>"READY &lt;n&gt;": how many slots are free, all told; the broker sets its count to it.</summary>
    private void AnnounceFreeSlots() => _controller.SendMoreFrame(WireProtocol.Ready)
        .SendFrame(Math.Max(0, _options.Concurrency - _taken).ToString(CultureInfo.InvariantCulture));

    private void ReceiveControl()
    {
        var message = new NetMQMessage();
        while (_controller.TryReceiveMultipartMessage(ref message))
        {
            switch (message[0].ConvertToString(Encoding.ASCII))
            {
                case WireProtocol.Take when message.FrameCount >= 2:
                    _taken++;
                    _channel.SendMoreFrame(WireProtocol.Get).SendFrame(message[1].ConvertToString(Encoding.ASCII));
                    break;
                case WireProtocol.Hello when !_draining:
                    // The broker does not know us (it restarted): say again how many slots are free.
                    AnnounceFreeSlots();
                    break;
            }
            message = new NetMQMessage();
        }
    }

    private void ReceiveJobs()
    {
        var message = new NetMQMessage();
        while (_channel.TryReceiveMultipartMessage(ref message))
        {
            var kind = message[0].ConvertToString(Encoding.ASCII);
            if (kind == WireProtocol.Job && message.FrameCount >= 5)
            {
                Run(ReadJob(message));
            }
            else if (kind == WireProtocol.Gone)
            {
                // Someone else has it now (we were too slow, or the broker restarted); the slot is free again.
                _taken--;
                if (!_draining)
                {
                    _controller.SendFrame(WireProtocol.Ready);
                }
            }
            message = new NetMQMessage();
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

    private void Run(Job job)
    {
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
            _results.Enqueue(() => Report(job, outcome));
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
        }
        _taken--;
        if (!_draining)
        {
            _controller.SendFrame(WireProtocol.Ready);
        }
    }

    public void Dispose()
    {
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

    [LoggerMessage(2, LogLevel.Error, "The processor threw on job {Job}; it is postponed and retried")]
    private static partial void LogProcessorFailed(ILogger logger, Exception exception, string job);
}
