using System.Security.Cryptography;
using System.Text;
using Bonnie.Shared.Protocol;
using Microsoft.Extensions.Logging;
using NetMQ;
using NetMQ.Sockets;

namespace Bonnie.Pipeline.Broker;

/// <summary>
/// The broker: receives notifications from dealers, keeps them durably, hands them to workers one lane at a time,
/// asks collectors for what workers need. All sockets and all in-memory state belong to one poller thread; the
/// journal's writer thread and the rest of the process reach it only through <see cref="_commands"/>.
/// </summary>
internal sealed partial class JobBroker : IDisposable
{
    private readonly BrokerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly BrokerMonitor _monitor;
    private readonly string _queueDirectory;
    private readonly NetMQQueue<Action> _commands = new();
    private readonly NetMQPoller _poller;
    private readonly RouterSocket _clients = new();
    private readonly RouterSocket _controller = new();
    private readonly RouterSocket _workerChannel = new();
    private readonly RouterSocket _collectorChannel = new();
    private readonly NetMQTimer _tick;
    private JobJournal? _journal;
    private string? _fault;
    private bool _disposed;

    public JobBroker(BrokerOptions options, string queueDirectory, TimeProvider time, ILogger<JobBroker> logger, BrokerMonitor monitor)
    {
        _options = options;
        _queueDirectory = queueDirectory;
        _time = time;
        _logger = logger;
        _monitor = monitor;
        _tick = new NetMQTimer(options.HeartbeatInterval);
        _poller = [_clients, _controller, _workerChannel, _collectorChannel, _commands, _tick];
        // Each turn of the poller notes when it began, so a tick can tell a broker that ran nothing (paused) from one
        // that is only busy (JobBroker.Heartbeats.cs, Turn).
        _clients.ReceiveReady += (_, _) => InTurn(ReceiveSubmissions);
        _controller.ReceiveReady += (_, _) => InTurn(ReceiveControl);
        _workerChannel.ReceiveReady += (_, _) => InTurn(ReceiveWorkerMessages);
        _collectorChannel.ReceiveReady += (_, _) => InTurn(ReceiveCollectorMessages);
        _commands.ReceiveReady += (_, e) => InTurn(() =>
        {
            while (e.Queue.TryDequeue(out var command, TimeSpan.Zero))
            {
                command();
            }
        });
        _tick.Elapsed += (_, _) => Tick();
    }

    /// <summary>The endpoints actually bound (a configured port 0 becomes the port the system chose).</summary>
    public string ClientEndpoint { get; private set; } = "";
    public string WorkerEndpoint { get; private set; } = "";
    public string ControllerEndpoint { get; private set; } = "";
    public string CollectorEndpoint { get; private set; } = "";

    /// <summary>Opens the journal, reloads every unfinished job, binds the sockets and starts the poller thread.</summary>
    public void Start()
    {
        _journal = JobJournal.Open(_queueDirectory, _options.MaxBatch, _time,
            committed => _commands.Enqueue(() => OnCommitted(committed)),
            exception => _commands.Enqueue(() => OnJournalFailed(exception)),
            () => _commands.Enqueue(OnJournalRecovered));
        Reload(_journal);
        _journal.Start();

        foreach (var socket in new[] { _clients, _controller, _workerChannel, _collectorChannel })
        {
            // A full peer must make a send fail loudly rather than drop the message (STACK.md).
            socket.Options.RouterMandatory = true;
            socket.Options.Linger = TimeSpan.Zero;
        }
        // Frames a little over the limit are read and refused with a reason; far larger ones cut the peer off.
        _clients.Options.MaxMsgSize = Math.Max(_options.MaxNotificationBytes, 1) * 4L;
        _clients.Options.ReceiveHighWatermark = 100_000;
        _clients.Options.SendHighWatermark = 100_000;
        // A worker may have 65,536 slots, each in flight at once (a TAKE, a GET, a JOB, a report): a send to a peer whose
        // queue is full waits (RouterMandatory), and a broker waiting on one worker serves no one.
        foreach (var socket in new[] { _controller, _workerChannel })
        {
            socket.Options.ReceiveHighWatermark = 150_000;
            socket.Options.SendHighWatermark = 150_000;
        }
        ClientEndpoint = Bind(_clients, _options.ClientEndpoint);
        WorkerEndpoint = Bind(_workerChannel, _options.WorkerEndpoint);
        ControllerEndpoint = Bind(_controller, _options.ControllerEndpoint);
        CollectorEndpoint = Bind(_collectorChannel, _options.CollectorEndpoint);
        _tick.Enable = true;
        _poller.RunAsync("bonnie-broker");
        LogStarted(_logger, ClientEndpoint, WorkerEndpoint, ControllerEndpoint, CollectorEndpoint, _jobs.Count, _journal.Path);
        PublishSnapshot();
    }

    /// <summary>Puts a FAILED job back to PENDING (an administrator's retry).</summary>
    public Task<bool> RetryFailedAsync(string id, CancellationToken cancellationToken = default)
    {
        var result = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _commands.Enqueue(() => result.TrySetResult(RetryFailed(id)));
        return result.Task.WaitAsync(cancellationToken);
    }

    /// <summary>The failed jobs with their reasons, newest first.</summary>
    public IReadOnlyList<JournalJob> ListFailed(int limit) => _journal?.ListFailed(limit) ?? [];

    /// <summary>One job's notification and state as the queue holds them (its own reader: safe from any thread).</summary>
    public (byte[] Notification, JournalJob Job)? ReadJob(string id)
        => _journal?.Read(id) is { } stored ? (stored.Notification, stored.Job) : null;

    private static string Bind(RouterSocket socket, string endpoint)
    {
        if (endpoint.EndsWith(":0", StringComparison.Ordinal))
        {
            var address = endpoint[..^2];
            var port = socket.BindRandomPort(address);
            return $"{address}:{port}";
        }
        socket.Bind(endpoint);
        return endpoint;
    }

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private static string JobId(ReadOnlySpan<byte> notification) => Convert.ToHexStringLower(SHA256.HashData(notification));

    private static string Text(NetMQFrame frame) => Encoding.ASCII.GetString(frame.Buffer, 0, frame.MessageSize);

    private void OnJournalFailed(Exception exception)
    {
        // Stop acknowledging: dealers keep events in their spools until the queue can be written again.
        _fault = $"The job queue at {_journal?.Path} cannot be written: {exception.Message}";
        LogJournalFailed(_logger, exception, _journal?.Path ?? "");
        PublishSnapshot();
    }

    /// <summary>The queue's journal (tests: to make its disk full).</summary>
    internal JobJournal? Journal => _journal;

    private void OnJournalRecovered()
    {
        // The batch that could not be written is now: its submissions are acknowledged as it is committed.
        _fault = null;
        LogJournalRecovered(_logger, _journal?.Path ?? "");
        PublishSnapshot();
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        if (_poller.IsRunning)
        {
            _poller.Stop();
        }
        _poller.Dispose();
        _journal?.Dispose();
        _clients.Dispose();
        _controller.Dispose();
        _workerChannel.Dispose();
        _collectorChannel.Dispose();
        _commands.Dispose();
    }
}
