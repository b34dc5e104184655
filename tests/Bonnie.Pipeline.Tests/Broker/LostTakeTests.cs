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
    /// lost, far longer than any of these tests. Short enough for a TAKE left unanswered to lapse within a test, long
    /// enough for one the test answers at once to be answered in time on a loaded machine: at 500 ms a CI run's GET came
    /// after the second worker's deadline too, and was told GONE.
    /// </summary>
    private static void ShortDeadline(BrokerOptions options)
    {
        options.HeartbeatLiveness = 100;
        options.JobDeadline = TimeSpan.FromSeconds(2);
        options.MaxLaneRun = 3;
    }

    /// <summary>The default deadline: what these tests wait for must come long before it.</summary>
    private static void LongDeadline(BrokerOptions options)
    {
        options.HeartbeatLiveness = 100;
        options.JobDeadline = TimeSpan.FromMinutes(5);
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
    public async Task Release_BehindAFollowerNeverAskedFor_OutAgainOnlyBehindItsPredecessorUncharged()
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

        // The worker asked for alice[2] and not for alice[1], handed to it before: alice[1]'s TAKE counts as lost at
        // once (without waiting for its deadline, alice[2] would go out again behind it, come back, and so on). Both come
        // again, in order, uncharged.
        Assert.Equal([(alice[1], null), (alice[2], alice[1])], worker.Takes(2));
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

    [Fact]
    public void Release_FollowerOfATakeNeverAskedFor_ThatTakeCountsAsLostAtOnceAndTheRunGoesOutAgainInOrder()
    {
        using var harness = new BrokerHarness(LongDeadline);
        var alice = harness.SubmitJobs("alice@example.org", 2);
        var (head, follower) = (alice[0], alice[1]);
        using var worker = new RawWorker(harness, "runner");
        worker.Ready(10, runs: true);
        Assert.Equal([(head, null), (follower, head)], worker.Takes(2));

        // The head's TAKE is lost. The worker asks for the follower and gives it back, as JobWorker does: the job it
        // follows never came.
        Assert.Equal(0, worker.Attempt(follower));
        worker.Report(WireProtocol.Release, follower);
        worker.Free();

        // It asked for a job handed out after the head and not for the head: the head's TAKE counts as lost now, not
        // at its deadline minutes away. The head comes again, uncharged, and the follower only behind it: it is not
        // handed out again and again behind a head the worker does not have.
        Assert.Equal([(head, null), (follower, head)], worker.Takes(2, TimeSpan.FromSeconds(5)));
        Assert.Equal([0, 0], alice.Select(worker.Attempt));
    }

    [Fact]
    public void Release_FollowerOfAJobAskedForAndPostponed_NoWriteOffThatJobIsChargedAndComesAgainAfterItsRetryTime()
    {
        using var harness = new BrokerHarness(LongDeadline);
        var alice = harness.SubmitJobs("alice@example.org", 2);
        var (head, follower) = (alice[0], alice[1]);
        using var worker = new RawWorker(harness, "runner");
        worker.Ready(10, runs: true);
        Assert.Equal([(head, null), (follower, head)], worker.Takes(2));
        Assert.Equal([0, 0], alice.Select(worker.Attempt));

        worker.Report(WireProtocol.Postpone, head, "payload not available yet", "2000");
        worker.Free();
        worker.Report(WireProtocol.Release, follower);
        worker.Free();

        // The head was asked for: nothing is written off, nothing goes out before its retry time.
        Assert.Empty(worker.Takes(1, TimeSpan.FromMilliseconds(500)));
        Assert.Equal([(head, null), (follower, head)], worker.Takes(2));
        Assert.Equal([1, 0], alice.Select(worker.Attempt));
    }

    [Fact]
    public void Release_FollowerAfterItsPredecessorCameBackFromAPostponement_NoWriteOffOfThatNewTake()
    {
        using var harness = new BrokerHarness(LongDeadline);
        var alice = harness.SubmitJobs("alice@example.org", 2);
        var (head, follower) = (alice[0], alice[1]);
        using var worker = new RawWorker(harness, "runner");
        worker.Ready(10, runs: true);
        Assert.Equal([(head, null), (follower, head)], worker.Takes(2));
        Assert.Equal([0, 0], alice.Select(worker.Attempt));
        worker.Report(WireProtocol.Postpone, head, "payload not available yet", "200");
        worker.Free();
        Assert.Equal([(head, null)], worker.Takes(1));

        // The follower's RELEASE comes only now, when the head is out again and not yet asked for. That TAKE of the head
        // was sent after the follower's: the worker may not have it yet, and nothing says it was lost.
        worker.Report(WireProtocol.Release, follower);
        worker.Free();

        Assert.DoesNotContain((head, null), worker.Takes(1, TimeSpan.FromMilliseconds(500)));
        Assert.Equal(1, worker.Attempt(head));
    }

    [Fact]
    public async Task Release_OfACopyTakenBackAtItsHeadsDeadline_NoWriteOffOfTheHeadsNewTake()
    {
        using var harness = new BrokerHarness(o => (o.MaxLaneRun, o.HeartbeatLiveness, o.JobDeadline) = (3, 100, TimeSpan.FromSeconds(2)));
        var alice = harness.SubmitJobs("alice@example.org", 2);
        var (head, follower) = (alice[0], alice[1]);
        using var worker = new RawWorker(harness, "slow");
        worker.Ready(10, runs: true);
        Assert.Equal([(head, null), (follower, head)], worker.Takes(2));
        Assert.Equal([0, 0], alice.Select(worker.Attempt));
        // The head is late: charged, and the follower is taken back with it while the worker still holds both.
        await harness.WaitUntilAsync(s => s.Jobs[JobState.Pending] == 2 && s.Workers.Any(w => w.Id == "slow" && w.State == WorkerState.Unavailable), Timeout);
        worker.Free();
        Assert.Equal([(head, null), (follower, head)], worker.Takes(2));

        // The worker gives back its old copy of the follower before the new TAKEs reach it (here: before it asks for
        // them). The follower, handed out again, was not asked for: its RELEASE says nothing of the head's TAKE.
        worker.Report(WireProtocol.Release, follower);
        worker.Free();

        Assert.DoesNotContain((head, null), worker.Takes(1, TimeSpan.FromMilliseconds(500)));
        Assert.Equal(1, worker.Attempt(head));
    }

    [Fact]
    public void Deadline_TakeOfAProcessThatRestartedUnderTheSameName_NoSlotCreditedTwice()
    {
        using var harness = new BrokerHarness(o => (o.MaxLaneRun, o.HeartbeatLiveness, o.JobDeadline) = (3, 100, TimeSpan.FromSeconds(2)));
        var alice = harness.SubmitJobs("alice@example.org", 1);
        var bob = harness.SubmitJobs("bob@example.org", 1);
        var old = new RawWorker(harness, "restarts");
        old.Ready(1, runs: false);
        var first = Assert.Single(old.Takes(1)).Id;
        var second = first == alice[0] ? bob[0] : alice[0];

        // The process stops before asking for it; a new one under the same name says it has its one slot free, gets
        // the other job at once, and stores it.
        old.Dispose();
        Thread.Sleep(300);
        using var restarted = new RawWorker(harness, "restarts");
        restarted.Ready(1, runs: false);
        Assert.Equal([(second, null)], restarted.Takes(1));
        Assert.Equal(0, restarted.Attempt(second));
        restarted.Report(WireProtocol.Done, second);
        restarted.Free();

        // The old process's TAKE is written off at its deadline and the job comes to the new process, uncharged. Its
        // slot was counted in "READY 1" already: the worker, busy with its one job now, is handed nothing more.
        Assert.Equal([(first, null)], restarted.Takes(1));
        Assert.Equal(0, restarted.Attempt(first));
        var carol = harness.SubmitJobs("carol@example.org", 1);
        Assert.Empty(restarted.Takes(1, TimeSpan.FromSeconds(1)));
        restarted.Report(WireProtocol.Done, first);
        restarted.Free();
        Assert.Equal([(carol[0], null)], restarted.Takes(1));
    }

    [Fact]
    public async Task Done_FromTheWorkerThatHadItBefore_WhileItsNewTakeIsLost_TheNewHoldersSlotIsFreeAgain()
    {
        using var harness = new BrokerHarness(ShortDeadline);
        var alice = harness.SubmitJobs("alice@example.org", 1);
        using var slow = new RawWorker(harness, "slow");
        slow.Ready(1, runs: false);
        Assert.Equal([(alice[0], null)], slow.Takes(1));
        Assert.Equal(0, slow.Attempt(alice[0]));
        await harness.WaitUntilAsync(s => s.Workers.Any(w => w.Id == "slow" && w.State == WorkerState.Unavailable), Timeout);

        // Out again, to another worker, whose TAKE is lost; then the slow worker's DONE comes, and the job is done.
        using var next = new RawWorker(harness, "next");
        next.Ready(1, runs: false);
        Assert.Equal([(alice[0], null)], next.Takes(1));
        slow.Report(WireProtocol.Done, alice[0]);
        await harness.WaitUntilAsync(s => s.Jobs[JobState.Done] == 1, Timeout);

        // The slot counted for that lost TAKE is free again: the next job goes to that worker.
        var bob = harness.SubmitJobs("bob@example.org", 1);
        Assert.Equal([(bob[0], null)], next.Takes(1));
    }

    [Fact]
    public void Postpone_FromTheWorkerThatHadItBeforeItsDeadline_IgnoredWhileTheNewHolderHasIt()
    {
        // The deadline as ShortDeadline's (2 s): the new holder's GET and DONE must come within it.
        using var harness = new BrokerHarness(o => (o.MaxLaneRun, o.HeartbeatLiveness, o.JobDeadline, o.PostponeDelay) = (3, 100, TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(100)));
        var alice = harness.SubmitJobs("alice@example.org", 1);
        using var slow = new RawWorker(harness, "slow");
        slow.Ready(1, runs: false);
        Assert.Equal([(alice[0], null)], slow.Takes(1));
        Assert.Equal(0, slow.Attempt(alice[0]));
        using var next = new RawWorker(harness, "next");
        next.Ready(1, runs: false);
        // Past its deadline at the slow worker, it goes to the next one, which has it.
        Assert.Equal([(alice[0], null)], next.Takes(1));
        Assert.Equal(1, next.Attempt(alice[0]));

        // The slow worker postpones its old copy: the job stays with the worker that has it now, and is not handed to
        // a third one after the postponement's short delay.
        slow.Report(WireProtocol.Postpone, alice[0], "payload not available yet", "100");
        using var third = new RawWorker(harness, "third");
        third.Ready(1, runs: false);
        Assert.Empty(third.Takes(1, TimeSpan.FromMilliseconds(400)));
        next.Report(WireProtocol.Done, alice[0]);
        Assert.Empty(third.Takes(1, TimeSpan.FromMilliseconds(400)));
    }

    [Fact]
    public async Task Postpone_OfAnOldCopyWhileTheNewTakeIsLost_TheSlotOfThatTakeIsFreeAgain()
    {
        using var harness = new BrokerHarness(ShortDeadline);
        var alice = harness.SubmitJobs("alice@example.org", 1);
        using var worker = new RawWorker(harness, "two-slots");
        worker.Ready(2, runs: false);
        Assert.Equal([(alice[0], null)], worker.Takes(1));
        Assert.Equal(0, worker.Attempt(alice[0]));
        // Too slow: the job goes back, and the worker, saying its one other slot is free, is handed it again.
        await harness.WaitUntilAsync(s => s.Workers.Any(w => w.Id == "two-slots" && w.State == WorkerState.Unavailable), Timeout);
        worker.Ready(1, runs: false);
        Assert.Equal([(alice[0], null)], worker.Takes(1));

        // That TAKE is lost. The old copy ends in a postponement, and the worker frees its slot, as JobWorker does.
        worker.Report(WireProtocol.Postpone, alice[0], "payload not available yet", "60000");
        worker.Free();

        // It holds nothing: both slots are free at the broker, not one.
        var freed = DateTimeOffset.UtcNow;
        await harness.WaitUntilAsync(s => s.At > freed.AddMilliseconds(300), Timeout);
        Assert.Equal(2, harness.Monitor.Current.Workers.Single(w => w.Id == "two-slots").FreeSlots);
    }

    [Fact]
    public void Deadline_OfAJobAskedForByAProcessThatRestartedUnderTheSameName_TheNewProcessGetsItAgain()
    {
        using var harness = new BrokerHarness(ShortDeadline);
        var alice = harness.SubmitJobs("alice@example.org", 1);
        var old = new RawWorker(harness, "restarts");
        old.Ready(1, runs: false);
        Assert.Equal([(alice[0], null)], old.Takes(1));
        Assert.Equal(0, old.Attempt(alice[0]));

        // It dies holding the job; a new process under the same name says its slot is free and waits, idle.
        old.Dispose();
        Thread.Sleep(300);
        using var restarted = new RawWorker(harness, "restarts");
        restarted.Ready(1, runs: false);

        // At the deadline the job comes again, charged (it may be what killed the old one), to the new process: the
        // worker is not taken for a busy one that missed a deadline, which an idle one would never recover from.
        Assert.Equal([(alice[0], null)], restarted.Takes(1));
        Assert.Equal(1, restarted.Attempt(alice[0]));
    }
}

