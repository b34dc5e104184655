using System.Globalization;
using Bonnie.Pipeline.Worker;
using Bonnie.Shared.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using NetMQ;
using NetMQ.Sockets;

namespace Bonnie.Pipeline.Tests.Worker;

/// <summary>
/// A worker holds many jobs at once (its batch is what its slots hold), and a job can carry a whole message from the
/// collector: it offers the broker only as many slots as <see cref="WorkerOptions.MaxHeldBytes"/> allows for what it
/// holds and what the offered slots may bring, at the size its jobs have had; idle, it restates its free slots, so a
/// word lost on the way cannot leave it waiting for good. Spoken with raw sockets, so that every READY the worker sends
/// is seen.
/// </summary>
public sealed class SlotOfferTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public void Worker_OffersOnlyTheSlotsItsByteBoundAllows_AndMoreOnceHeldJobsAreReported()
    {
        using var controller = new RouterSocket();
        using var channel = new RouterSocket();
        var controllerPort = controller.BindRandomPort("tcp://127.0.0.1");
        var channelPort = channel.BindRandomPort("tcp://127.0.0.1");
        var processor = new GatedBatchProcessor();
        using var worker = StartWorker(processor, controllerPort, channelPort, concurrency: 8, maxHeldBytes: 10_000);

        // Nothing known of the jobs' size, and a bound below the first guess: one slot, not eight.
        var ready = Next(controller, WireProtocol.Ready);
        Assert.Equal("1", ready[2].ConvertToString());
        var identity = ready[0].ToByteArray();

        // A job of 2,000 bytes: held 2,000, so four more such jobs fit, and four more slots are offered.
        Hand(controller, channel, identity, "A", 2_000);
        Assert.Equal(4, CountReadies(controller, TimeSpan.FromMilliseconds(500)));

        // Four jobs more while the store has not answered: 10,000 bytes held, nothing more offered.
        foreach (var id in new[] { "B", "C", "D", "E" })
        {
            Hand(controller, channel, identity, id, 2_000);
        }
        Assert.Equal(0, CountReadies(controller, TimeSpan.FromMilliseconds(500)));

        // All five stored and reported: nothing held, five slots offered (what 10,000 bytes allow), not eight.
        processor.Open();
        Assert.Equal(["A", "B", "C", "D", "E"], Enumerable.Range(0, 5).Select(_ => Next(channel, WireProtocol.Done)[2].ConvertToString()).Order());
        Assert.Equal(5, CountReadies(controller, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void Worker_JobLargerThanItsBound_ComesAloneAndIsStored()
    {
        using var controller = new RouterSocket();
        using var channel = new RouterSocket();
        var controllerPort = controller.BindRandomPort("tcp://127.0.0.1");
        var channelPort = channel.BindRandomPort("tcp://127.0.0.1");
        var processor = new GatedBatchProcessor();
        using var worker = StartWorker(processor, controllerPort, channelPort, concurrency: 8, maxHeldBytes: 1_000);
        var ready = Next(controller, WireProtocol.Ready);
        Assert.Equal("1", ready[2].ConvertToString());
        var identity = ready[0].ToByteArray();

        // 5,000 bytes, five times the bound: nothing else is offered while it is held, and it is stored.
        Hand(controller, channel, identity, "huge", 5_000);
        Assert.Equal(0, CountReadies(controller, TimeSpan.FromMilliseconds(500)));
        processor.Open();
        Assert.Equal("huge", Next(channel, WireProtocol.Done)[2].ConvertToString());
        // Then, holding nothing, it offers a slot again: one, as that is all the bound allows for jobs of that size.
        Assert.Equal(1, CountReadies(controller, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void Worker_SmallJobsUnderItsBound_FreedSlotOfferedAtOnce()
    {
        using var controller = new RouterSocket();
        using var channel = new RouterSocket();
        var controllerPort = controller.BindRandomPort("tcp://127.0.0.1");
        var channelPort = channel.BindRandomPort("tcp://127.0.0.1");
        var processor = new GatedBatchProcessor();
        using var worker = StartWorker(processor, controllerPort, channelPort, concurrency: 8, maxHeldBytes: 1_000_000);
        var ready = Next(controller, WireProtocol.Ready);
        Assert.Equal("8", ready[2].ConvertToString());
        var identity = ready[0].ToByteArray();

        Hand(controller, channel, identity, "A", 2_000);
        processor.WaitUntilHolding(1);
        // A TAKE whose job is GONE: its slot is offered again at once.
        Take(controller, identity, "C");
        Assert.Equal("C", Next(channel, WireProtocol.Get)[2].ConvertToString());
        Send(channel, identity, WireProtocol.Gone, "C");

        Assert.Equal(1, CountReadies(controller, TimeSpan.FromMilliseconds(500)));
        processor.Open();
    }

    [Fact]
    public void Worker_IdleAWhile_RestatesItsFreeSlots_ButNotWhileItHoldsAJob()
    {
        using var controller = new RouterSocket();
        using var channel = new RouterSocket();
        var controllerPort = controller.BindRandomPort("tcp://127.0.0.1");
        var channelPort = channel.BindRandomPort("tcp://127.0.0.1");
        var processor = new GatedBatchProcessor();
        // Five heartbeats of 400 ms: a restatement the worker sends before the TAKE below reaches it would land in the
        // window counted after it, and on a loaded 2-core machine (test classes run side by side) 1 s between the
        // restatement read here and that TAKE happened once (CI, stop 18). The window still outlasts the idle period,
        // so a worker that restated while holding a job is still caught.
        using var worker = StartWorker(processor, controllerPort, channelPort, concurrency: 8, maxHeldBytes: 1_000_000, heartbeat: TimeSpan.FromMilliseconds(400));
        var identity = Next(controller, WireProtocol.Ready)[0].ToByteArray();

        // Nothing handed to it for five heartbeats: "READY 8" again, all told (a bare READY lost on the way, or a DONE
        // lost so that the broker took it for busy, would otherwise leave it unused for good).
        Assert.Equal("8", Next(controller, WireProtocol.Ready)[2].ConvertToString());

        // Holding a job, it says nothing of the kind: the broker's count would miss that job.
        Hand(controller, channel, identity, "A", 100);
        processor.WaitUntilHolding(1);
        Assert.Equal(0, CountRestatements(controller, TimeSpan.FromSeconds(3)));
        processor.Open();
        Assert.Equal("A", Next(channel, WireProtocol.Done)[2].ConvertToString());
    }

    private static int CountRestatements(RouterSocket controller, TimeSpan window)
    {
        var count = 0;
        var until = DateTime.UtcNow + window;
        var message = new NetMQMessage();
        while (DateTime.UtcNow < until && controller.TryReceiveMultipartMessage(until - DateTime.UtcNow, ref message))
        {
            if (message.FrameCount >= 3 && message[1].ConvertToString() == WireProtocol.Ready)
            {
                count++;
            }
            message = new NetMQMessage();
        }
        return count;
    }

    private static JobWorker StartWorker(GatedBatchProcessor processor, int controllerPort, int channelPort, int concurrency, long maxHeldBytes, TimeSpan? heartbeat = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IJobProcessor>(processor);
        var provider = services.BuildServiceProvider();
        var worker = new JobWorker(
            new WorkerOptions
            {
                ControllerEndpoint = $"tcp://127.0.0.1:{controllerPort}", WorkerEndpoint = $"tcp://127.0.0.1:{channelPort}",
                Concurrency = concurrency, MaxHeldBytes = maxHeldBytes, HeartbeatInterval = heartbeat ?? TimeSpan.FromSeconds(1),
            },
            provider.GetRequiredService<IServiceScopeFactory>(), TimeProvider.System, NullLogger<JobWorker>.Instance);
        worker.Start();
        return worker;
    }

    [Fact]
    public void Validate_MaxHeldBytesNotPositive_Refused()
    {
        var result = new ValidateWorkerOptions().Validate(null, new WorkerOptions { MaxHeldBytes = 0 });

        Assert.Contains(result.Failures!, f => f.Contains("MaxHeldBytes", StringComparison.Ordinal));
    }

    private static void Take(RouterSocket controller, byte[] identity, string id)
    {
        var take = new NetMQMessage();
        take.Append(identity);
        take.Append(WireProtocol.Take);
        take.Append(id);
        controller.SendMultipartMessage(take);
    }

    private static void Send(RouterSocket socket, byte[] identity, params string[] frames)
    {
        var message = new NetMQMessage();
        message.Append(identity);
        foreach (var frame in frames)
        {
            message.Append(frame);
        }
        socket.SendMultipartMessage(message);
    }

    /// <summary>TAKE, then the JOB the worker asks for, with a notification of <paramref name="size"/> bytes.</summary>
    private static void Hand(RouterSocket controller, RouterSocket channel, byte[] identity, string id, int size)
    {
        Take(controller, identity, id);
        Assert.Equal(id, Next(channel, WireProtocol.Get)[2].ConvertToString());
        var job = new NetMQMessage();
        job.Append(identity);
        job.Append(WireProtocol.Job);
        job.Append(id);
        job.Append("0");
        job.Append(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
        job.Append(new byte[size]);
        channel.SendMultipartMessage(job);
    }

    /// <summary>The next message with this command (heartbeats and other commands in between are skipped).</summary>
    private static NetMQMessage Next(RouterSocket socket, string command)
    {
        var until = DateTime.UtcNow + Timeout;
        while (DateTime.UtcNow < until)
        {
            var message = new NetMQMessage();
            if (socket.TryReceiveMultipartMessage(until - DateTime.UtcNow, ref message) && message[1].ConvertToString() == command)
            {
                return message;
            }
        }
        throw new TimeoutException($"no {command} within {Timeout}");
    }

    /// <summary>Bare READYs (one freed slot each) that arrive within <paramref name="window"/>.</summary>
    private static int CountReadies(RouterSocket controller, TimeSpan window)
    {
        var count = 0;
        var until = DateTime.UtcNow + window;
        var message = new NetMQMessage();
        while (DateTime.UtcNow < until && controller.TryReceiveMultipartMessage(until - DateTime.UtcNow, ref message))
        {
            if (message.FrameCount == 2 && message[1].ConvertToString() == WireProtocol.Ready)
            {
                count++;
            }
            message = new NetMQMessage();
        }
        return count;
    }

    /// <summary>Holds every job it is given until <see cref="Open"/>, then stores them all.</summary>
    private sealed class GatedBatchProcessor : IBatchJobProcessor
    {
        private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _holding;

        public void Open() => _open.TrySetResult();

        public void WaitUntilHolding(int count)
        {
            var until = DateTime.UtcNow + Timeout;
            while (Volatile.Read(ref _holding) < count)
            {
                if (DateTime.UtcNow > until)
                {
                    throw new TimeoutException($"the worker handed over {_holding} jobs, not {count}");
                }
                Thread.Sleep(10);
            }
        }

        public Task<JobOutcome> ProcessAsync(Job job, CancellationToken cancellationToken = default)
            => throw new InvalidOperationException("a batch processor is given batches");

        public async Task<IReadOnlyList<JobOutcome>> ProcessBatchAsync(IReadOnlyList<Job> jobs, CancellationToken cancellationToken = default)
        {
            Interlocked.Add(ref _holding, jobs.Count);
            await _open.Task.WaitAsync(cancellationToken);
            return jobs.Select(_ => JobOutcome.Success).ToList();
        }
    }
}
