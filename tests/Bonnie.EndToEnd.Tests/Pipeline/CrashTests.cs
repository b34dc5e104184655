using System.Security.Cryptography;
using System.Text;
using Bonnie.Shared.Protocol;
using NetMQ;
using NetMQ.Sockets;

namespace Bonnie.EndToEnd.Tests.Pipeline;

/// <summary>
/// "Nothing is lost", proven with real processes: the broker and the workers are Bonnie.Web processes killed with
/// SIGKILL mid-stream.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class CrashTests
{
    [Fact]
    public async Task BrokerKilledMidStream_EveryAcknowledgedEventIsProcessedOnce()
    {
        using var layout = new PipelineLayout();
        var record = Path.Combine(layout.Directory, "worker.record");
        var events = Enumerable.Range(0, 20_000).Select(i => Encoding.UTF8.GetBytes(
            $$"""{"event":"MessageRead","timestamp":"2026-11-29T11:20:39.645Z","service":"imap","uri":"imap://imap.example.org/user/user{{i % 300}}%40example.org;UIDVALIDITY=1795951197","uidset":"{{i}}","user":"user{{i % 300}}@example.org","vnd.cmu.sessionId":"crash-{{i}}"}"""))
            .ToArray();
        // Besides the windowed clients, real dealer processes (one per event, as Cyrus runs them) submit throughout.
        var spool = Path.Combine(layout.Directory, "dealer-spool");
        var viaDealer = Enumerable.Range(0, 150).Select(i =>
            $$"""{"event":"FlagsSet","uri":"imap://imap.example.org/user/d{{i % 7}}%40example.org;UIDVALIDITY=1","uidset":"{{i}}","flagNames":"\\Flagged","user":"d{{i % 7}}@example.org"}""").ToList();
        var broker = await BonnieProcess.StartAsync(layout.Broker(), "Broker listening");
        using var worker = await BonnieProcess.StartAsync(layout.Worker("w1", record), "Worker w1 connected");
        var submitters = new ResubmittingClients(layout.ClientEndpoint, events, clients: 8, window: 50);

        var run = Task.Run(submitters.Run);
        var dealers = Task.Run(() => Task.WhenAll(viaDealer.Select(e => Dealer.RunAsync(e, layout.ClientEndpoint, spool))));
        await submitters.WaitForAcknowledgedAsync(6_000, TimeSpan.FromMinutes(2));
        broker.Kill();
        var ackedBeforeKill = submitters.Acknowledged;
        var firstBrokerLog = broker.Output;
        broker.Dispose();
        using var restarted = await BonnieProcess.StartAsync(layout.Broker(), "Broker listening");
        try
        {
            await RunToTheEndAsync();
        }
        finally
        {
            layout.KeepLog("broker-killed", firstBrokerLog);
            layout.KeepLog("broker-restarted", restarted.Output);
            layout.KeepLog("worker", worker.Output);
        }

        async Task RunToTheEndAsync()
        {
            await run.WaitAsync(TimeSpan.FromMinutes(4));
            Assert.All(await dealers.WaitAsync(TimeSpan.FromMinutes(4)), r => Assert.Equal(0, r.ExitCode));
            // What a dealer spooled while the broker was dead goes now, as cron's --drain does it. A drain stops at the
            // first event the broker does not acknowledge within the dealer's timeout (the restarted broker is busy
            // with the resubmissions), so it runs as cron would: again, until the spool is empty.
            for (var drain = 0; drain < 20 && Directory.Exists(spool) && Directory.EnumerateFiles(spool).Any(); drain++)
            {
                Assert.Equal(0, (await Dealer.RunAsync(null, layout.ClientEndpoint, spool, drain: true)).ExitCode);
            }
            Assert.True(!Directory.Exists(spool) || !Directory.EnumerateFiles(spool).Any(), "the dealers' spool did not drain");

            var expected = events.Concat(viaDealer.Select(e => Encoding.UTF8.GetBytes(e)))
                .Select(e => Convert.ToHexStringLower(SHA256.HashData(e))).ToHashSet();
            await Eventually.LinesAsync(record, expected.Count, TimeSpan.FromMinutes(3), () =>
                JournalReport.Describe(layout.QueueFile, expected.Except(File.ReadAllLines(record)).ToList())
                + $"\nThe killed broker's log:\n{JournalReport.Tail(firstBrokerLog)}"
                + $"\nThe restarted broker's log:\n{JournalReport.Tail(restarted.Output)}"
                + $"\nThe worker's log:\n{JournalReport.Tail(worker.Output)}");
            var recorded = File.ReadAllLines(record);
            Assert.True(ackedBeforeKill < events.Length, "the broker was killed after every event was in: the test proved nothing");
            Assert.Equal(recorded.Length, recorded.Distinct().Count());
            Assert.True(expected.SetEquals(recorded), $"{expected.Except(recorded).Count()} events missing, {recorded.Except(expected).Count()} unexpected");
        }
    }

    [Fact]
    public async Task WorkerKilledMidJob_AnotherWorkerCompletesIt()
    {
        using var layout = new PipelineLayout();
        using var broker = await BonnieProcess.StartAsync(layout.Broker(), "Broker listening");
        var firstRecord = Path.Combine(layout.Directory, "w1.record");
        var secondRecord = Path.Combine(layout.Directory, "w2.record");
        using var first = await BonnieProcess.StartAsync(layout.Worker("w1", firstRecord, concurrency: 4, delay: "00:00:00.400"), "Worker w1 connected");
        var events = Enumerable.Range(0, 40).Select(i => Encoding.UTF8.GetBytes(
            $$"""{"event":"MessageRead","uri":"imap://imap.example.org/user/u{{i}}%40example.org;UIDVALIDITY=1","uidset":"1","user":"u{{i}}@example.org"}"""))
            .ToArray();
        await new ResubmittingClients(layout.ClientEndpoint, events, clients: 1, window: 40).Run();

        // Kill w1 once it has finished some jobs, so that it holds others half done.
        await Eventually.LinesAsync(firstRecord, 2, TimeSpan.FromSeconds(30));
        first.Kill();
        var doneByFirst = File.ReadAllLines(firstRecord).ToHashSet();
        using var second = await BonnieProcess.StartAsync(layout.Worker("w2", secondRecord, concurrency: 4), "Worker w2 connected");

        var expected = events.Select(e => Convert.ToHexStringLower(SHA256.HashData(e))).ToHashSet();
        await Eventually.LinesAsync(secondRecord, expected.Count - doneByFirst.Count, TimeSpan.FromMinutes(1));
        var doneBySecond = File.ReadAllLines(secondRecord).ToHashSet();
        Assert.True(doneByFirst.Count < expected.Count);
        Assert.True(expected.SetEquals(doneByFirst.Union(doneBySecond)));
        Assert.Empty(doneByFirst.Intersect(doneBySecond));
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PipelineCollection
{
    public const string Name = "pipeline processes";
}

/// <summary>
/// Clients that keep the dealer's promise: an event counts as submitted only once ACKed; an event without its ACK
/// in time is sent again on a new connection (the broker de-duplicates). An ACK names no event, so only a window
/// that got every ACK is known to be in: a DEALER reconnects by itself when the broker dies, the events it had
/// written to the dead connection are lost and the ones still queued go to the new broker, whose ACKs then stand
/// for the later events, not the first ones. A window short of ACKs is therefore sent again whole.
/// </summary>
internal sealed class ResubmittingClients(string endpoint, byte[][] events, int clients, int window)
{
    private int _acknowledged;

    public int Acknowledged => Volatile.Read(ref _acknowledged);

    public Task Run() => Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Factory.StartNew(
        () => Client(c), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)));

    private void Client(int index)
    {
        var mine = new Queue<byte[]>(events.Where((_, i) => i % clients == index));
        var deadline = DateTime.UtcNow.AddMinutes(4);
        while (mine.Count > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the clients could not submit everything within 4 minutes");
            using var dealer = new DealerSocket();
            dealer.Options.Linger = TimeSpan.Zero;
            dealer.Connect(endpoint);
            var inFlight = new List<byte[]>();
            while (inFlight.Count < window && mine.Count > 0)
            {
                var e = mine.Dequeue();
                dealer.SendFrame(e);
                inFlight.Add(e);
            }
            var acked = 0;
            while (acked < inFlight.Count && dealer.TryReceiveFrameString(TimeSpan.FromSeconds(2), out var reply))
            {
                Assert.Equal(WireProtocol.Ack, reply);
                acked++;
            }
            if (acked == inFlight.Count)
            {
                Interlocked.Add(ref _acknowledged, acked);
                continue;
            }
            // Which events the ACKs were for is unknown (see above): send the whole window again.
            mine = new Queue<byte[]>(inFlight.Concat(mine));
        }
    }

    public async Task WaitForAcknowledgedAsync(int count, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (Acknowledged < count)
        {
            Assert.True(DateTime.UtcNow < until, $"only {Acknowledged} of {count} acknowledged in {timeout}");
            await Task.Delay(20);
        }
    }
}

internal static class Eventually
{
    /// <summary>Waits until <paramref name="path"/> holds at least <paramref name="count"/> lines.</summary>
    /// <param name="explain">What to add to the failure message (what the broker says about the missing jobs).</param>
    public static async Task LinesAsync(string path, int count, TimeSpan timeout, Func<string>? explain = null)
    {
        var until = DateTime.UtcNow + timeout;
        var seen = 0;
        while (DateTime.UtcNow < until)
        {
            seen = File.Exists(path) ? CountLines(path) : 0;
            if (seen >= count)
            {
                return;
            }
            await Task.Delay(100);
        }
        Assert.Fail($"{path} has {seen} lines after {timeout}, expected {count}" + (explain is null ? "" : "\n" + explain()));
    }

    private static int CountLines(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var lines = 0;
        while (reader.ReadLine() is not null)
        {
            lines++;
        }
        return lines;
    }
}
