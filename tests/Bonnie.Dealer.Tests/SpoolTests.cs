using System.Globalization;
using Bonnie.Dealer.Tests.Infrastructure;

namespace Bonnie.Dealer.Tests;

public sealed class SpoolTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Notify_BrokerBackAfterOutage_NextRunDeliversSpoolOldestFirstThenItsOwnEvent()
    {
        var port = DealerSandbox.FreePort();
        using var sandbox = new DealerSandbox($"tcp://127.0.0.1:{port}");
        sandbox.Environment["BONNIE_DEALER_DRAIN_BUDGET_MS"] = "5000"; // order is the point here, not the budget
        for (var i = 1; i <= 3; i++)
        {
            await DealerRun.NotifyAsync(sandbox, "MessageRead", Notifications.Numbered("MessageRead", i));
        }
        Assert.Equal(3, sandbox.PendingFiles().Length);

        using var broker = new TestBroker(BrokerBehaviour.Acknowledge, port);
        var run = await DealerRun.NotifyAsync(sandbox, "MessageRead", Notifications.Numbered("MessageRead", 4));

        Assert.Equal(0, run.ExitCode);
        Assert.Equal([.. Enumerable.Range(1, 4).Select(i => Notifications.Numbered("MessageRead", i))], broker.Received);
        Assert.Empty(sandbox.AllSpoolFiles());
    }

    [Fact]
    public async Task Notify_LargeBacklog_EachRunDrainsOnlyAFewSoCyrusIsNotHeld()
    {
        var port = DealerSandbox.FreePort();
        using var sandbox = new DealerSandbox($"tcp://127.0.0.1:{port}");
        sandbox.Environment["BONNIE_DEALER_DRAIN_MAX_EVENTS"] = "2";
        sandbox.Environment["BONNIE_DEALER_DRAIN_BUDGET_MS"] = "5000";
        for (var i = 1; i <= 5; i++)
        {
            await DealerRun.NotifyAsync(sandbox, "MessageRead", Notifications.Numbered("MessageRead", i));
        }

        using var broker = new TestBroker(BrokerBehaviour.Acknowledge, port);
        await DealerRun.NotifyAsync(sandbox, "MessageRead", Notifications.Numbered("MessageRead", 6));

        Assert.Equal([Notifications.Numbered("MessageRead", 1), Notifications.Numbered("MessageRead", 2), Notifications.Numbered("MessageRead", 6)],
            broker.Received);
        Assert.Equal(3, sandbox.PendingFiles().Length);
    }

    [Fact]
    public async Task Drain_BrokerBack_DeliversWholeSpoolOldestFirstAndReportsCounts()
    {
        var port = DealerSandbox.FreePort();
        using var sandbox = new DealerSandbox($"tcp://127.0.0.1:{port}");
        for (var i = 1; i <= 15; i++)
        {
            await DealerRun.NotifyAsync(sandbox, "FlagsSet", Notifications.Numbered("FlagsSet", i));
        }
        var down = await DealerRun.DrainAsync(sandbox);
        Assert.Contains("pending 15", down.Stderr, StringComparison.Ordinal);

        using var broker = new TestBroker(BrokerBehaviour.Acknowledge, port);
        var drain = await DealerRun.DrainAsync(sandbox);

        Assert.Equal(0, drain.ExitCode);
        Assert.Contains("delivered 15", drain.Stderr, StringComparison.Ordinal);
        Assert.Contains("pending 0", drain.Stderr, StringComparison.Ordinal);
        Assert.Equal([.. Enumerable.Range(1, 15).Select(i => Notifications.Numbered("FlagsSet", i))], broker.Received);
        Assert.Empty(sandbox.AllSpoolFiles());
    }

    [Fact]
    public async Task Drain_BrokerRefusesSpooledEvents_MovedToUndeliverableAndCounted()
    {
        var port = DealerSandbox.FreePort();
        using var sandbox = new DealerSandbox($"tcp://127.0.0.1:{port}");
        await DealerRun.NotifyAsync(sandbox, "MessageNew", Notifications.Numbered("MessageNew", 1));
        await DealerRun.NotifyAsync(sandbox, "MessageNew", Notifications.Numbered("MessageNew", 2));

        using var broker = new TestBroker(BrokerBehaviour.Refuse, port);
        var drain = await DealerRun.DrainAsync(sandbox);

        Assert.Contains("delivered 0, refused 2", drain.Stderr, StringComparison.Ordinal);
        Assert.Contains("pending 0, undeliverable 2", drain.Stderr, StringComparison.Ordinal);
        Assert.Empty(sandbox.PendingFiles());
        var kept = Directory.GetFiles(sandbox.Undeliverable, "*.json").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal([Notifications.Numbered("MessageNew", 1), Notifications.Numbered("MessageNew", 2)],
            kept.Select(File.ReadAllBytes));
    }

    [Fact]
    public async Task Drain_ClaimLeftByACrashedDealer_IsPutBackAndDelivered()
    {
        using var broker = new TestBroker(BrokerBehaviour.Acknowledge);
        using var sandbox = new DealerSandbox(broker.Endpoint);
        Directory.CreateDirectory(sandbox.Spool);
        // What a dealer killed between claim and ACK leaves: its claim name, with a pid that no longer runs.
        var claimedAt = DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var orphan = Path.Combine(sandbox.Spool, $"20240101T000000.0000000Z-0000000001-0001.json.claim-{int.MaxValue}-{claimedAt}");
        await File.WriteAllBytesAsync(orphan, Notifications.Numbered("MessageNew", 1));

        var drain = await DealerRun.DrainAsync(sandbox);

        Assert.Contains("stale claims recovered 1", drain.Stderr, StringComparison.Ordinal);
        Assert.Equal(Notifications.Numbered("MessageNew", 1), Assert.Single(broker.Received));
        Assert.Empty(sandbox.AllSpoolFiles());
    }

    [Fact]
    public async Task Notify_TwentyAtOnceBrokerDownThenUp_NothingLostNothingDeliveredTwice()
    {
        const int Dealers = 20;
        var port = DealerSandbox.FreePort();
        // Generous timeouts: this test is about claims, not about how fast two busy cores answer.
        using var sandbox = new DealerSandbox($"tcp://127.0.0.1:{port}", timeoutMs: 5000);
        sandbox.Environment["BONNIE_DEALER_DRAIN_BUDGET_MS"] = "5000";
        sandbox.Environment["BONNIE_DEALER_DRAIN_MAX_EVENTS"] = "5";

        var outage = await Task.WhenAll(Enumerable.Range(1, Dealers)
            .Select(i => DealerRun.NotifyAsync(sandbox, "MessageNew", Notifications.Numbered("MessageNew", i))));
        Assert.All(outage, run => Assert.Equal(0, run.ExitCode));
        Assert.Equal(Dealers, sandbox.PendingFiles().Length);

        using var broker = new TestBroker(BrokerBehaviour.Acknowledge, port);
        var recovery = await Task.WhenAll(Enumerable.Range(Dealers + 1, Dealers)
            .Select(i => DealerRun.NotifyAsync(sandbox, "MessageNew", Notifications.Numbered("MessageNew", i))));
        var drain = await DealerRun.DrainAsync(sandbox);

        Assert.All(recovery, run => Assert.Equal(0, run.ExitCode));
        Assert.Contains("pending 0", drain.Stderr, StringComparison.Ordinal);
        var expected = Enumerable.Range(1, 2 * Dealers).Select(i => Convert.ToHexString(Notifications.Numbered("MessageNew", i)));
        var received = broker.Received.Select(Convert.ToHexString).ToList();
        Assert.Equal(received.Count, received.Distinct().Count());
        Assert.Equal(expected.Order(), received.Order());
        Assert.Empty(sandbox.AllSpoolFiles());
    }

    [Fact]
    public async Task Notify_SpoolFile_IsPrivateToTheCyrusUser()
    {
        using var sandbox = new DealerSandbox($"tcp://127.0.0.1:{DealerSandbox.FreePort()}");

        await DealerRun.NotifyAsync(sandbox, "Login", Notifications.Numbered("Login", 1));

        var file = Assert.Single(sandbox.PendingFiles());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
            File.GetUnixFileMode(sandbox.Spool));
    }
}
