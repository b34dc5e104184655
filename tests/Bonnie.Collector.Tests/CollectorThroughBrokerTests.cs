using System.Text;
using Bonnie.Pipeline.Broker;
using Bonnie.Pipeline.Worker;
using Bonnie.Shared.Cyrus;
using Bonnie.Shared.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Bonnie.Collector.Tests;

/// <summary>The whole collect loop with real sockets: worker → COLLECT → broker → collector → spool → worker.</summary>
public sealed class CollectorThroughBrokerTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("bonnie-collector-").FullName;

    [Fact]
    public async Task Collect_PayloadInTheSpool_WorkerGetsTheExactBytes()
    {
        var spool = Path.Combine(_directory, "spool");
        var file = CyrusSpool.PathFor(spool, "sufr9a0wrxwpaaifzy6ge6cu", 1)!;
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var message = "Return-Path: <sender@example.net>\r\nSubject: lmtp one\r\n\r\nbody \u00e9\r\n"u8.ToArray();
        await File.WriteAllBytesAsync(file, message);

        var monitor = new BrokerMonitor();
        using var broker = new JobBroker(new BrokerOptions
        {
            ClientEndpoint = "tcp://127.0.0.1:0", WorkerEndpoint = "tcp://127.0.0.1:0",
            ControllerEndpoint = "tcp://127.0.0.1:0", CollectorEndpoint = "tcp://127.0.0.1:0",
            HeartbeatInterval = TimeSpan.FromMilliseconds(100),
            // Two seconds of silence before the collector counts as lost: on a loaded machine a shorter window makes
            // the broker give its request to the collector again (at least once, by design), which this test counts.
            HeartbeatLiveness = 20,
        }, Path.Combine(_directory, "queue"), TimeProvider.System, NullLogger<JobBroker>.Instance, monitor);
        broker.Start();

        var options = new CollectorOptions
        {
            BrokerEndpoint = broker.CollectorEndpoint,
            SpoolPartitions = [spool],
            HeartbeatInterval = TimeSpan.FromMilliseconds(100),
        };
        using var collector = new CollectorService(Options.Create(options), new CollectAnswerer(options, NullLogger<CollectAnswerer>.Instance),
            NullLogger<CollectorService>.Instance);
        await collector.StartAsync(CancellationToken.None);

        var got = new TaskCompletionSource<Job>(TaskCreationOptions.RunContinuationsAsynchronously);
        var request = CollectRequest.ForPayload("sufr9a0wrxwpaaifzy6ge6cu", 1, "user/alice@example.org").ToString();
        var services = new ServiceCollection();
        services.AddSingleton<IJobProcessor>(new Processor(job =>
        {
            if (job.Collected.Count == 0)
            {
                return new JobOutcome.Collect([request]);
            }
            got.TrySetResult(job);
            return JobOutcome.Success;
        }));
        await using var provider = services.BuildServiceProvider();
        using var worker = new JobWorker(new WorkerOptions
        {
            WorkerEndpoint = broker.WorkerEndpoint, ControllerEndpoint = broker.ControllerEndpoint,
            HeartbeatInterval = TimeSpan.FromMilliseconds(100),
        }, provider.GetRequiredService<IServiceScopeFactory>(), TimeProvider.System, NullLogger<JobWorker>.Instance);
        worker.Start();

        using (var dealer = new NetMQ.Sockets.DealerSocket())
        {
            dealer.Connect(broker.ClientEndpoint);
            NetMQ.OutgoingSocketExtensions.SendFrame(dealer, """{"event":"MessageNew","uri":"imap://imap.example.org/user/alice%40example.org;UIDVALIDITY=1/;UID=1","mailboxID":"sufr9a0wrxwpaaifzy6ge6cu"}""");
            Assert.True(NetMQ.ReceivingSocketExtensions.TryReceiveFrameString(dealer, TimeSpan.FromSeconds(10), out var ack));
            Assert.Equal(WireProtocol.Ack, ack);
        }

        var job = await got.Task.WaitAsync(TimeSpan.FromSeconds(20));
        var item = Assert.Single(job.Collected);
        Assert.Null(item.Error);
        Assert.Equal(request, item.Request);
        Assert.Equal(message, item.Data.ToArray());
        Assert.Equal(1, collector.Served);
        await collector.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Answer_NoSpoolFileAndNoImap_ErrorSaysSo()
    {
        var options = new CollectorOptions { SpoolPartitions = [Path.Combine(_directory, "empty")] };
        var answerer = new CollectAnswerer(options, NullLogger<CollectAnswerer>.Instance);

        var answer = await answerer.AnswerAsync(CollectRequest.ForPayload("abcdef", 9, "user/bob@example.org").ToString(), CancellationToken.None);

        Assert.Empty(answer.Data);
        Assert.Contains("no spool file", answer.Error);
        Assert.Contains("IMAP is not configured", answer.Error);
    }

    [Fact]
    public void Options_NothingToAnswerFrom_EveryErrorReported()
    {
        var result = new ValidateCollectorOptions().Validate(null, new CollectorOptions
        {
            BrokerEndpoint = "localhost:5569",
            SpoolPartitions = [],
            Imap = new ImapOptions { Security = "Maybe" },
        });

        Assert.True(result.Failed);
        Assert.Equal(3, result.Failures!.Count());
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed class Processor(Func<Job, JobOutcome> answer) : IJobProcessor
    {
        public Task<JobOutcome> ProcessAsync(Job job, CancellationToken cancellationToken = default) => Task.FromResult(answer(job));
    }
}
