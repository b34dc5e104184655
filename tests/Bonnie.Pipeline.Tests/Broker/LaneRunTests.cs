using System.Globalization;
using System.Text;
using Bonnie.Pipeline.Broker;
using Bonnie.Pipeline.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Bonnie.Shared.Protocol;
using NetMQ;
using NetMQ.Sockets;

namespace Bonnie.Pipeline.Tests.Broker;

/// <summary>
/// Runs: a worker that stores batches (it says <c>READY n RUNS</c>) gets several jobs of one mailbox at once, each
/// naming the job it follows, so that a burst of one mailbox is not one transaction per event. Spoken here with raw
/// sockets, so that every frame the broker sends is seen.
/// </summary>
public sealed class LaneRunTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Take_WorkerThatTakesRuns_GetsAMailboxsJobsInOrderEachNamingTheOneBefore()
    {
        using var harness = new BrokerHarness(o => o.MaxLaneRun = 3);
        var alice = harness.SubmitJobs("alice@example.org", 5);
        var bob = harness.SubmitJobs("bob@example.org", 1);
        using var worker = new RawWorker(harness, "runner");

        worker.Ready(10, runs: true);

        // Oldest first: alice's head and its run (bounded at 3), then bob's head. Nothing of alice past the bound.
        var takes = worker.Takes(4);
        Assert.Equal(
            [(alice[0], null), (alice[1], alice[0]), (alice[2], alice[1]), (bob[0], null)],
            takes);
        Assert.Empty(worker.Takes(1, TimeSpan.FromMilliseconds(500)));

        // The head is stored: the run moves on by one, and the new job names the last one out.
        worker.Report(WireProtocol.Done, alice[0]);
        Assert.Equal([(alice[3], alice[2])], worker.Takes(1));
        await harness.WaitUntilAsync(s => s.Jobs[JobState.Done] == 1, Timeout);
    }

    [Fact]
    public void Take_WorkerWithoutRuns_GetsOneJobPerMailboxAtATime()
    {
        using var harness = new BrokerHarness();
        var alice = harness.SubmitJobs("alice@example.org", 3);
        using var worker = new RawWorker(harness, "plain");

        worker.Ready(10, runs: false);

        Assert.Equal([(alice[0], null)], worker.Takes(1));
        Assert.Empty(worker.Takes(1, TimeSpan.FromMilliseconds(500)));
        worker.Report(WireProtocol.Done, alice[0]);
        Assert.Equal([(alice[1], null)], worker.Takes(1));
    }

    [Fact]
    public async Task Release_BehindAPostponedHead_BackWithoutAnAttemptAndOutAgainOnlyAfterIt()
    {
        // This worker sends no heartbeats: the broker may wait 10 s for its word before it counts it lost.
        using var harness = new BrokerHarness(o => (o.MaxLaneRun, o.HeartbeatLiveness) = (3, 100));
        var alice = harness.SubmitJobs("alice@example.org", 3);
        using var worker = new RawWorker(harness, "runner");
        worker.Ready(10, runs: true);
        Assert.Equal(3, worker.Takes(3).Count);

        // The head's payload is not there yet; the worker stores neither job behind it and gives them back.
        worker.Report(WireProtocol.Postpone, alice[0], "payload not available yet", "2000");
        worker.Report(WireProtocol.Release, alice[1]);
        worker.Report(WireProtocol.Release, alice[2]);
        await harness.WaitUntilAsync(s => s.Jobs[JobState.Postponed] == 1 && s.Jobs[JobState.Pending] == 2, Timeout);
        // The released jobs wait behind the postponed head: nothing goes out before its retry time.
        Assert.Empty(worker.Takes(1, TimeSpan.FromMilliseconds(300)));

        // Then the same run again, in order; the postponement counted an attempt, the releases did not.
        Assert.Equal([(alice[0], null), (alice[1], alice[0]), (alice[2], alice[1])], worker.Takes(3));
        Assert.Equal([1, 0, 0], alice.Select(worker.Attempt));
    }

    [Fact]
    public void Release_WhileItsPredecessorIsAskedForAndStillOut_NotHandedOutAgainBehindItUntilThatOneIsReported()
    {
        using var harness = new BrokerHarness(o => (o.MaxLaneRun, o.HeartbeatLiveness) = (3, 100));
        var alice = harness.SubmitJobs("alice@example.org", 2);
        using var worker = new RawWorker(harness, "runner");
        worker.Ready(10, runs: true);
        Assert.Equal([(alice[0], null), (alice[1], alice[0])], worker.Takes(2));
        Assert.Equal([0, 0], alice.Select(worker.Attempt));

        // The worker did not store the head, and its report of it was lost with a broken connection; the follower's
        // RELEASE came. Handed out again behind the head, the follower would come back again at once, and so on until
        // the head's deadline. Nor is the head written off: the worker asked for it.
        worker.Report(WireProtocol.Release, alice[1]);
        worker.Free();
        Assert.Empty(worker.Takes(1, TimeSpan.FromMilliseconds(500)));

        // Once the head's end is known (here it is postponed; a report lost for good ends at its deadline), the lane goes
        // on as after any release.
        worker.Report(WireProtocol.Postpone, alice[0], "payload not available yet", "200");
        worker.Free();
        Assert.Equal([(alice[0], null), (alice[1], alice[0])], worker.Takes(2));
        Assert.Equal([1, 0], alice.Select(worker.Attempt));
    }

    [Fact]
    public async Task WorkerLost_WithARun_OnlyTheHeadIsChargedAnAttempt()
    {
        // Three seconds of silence: the worker that replaces it sends no heartbeats either, only its READY and GETs, and
        // with one second a loaded machine once let it fall silent that long between them (it was lost too).
        using var harness = new BrokerHarness(o => (o.MaxLaneRun, o.HeartbeatLiveness) = (3, 30));
        var alice = harness.SubmitJobs("alice@example.org", 3);
        using (var lost = new RawWorker(harness, "lost"))
        {
            lost.Ready(10, runs: true);
            Assert.Equal(3, lost.Takes(3).Count);
        }
        // Silent past its heartbeats (3 s): lost. The run's followers were waiting on the head, not at fault.
        using var next = new RawWorker(harness, "next");
        await harness.WaitUntilAsync(s => s.Workers.All(w => w.Id != "lost") && s.Jobs[JobState.Pending] == 3, Timeout);
        next.Ready(10, runs: true);

        Assert.Equal([(alice[0], null), (alice[1], alice[0]), (alice[2], alice[1])], next.Takes(3));
        Assert.Equal([1, 0, 0], alice.Select(next.Attempt));
    }

    [Fact]
    public async Task Deadline_HeadOfARunLate_TheRunGoesBackAndOnlyTheHeadIsCharged()
    {
        // Two seconds: the three GETs below must all land within the deadline, and with 400 ms a loaded machine once
        // let it pass between them (the later jobs were back in the queue, GONE to this worker).
        using var harness = new BrokerHarness(o => (o.MaxLaneRun, o.HeartbeatLiveness, o.JobDeadline) = (3, 100, TimeSpan.FromSeconds(2)));
        var alice = harness.SubmitJobs("alice@example.org", 3);
        using var slow = new RawWorker(harness, "slow");
        slow.Ready(10, runs: true);
        Assert.Equal(3, slow.Takes(3).Count);
        // It asks for the whole run and finishes none of it (a TAKE never asked for is a lost one: LostTakeTests).
        Assert.Equal([0, 0, 0], alice.Select(slow.Attempt));

        await harness.WaitUntilAsync(s => s.Jobs[JobState.Pending] == 3 && s.Workers.Any(w => w.Id == "slow" && w.State == WorkerState.Unavailable), Timeout);
        using var next = new RawWorker(harness, "next");
        next.Ready(10, runs: true);

        Assert.Equal([(alice[0], null), (alice[1], alice[0]), (alice[2], alice[1])], next.Takes(3));
        Assert.Equal([1, 0, 0], alice.Select(next.Attempt));
    }

    [Fact]
    public async Task Release_OfAJobNotHeldByThatWorker_Ignored()
    {
        using var harness = new BrokerHarness();
        var alice = harness.SubmitJobs("alice@example.org", 2);
        using var holder = new RawWorker(harness, "holder");
        using var other = new RawWorker(harness, "other");
        holder.Ready(10, runs: true);
        Assert.Equal(2, holder.Takes(2).Count);

        other.Report(WireProtocol.Release, alice[1]);
        holder.Report(WireProtocol.Done, alice[0]);
        await harness.WaitUntilAsync(s => s.Jobs[JobState.Done] == 1, Timeout);

        // Still the holder's: it answers JOB to the holder, and nothing was put back for anyone (put back, it would be
        // the lane's head now and go out again at once).
        Assert.Empty(holder.Takes(1, TimeSpan.FromMilliseconds(500)));
        Assert.Equal(0, holder.Attempt(alice[1]));
        Assert.Equal(1, harness.Monitor.Current.Jobs[JobState.Assigned]);
    }

    [Theory]
    // One job per batch: every job behind the postponed one is in a later batch than it, so the worker itself must
    // hold them back. Batches as large as the slots: they mostly share its batch, and the processor releases them.
    [InlineData(1)]
    [InlineData(64)]
    public async Task Worker_OneMailboxsBurstWithAPostponementInIt_StoredInArrivalOrder(int maxBatch)
    {
        using var harness = new BrokerHarness(o => o.PostponeDelay = TimeSpan.FromMilliseconds(100));
        var alice = harness.SubmitJobs("alice@example.org", 40);
        var processor = new OrderRecordingBatchProcessor(postponeOnce: alice[7]);

        harness.StartWorker(processor, concurrency: 64, maxBatch: maxBatch);
        await harness.WaitUntilAsync(s => s.Jobs[JobState.Done] == 40, Timeout);

        // Whatever batch each job landed in, the mailbox's events were stored in the order Cyrus sent them: the jobs
        // behind the postponed one were given back (not stored ahead of it) and came again after it.
        Assert.Equal(alice, processor.Stored);
        Assert.Equal(2, processor.Seen.Count(j => j.Id == alice[7]));
        Assert.Contains(processor.Seen, j => j.Id == alice[8]);
        Assert.All(processor.Seen.Where(j => j.Id == alice[8]), j => Assert.Equal(0, j.Attempt));
        if (maxBatch > 1)
        {
            // Runs: far fewer transactions than events (one per event without them).
            Assert.True(processor.Batches < 20, $"{processor.Batches} batches for 40 events of one mailbox");
        }
    }

    [Fact]
    public void Worker_FollowerOfAJobItNeverGot_ReleasedUnprocessed_FollowerOfOneItStored_Processed()
    {
        // A broker spoken by hand, so that a TAKE can be "lost": the worker is told Y follows X, and never gets X.
        using var controller = new RouterSocket();
        using var channel = new RouterSocket();
        var controllerPort = controller.BindRandomPort("tcp://127.0.0.1");
        var channelPort = channel.BindRandomPort("tcp://127.0.0.1");
        var processor = new OrderRecordingBatchProcessor(postponeOnce: "");
        var services = new ServiceCollection();
        services.AddSingleton<IJobProcessor>(processor);
        using var provider = services.BuildServiceProvider();
        using var worker = new JobWorker(
            new WorkerOptions { ControllerEndpoint = $"tcp://127.0.0.1:{controllerPort}", WorkerEndpoint = $"tcp://127.0.0.1:{channelPort}", Concurrency = 8 },
            provider.GetRequiredService<IServiceScopeFactory>(), TimeProvider.System, NullLogger<JobWorker>.Instance);
        worker.Start();
        var ready = Next(controller, WireProtocol.Ready);
        Assert.Equal(WireProtocol.Runs, ready[3].ConvertToString());
        var identity = ready[0].ToByteArray();

        Hand(controller, channel, identity, "Y", after: "X");
        Assert.Equal("Y", Next(channel, WireProtocol.Release)[2].ConvertToString());

        Hand(controller, channel, identity, "X", after: null);
        Assert.Equal("X", Next(channel, WireProtocol.Done)[2].ConvertToString());
        Hand(controller, channel, identity, "Z", after: "X");
        Assert.Equal("Z", Next(channel, WireProtocol.Done)[2].ConvertToString());

        Assert.Equal(["X", "Z"], processor.Stored);
    }

    /// <summary>TAKE, then the JOB the worker asks for.</summary>
    private static void Hand(RouterSocket controller, RouterSocket channel, byte[] identity, string id, string? after)
    {
        var take = new NetMQMessage();
        take.Append(identity);
        take.Append(WireProtocol.Take);
        take.Append(id);
        if (after is not null)
        {
            take.Append(after);
        }
        controller.SendMultipartMessage(take);
        Assert.Equal(id, Next(channel, WireProtocol.Get)[2].ConvertToString());
        var job = new NetMQMessage();
        job.Append(identity);
        job.Append(WireProtocol.Job);
        job.Append(id);
        job.Append("0");
        job.Append(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
        job.Append(Notifications.For("alice@example.org"));
        channel.SendMultipartMessage(job);
    }

    /// <summary>The next message with this command (heartbeats and bare READYs in between are skipped).</summary>
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

    [Fact]
    public async Task Collect_HeadAndFollowerAwayAtOnce_FollowerBackFirstWaits_ThenTheRunAgainInOrder()
    {
        // This worker sends no heartbeats: the broker may wait 10 s for its word before it counts it lost.
        using var harness = new BrokerHarness(o => (o.MaxLaneRun, o.HeartbeatLiveness) = (3, 100));
        var alice = harness.SubmitJobs("alice@example.org", 3);
        using var collector = new DealerSocket();
        collector.Options.Identity = Encoding.ASCII.GetBytes("collector-1");
        collector.Options.Linger = TimeSpan.Zero;
        collector.Connect(harness.Broker.CollectorEndpoint);
        collector.SendFrame(WireProtocol.Ready);
        using var worker = new RawWorker(harness, "runner");
        worker.Ready(10, runs: true);
        Assert.Equal(3, worker.Takes(3).Count);

        // The worker sends both deliveries to the collector and gives back what follows them (StoreJobProcessor).
        worker.Report(WireProtocol.Collect, alice[0], "payload a");
        worker.Report(WireProtocol.Collect, alice[1], "payload b");
        worker.Report(WireProtocol.Release, alice[2]);
        var requests = new Dictionary<string, NetMQMessage>();
        while (requests.Count < 2)
        {
            var request = new NetMQMessage();
            Assert.True(collector.TryReceiveMultipartMessage(Timeout, ref request), "the collector was not asked for both");
            requests[request[1].ConvertToString()] = request;
        }
        void Answer(string id)
        {
            var reply = new NetMQMessage();
            reply.Append(WireProtocol.Collected);
            reply.Append(id);
            reply.Append(requests[id][2].ConvertToString());
            reply.Append(WireProtocol.CollectOk);
            reply.Append("Subject: x\r\n\r\nbody"u8.ToArray());
            collector.SendMultipartMessage(reply);
        }

        // The follower's answer comes first: it waits behind its head, which is still away.
        Answer(alice[1]);
        Assert.Empty(worker.Takes(1, TimeSpan.FromMilliseconds(500)));
        Answer(alice[0]);

        // Then the same run again, in the mailbox's order, no attempt spent.
        Assert.Equal([(alice[0], null), (alice[1], alice[0]), (alice[2], alice[1])], worker.Takes(3));
        Assert.Equal([0, 0, 0], alice.Select(worker.Attempt));
        await harness.WaitUntilAsync(s => s.Jobs[JobState.Assigned] == 3, Timeout);
    }

    [Fact]
    public void Options_LaneRunOutOfRange_Refused()
    {
        var result = new ValidateBrokerOptions().Validate(null, new BrokerOptions { MaxLaneRun = 0 });

        Assert.Contains(result.Failures!, f => f.Contains("MaxLaneRun", StringComparison.Ordinal));
    }

    /// <summary>
    /// Stores (records) what it is given in batches, in order, keeping the batch processor's contract: a job that
    /// follows one not stored in this batch is released. Postpones one job the first time it sees it.
    /// </summary>
    private sealed class OrderRecordingBatchProcessor(string postponeOnce) : IBatchJobProcessor
    {
        private bool _postponed;

        public List<string> Stored { get; } = [];
        public List<Job> Seen { get; } = [];
        public int Batches { get; private set; }

        public Task<JobOutcome> ProcessAsync(Job job, CancellationToken cancellationToken = default)
            => throw new InvalidOperationException("a batch processor is given batches");

        public async Task<IReadOnlyList<JobOutcome>> ProcessBatchAsync(
            IReadOnlyList<Job> jobs, CancellationToken cancellationToken = default)
        {
            // A transaction takes a while: what arrives meanwhile lands in the next batch.
            await Task.Delay(20, cancellationToken);
            Batches++;
            var notStored = new HashSet<string>();
            var outcomes = new List<JobOutcome>();
            foreach (var job in jobs)
            {
                Seen.Add(job);
                JobOutcome outcome;
                if (job.After is { } after && notStored.Contains(after))
                {
                    outcome = JobOutcome.Release;
                }
                else if (job.Id == postponeOnce && !_postponed)
                {
                    _postponed = true;
                    outcome = new JobOutcome.Postpone("payload not available yet", TimeSpan.FromMilliseconds(100));
                }
                else
                {
                    outcome = JobOutcome.Success;
                    Stored.Add(job.Id);
                }
                if (outcome is not JobOutcome.Done)
                {
                    notStored.Add(job.Id);
                }
                outcomes.Add(outcome);
            }
            return outcomes;
        }
    }
}
