using System.Text;
using Bonnie.Shared.Protocol;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NetMQ;
using NetMQ.Sockets;

namespace Bonnie.Collector;

/// <summary>
/// Connects to the broker's collector router, says READY and heartbeats, and answers each COLLECT with COLLECTED:
/// request, status (<c>OK</c> or the error) and data, for every request of the job. The socket belongs to the
/// poller thread; answers come back to it through a queue.
/// </summary>
internal sealed partial class CollectorService(
    IOptions<CollectorOptions> options, CollectAnswerer answerer, ILogger<CollectorService> logger) : BackgroundService
{
    private long _served;

    /// <summary>Requests answered since start (the collector's rate is reported from this).</summary>
    public long Served => Interlocked.Read(ref _served);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var name = string.IsNullOrEmpty(settings.Name) ? $"collector-{Environment.MachineName}-{Environment.ProcessId}" : settings.Name;
        using var socket = new DealerSocket();
        socket.Options.Identity = Encoding.ASCII.GetBytes(name);
        socket.Options.Linger = TimeSpan.FromSeconds(1);
        using var answers = new NetMQQueue<NetMQMessage>();
        var heartbeat = new NetMQTimer(settings.HeartbeatInterval);
        using var slots = new SemaphoreSlim(settings.Concurrency);
        using var poller = new NetMQPoller { socket, answers, heartbeat };

        socket.ReceiveReady += (_, _) =>
        {
            var message = new NetMQMessage();
            while (socket.TryReceiveMultipartMessage(ref message))
            {
                if (message.FrameCount >= 2 && message[0].ConvertToString(Encoding.ASCII) == WireProtocol.Collect)
                {
                    var job = message[1].ConvertToString(Encoding.ASCII);
                    var requests = message.Skip(2).Select(f => f.ConvertToString(Encoding.UTF8)).ToList();
                    _ = AnswerAsync(job, requests, answers, slots, stoppingToken);
                }
                message = new NetMQMessage();
            }
        };
        answers.ReceiveReady += (_, e) =>
        {
            while (e.Queue.TryDequeue(out var reply, TimeSpan.Zero))
            {
                socket.SendMultipartMessage(reply);
            }
        };
        heartbeat.Elapsed += (_, _) => socket.SendFrame(WireProtocol.Heartbeat);

        socket.Connect(settings.BrokerEndpoint);
        socket.SendFrame(WireProtocol.Ready);
        poller.RunAsync("bonnie-collector");
        LogStarted(logger, name, settings.BrokerEndpoint, string.Join(", ", settings.SpoolPartitions), settings.Imap.AdminPassword.Length > 0);
        try
        {
            await Task.Delay(Timeout.Infinite, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
        poller.Stop();
    }

    private async Task AnswerAsync(string job, List<string> requests, NetMQQueue<NetMQMessage> answers, SemaphoreSlim slots, CancellationToken cancellationToken)
    {
        try
        {
            await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var reply = new NetMQMessage();
                reply.Append(WireProtocol.Collected);
                reply.Append(job);
                foreach (var request in requests)
                {
                    var answer = await answerer.AnswerAsync(request, cancellationToken).ConfigureAwait(false);
                    reply.Append(request, Encoding.UTF8);
                    reply.Append(answer.Error ?? WireProtocol.CollectOk, Encoding.UTF8);
                    reply.Append(answer.Data);
                    Interlocked.Increment(ref _served);
                }
                answers.Enqueue(reply);
            }
            finally
            {
                slots.Release();
            }
        }
        catch (OperationCanceledException)
        {
            // Unanswered jobs go back to their workers after the broker's collect timeout.
        }
        catch (Exception exception)
        {
            LogAnswerFailed(logger, exception, job);
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Collector {Name} connected to {Broker}; spool partitions: {Partitions}; IMAP fallback: {Imap}")]
    private static partial void LogStarted(ILogger logger, string name, string broker, string partitions, bool imap);

    [LoggerMessage(2, LogLevel.Error, "Answering job {Job} failed; the broker returns it to a worker after its timeout")]
    private static partial void LogAnswerFailed(ILogger logger, Exception exception, string job);
}
