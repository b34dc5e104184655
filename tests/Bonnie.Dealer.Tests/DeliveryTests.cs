using System.Text;
using Bonnie.Dealer.Tests.Infrastructure;

namespace Bonnie.Dealer.Tests;

public sealed class DeliveryTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData("MessageNew")]
    [InlineData("vnd.cmu.MessageMove")]
    [InlineData("Login")]
    public async Task Notify_BrokerAcknowledges_BrokerGetsExactBytesAndNothingIsSpooled(string eventName)
    {
        using var broker = new TestBroker(BrokerBehaviour.Acknowledge);
        using var sandbox = new DealerSandbox(broker.Endpoint);
        var notification = Notifications.Real(eventName);

        var run = await DealerRun.NotifyAsync(sandbox, eventName, notification);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Stdout);
        Assert.Equal("", run.Stderr);
        Assert.Equal(notification, Assert.Single(broker.Received));
        Assert.Empty(sandbox.AllSpoolFiles());
    }

    [Fact]
    public async Task Notify_LargeNonUtf8Payload_ArrivesByteForByteInOneFrame()
    {
        // Over 255 bytes takes ZMTP's long frame form; invalid UTF-8 proves nothing is re-encoded on the way.
        using var broker = new TestBroker(BrokerBehaviour.Acknowledge);
        using var sandbox = new DealerSandbox(broker.Endpoint);
        var notification = new byte[300_000];
        new Random(7).NextBytes(notification);
        notification[0] = 0xFF;

        var run = await DealerRun.NotifyAsync(sandbox, "MessageNew", notification);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(notification, Assert.Single(broker.Received));
        Assert.Empty(sandbox.AllSpoolFiles());
    }

    [Fact]
    public async Task Notify_ArgumentsMissingOrExtra_StillDelivers()
    {
        using var broker = new TestBroker(BrokerBehaviour.Acknowledge);
        using var sandbox = new DealerSandbox(broker.Endpoint);

        var bare = await DealerRun.StartAsync(sandbox, [], Notifications.Numbered("Login", 1));
        var extra = await DealerRun.StartAsync(sandbox, ["-f", "-c", "Logout", "-x", "-u"], Notifications.Numbered("Logout", 2));

        Assert.Equal(0, bare.ExitCode);
        Assert.Equal(0, extra.ExitCode);
        Assert.Equal([Notifications.Numbered("Login", 1), Notifications.Numbered("Logout", 2)], broker.Received);
    }

    [Fact]
    public async Task Notify_BrokerDown_ExitsAtOnceAndSpoolsTheEvent()
    {
        using var sandbox = new DealerSandbox($"tcp://127.0.0.1:{DealerSandbox.FreePort()}", timeoutMs: 1000);
        var notification = Notifications.Real("MessageNew");

        var run = await DealerRun.NotifyAsync(sandbox, "MessageNew", notification);

        Assert.Equal(0, run.ExitCode);
        Assert.InRange(run.Elapsed, TimeSpan.Zero, TimeSpan.FromMilliseconds(1000 + 50));
        Assert.Contains("spooled", run.Stderr, StringComparison.Ordinal);
        Assert.Equal(notification, File.ReadAllBytes(Assert.Single(sandbox.AllSpoolFiles())));
    }

    [Fact]
    public async Task Notify_BrokerSilent_ReturnsWithinTimeoutAndSpoolsTheEvent()
    {
        using var broker = new TestBroker(BrokerBehaviour.Silent);
        using var sandbox = new DealerSandbox(broker.Endpoint, timeoutMs: 300);
        var notification = Notifications.Real("FlagsSet");

        var run = await DealerRun.NotifyAsync(sandbox, "FlagsSet", notification);

        Assert.Equal(0, run.ExitCode);
        // It waits for the ACK for most of the timeout (a tenth is kept for the spool write), and no more.
        Assert.InRange(run.Elapsed, TimeSpan.FromMilliseconds(300 - 50), TimeSpan.FromMilliseconds(300 + 50));
        Assert.Contains("event spooled to", run.Stderr, StringComparison.Ordinal);
        Assert.Equal(notification, File.ReadAllBytes(Assert.Single(sandbox.AllSpoolFiles())));
    }

    [Fact]
    public async Task Notify_SecondBrokerUpFirstDown_DeliversToTheSecond()
    {
        using var broker = new TestBroker(BrokerBehaviour.Acknowledge);
        using var sandbox = new DealerSandbox($"tcp://127.0.0.1:{DealerSandbox.FreePort()}, {broker.Endpoint}");

        var run = await DealerRun.NotifyAsync(sandbox, "Login", Notifications.Numbered("Login", 1));

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(Notifications.Numbered("Login", 1), Assert.Single(broker.Received));
        Assert.Empty(sandbox.AllSpoolFiles());
    }

    [Fact]
    public async Task Notify_SpoolUnwritableAndBrokerDown_StderrCarriesTheEvent()
    {
        using var sandbox = new DealerSandbox($"tcp://127.0.0.1:{DealerSandbox.FreePort()}");
        // A directory below a regular file cannot be created, not even by root.
        var blocker = Path.Combine(sandbox.Root, "not-a-directory");
        await File.WriteAllTextAsync(blocker, "");
        sandbox.Environment["BONNIE_DEALER_SPOOL"] = Path.Combine(blocker, "spool");
        var notification = Notifications.Real("MessageNew");

        var run = await DealerRun.NotifyAsync(sandbox, "MessageNew", notification);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Stdout);
        Assert.Contains("spool cannot be written", run.Stderr, StringComparison.Ordinal);
        Assert.Contains(Encoding.UTF8.GetString(notification).TrimEnd('\n'), run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Notify_OverTheDealersLimit_KeptAsUndeliverableWithoutSending_AndWhatWasSpooledBehindItIsDrained()
    {
        // Found by a review: a notification over four times the broker's limit got no answer (the broker drops the
        // connection), so it was spooled as "try later", every run sent it again first, and every drain stopped at it.
        using var broker = new TestBroker(BrokerBehaviour.Acknowledge);
        using var sandbox = new DealerSandbox(broker.Endpoint);
        sandbox.Environment["BONNIE_DEALER_MAX_NOTIFICATION_BYTES"] = "4096";
        var huge = Encoding.UTF8.GetBytes("{\"event\":\"Login\",\"user\":\"alice@example.org\",\"pad\":\"" + new string('x', 5000) + "\"}");

        var run = await DealerRun.NotifyAsync(sandbox, "Login", huge);
        var next = await DealerRun.NotifyAsync(sandbox, "MessageAppend", Notifications.Real("MessageAppend"));

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("over the dealer's limit of 4096 bytes", run.Stderr, StringComparison.Ordinal);
        var kept = Assert.Single(Directory.GetFiles(sandbox.Undeliverable, "*.json"));
        Assert.Equal(huge, await File.ReadAllBytesAsync(kept));
        Assert.Empty(sandbox.PendingFiles());
        Assert.Equal(0, next.ExitCode);
        Assert.Equal([Notifications.Real("MessageAppend")], broker.Received);
    }

    [Fact]
    public async Task Notify_BrokerBusy_SpooledAtOnceWithTheReason_NotUndeliverable()
    {
        // The broker answers BUSY while its queue cannot be written: the event waits in the spool for a later run,
        // at once rather than after the whole timeout.
        using var busy = new TestBroker(BrokerBehaviour.Busy);
        using var sandbox = new DealerSandbox(busy.Endpoint);
        sandbox.Environment["BONNIE_DEALER_TIMEOUT_MS"] = "20000";

        var run = await DealerRun.NotifyAsync(sandbox, "MessageAppend", Notifications.Real("MessageAppend"));

        Assert.Equal(0, run.ExitCode);
        // Spooled for the broker's answer, not for a timeout: the reason is the broker's own.
        Assert.Contains("busy: the broker cannot write its queue now", run.Stderr, StringComparison.Ordinal);
        Assert.Single(sandbox.PendingFiles());
        Assert.False(Directory.Exists(sandbox.Undeliverable) && Directory.GetFiles(sandbox.Undeliverable, "*.json").Length > 0);
    }

    [Fact]
    public async Task Notify_BrokerRefuses_EventKeptAsUndeliverableAndNotRetried()
    {
        using var sandbox = new DealerSandbox("tcp://127.0.0.1:1");
        var notification = Notifications.Real("MessageAppend");
        using (var refusing = new TestBroker(BrokerBehaviour.Refuse))
        {
            sandbox.Environment["BONNIE_DEALER_BROKER"] = refusing.Endpoint;

            var run = await DealerRun.NotifyAsync(sandbox, "MessageAppend", notification);

            Assert.Equal(0, run.ExitCode);
            Assert.Contains("the event is undeliverable", run.Stderr, StringComparison.Ordinal);
        }
        var kept = Assert.Single(Directory.GetFiles(sandbox.Undeliverable, "*.json"));
        Assert.Equal(notification, await File.ReadAllBytesAsync(kept));
        Assert.Contains("frame larger than the broker's limit",
            await File.ReadAllTextAsync(Path.ChangeExtension(kept, ".reason")), StringComparison.Ordinal);
        Assert.Empty(sandbox.PendingFiles());

        using var accepting = new TestBroker(BrokerBehaviour.Acknowledge);
        sandbox.Environment["BONNIE_DEALER_BROKER"] = accepting.Endpoint;
        var drain = await DealerRun.DrainAsync(sandbox);

        Assert.Contains("delivered 0", drain.Stderr, StringComparison.Ordinal);
        Assert.Contains("undeliverable 1", drain.Stderr, StringComparison.Ordinal);
        Assert.Empty(accepting.Received);
        Assert.True(File.Exists(kept));
    }

    [Fact]
    public async Task Notify_EmptyStdin_ReportsAndSendsNothing()
    {
        using var broker = new TestBroker(BrokerBehaviour.Acknowledge);
        using var sandbox = new DealerSandbox(broker.Endpoint);

        var empty = await DealerRun.NotifyAsync(sandbox, "Login", []);
        var real = await DealerRun.NotifyAsync(sandbox, "Login", Notifications.Numbered("Login", 1));

        Assert.Equal(0, empty.ExitCode);
        Assert.Contains("empty notification", empty.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, real.ExitCode);
        Assert.Equal(Notifications.Numbered("Login", 1), Assert.Single(broker.Received));
    }

    [Fact]
    public async Task Run_UnknownLongOption_ExitsWithUsageError()
    {
        using var sandbox = new DealerSandbox("tcp://127.0.0.1:1");

        var run = await DealerRun.StartAsync(sandbox, ["--dran"], []);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("usage:", run.Stderr, StringComparison.Ordinal);
    }
}
