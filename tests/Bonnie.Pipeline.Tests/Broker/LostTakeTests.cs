using Bonnie.Pipeline.Broker;
using Bonnie.Shared.Protocol;

namespace Bonnie.Pipeline.Tests.Broker;

/// <summary>
/// A TAKE lost on its way (a broken connection discards what was queued on it, and the worker's socket reconnects
/// without a word): the worker never asks for the job and never frees its slot. Spoken with raw sockets, so that a
/// TAKE can be left unanswered, or answered late.
/// </summary>
public sealed class LostTakeTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>
    /// A short deadline; raw workers send no heartbeats, so the broker waits 10 s for their word before it counts them
    /// lost, far longer than any of these tests.
    /// </summary>
    private static void ShortDeadline(BrokerOptions options)
    {
        options.HeartbeatLiveness = 100;
        options.JobDeadline = TimeSpan.FromMilliseconds(500);
        options.MaxLaneRun = 3;
    }

    [Fact]
    public void Deadline_TakeNeverAskedFor_TheSameJobAgainUnchargedAndTheSlotIsBack()
    {
        using var harness = new BrokerHarness(ShortDeadline);
        var alice = harness.SubmitJobs("alice@example.org", 1);
        using var worker = new RawWorker(harness, "one-slot");
        worker.Ready(1, runs: false);

        // Lost: the worker never asks for it.
        Assert.Equal([(alice[0], null)], worker.Takes(1));

        // Past its deadline the job comes again, to the same worker: it never ran, so no attempt is counted.
        Assert.Equal([(alice[0], null)], worker.Takes(1));
        Assert.Equal(0, worker.Attempt(alice[0]));
        worker.Report(WireProtocol.Done, alice[0]);
        worker.Free();

        // Its one slot is free again: it gets the next job.
        var bob = harness.SubmitJobs("bob@example.org", 1);
        Assert.Equal([(bob[0], null)], worker.Takes(1));
    }

    [Fact]
    public async Task Get_AfterItsTakeWasTakenAsLost_AnsweredGoneAndTheWorkersSlotsCountedExactly()
    {
        using var harness = new BrokerHarness(ShortDeadline);
        var alice = harness.SubmitJobs("alice@example.org", 1);
        using var late = new RawWorker(harness, "late");
        late.Ready(1, runs: false);
        Assert.Equal([(alice[0], null)], late.Takes(1));
        using var other = new RawWorker(harness, "other");
        other.Ready(1, runs: false);

        // Past its deadline the job goes to the next worker in turn, uncharged, and is done there.
        Assert.Equal([(alice[0], null)], other.Takes(1));
        Assert.Equal(0, other.Attempt(alice[0]));
        other.Report(WireProtocol.Done, alice[0]);

        // The TAKE was only late: the first worker asks now, is told GONE and frees the slot, as JobWorker does.
        Assert.Equal(-1, late.Attempt(alice[0]));
        late.Free();

        // The broker counts the one slot the worker has, not two.
        var freed = DateTimeOffset.UtcNow;
        await harness.WaitUntilAsync(s => s.At > freed.AddMilliseconds(500), Timeout);
        Assert.Equal(1, harness.Monitor.Current.Workers.Single(w => w.Id == "late").FreeSlots);
    }

    [Fact]
    public async Task Deadline_JobTheWorkerAskedFor_ChargedAnAttemptAndTheWorkerUnavailable()
    {
        using var harness = new BrokerHarness(ShortDeadline);
        var alice = harness.SubmitJobs("alice@example.org", 1);
        using var slow = new RawWorker(harness, "slow");
        slow.Ready(1, runs: false);
        Assert.Equal([(alice[0], null)], slow.Takes(1));
        Assert.Equal(0, slow.Attempt(alice[0]));

        // It has the job and does not finish it in time.
        await harness.WaitUntilAsync(s => s.Workers.Any(w => w.Id == "slow" && w.State == WorkerState.Unavailable), Timeout);
        using var next = new RawWorker(harness, "next");
        next.Ready(1, runs: false);

        Assert.Equal([(alice[0], null)], next.Takes(1));
        Assert.Equal(1, next.Attempt(alice[0]));
    }

    [Fact]
    public void Deadline_RunNeverAskedFor_TheSameRunAgainInOrderUncharged()
    {
        using var harness = new BrokerHarness(ShortDeadline);
        var alice = harness.SubmitJobs("alice@example.org", 3);
        using var worker = new RawWorker(harness, "runner");
        worker.Ready(3, runs: true);
        var run = worker.Takes(3);
        Assert.Equal([(alice[0], null), (alice[1], alice[0]), (alice[2], alice[1])], run);

        // All three TAKEs lost: the whole run comes again, in order, and each slot with it.
        Assert.Equal(run, worker.Takes(3));
        Assert.Equal([0, 0, 0], alice.Select(worker.Attempt));
    }

    [Fact]
    public async Task Deadline_FollowerNeverAskedFor_OutAgainOnlyBehindItsPredecessorUncharged()
    {
        using var harness = new BrokerHarness(ShortDeadline);
        var alice = harness.SubmitJobs("alice@example.org", 3);
        using var worker = new RawWorker(harness, "runner");
        worker.Ready(3, runs: true);
        Assert.Equal(3, worker.Takes(3).Count);

        // alice[1]'s TAKE is lost. The worker stores the head and gives back alice[2], which follows a job it never got.
        Assert.Equal(0, worker.Attempt(alice[0]));
        Assert.Equal(0, worker.Attempt(alice[2]));
        worker.Report(WireProtocol.Done, alice[0]);
        worker.Free();
        worker.Report(WireProtocol.Release, alice[2]);
        worker.Free();

        // alice[2] goes out again behind alice[1], which is still out; at alice[1]'s deadline both come again, in order,
        // uncharged.
        Assert.Equal([(alice[2], alice[1]), (alice[1], null), (alice[2], alice[1])], worker.Takes(3));
        Assert.Equal(0, worker.Attempt(alice[1]));
        Assert.Equal(0, worker.Attempt(alice[2]));
        // Three slots, two of them holding those two jobs.
        var asked = DateTimeOffset.UtcNow;
        await harness.WaitUntilAsync(s => s.At > asked.AddMilliseconds(300), Timeout);
        Assert.Equal(1, harness.Monitor.Current.Workers.Single(w => w.Id == "runner").FreeSlots);
    }

    [Fact]
    public async Task Deadline_HeadAskedForButNotItsFollowers_TheFollowersSlotsAreFreeAgain()
    {
        using var harness = new BrokerHarness(ShortDeadline);
        var alice = harness.SubmitJobs("alice@example.org", 3);
        using var slow = new RawWorker(harness, "slow");
        slow.Ready(3, runs: true);
        Assert.Equal(3, slow.Takes(3).Count);
        // It has the head (the TAKEs behind it were lost) and does not finish it in time.
        Assert.Equal(0, slow.Attempt(alice[0]));
        await harness.WaitUntilAsync(s => s.Jobs[JobState.Pending] == 3 && s.Workers.Any(w => w.Id == "slow" && w.State == WorkerState.Unavailable), Timeout);

        // It finishes the head late (accepted: the store is idempotent) and frees its slot: it has three free again, and
        // gets the rest of the run back.
        slow.Report(WireProtocol.Done, alice[0]);
        await harness.WaitUntilAsync(s => s.Jobs[JobState.Done] == 1, Timeout);
        slow.Free();
        Assert.Equal([(alice[1], null), (alice[2], alice[1])], slow.Takes(2));
        Assert.Equal([0, 0], alice.Skip(1).Select(slow.Attempt));
        var asked = DateTimeOffset.UtcNow;
        await harness.WaitUntilAsync(s => s.At > asked.AddMilliseconds(300), Timeout);
        Assert.Equal(1, harness.Monitor.Current.Workers.Single(w => w.Id == "slow").FreeSlots);
    }
}
