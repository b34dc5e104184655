using Bonnie.Dealer.Tests.Infrastructure;

namespace Bonnie.Dealer.Tests;

public sealed class FilterTests
{
    [Fact]
    public async Task Notify_EventInDropEventsOfConfigFile_IsNotSent()
    {
        using var broker = new TestBroker(BrokerBehaviour.Acknowledge);
        using var sandbox = new DealerSandbox(broker.Endpoint);
        await File.WriteAllTextAsync(sandbox.ConfigPath, "# noise nobody archives\ndrop_events = MailboxModseq, Login\n");

        var dropped = await DealerRun.NotifyAsync(sandbox, "MailboxModseq", Notifications.Real("MailboxModseq"));
        var kept = await DealerRun.NotifyAsync(sandbox, "MessageNew", Notifications.Real("MessageNew"));

        Assert.Equal(0, dropped.ExitCode);
        Assert.Equal(0, kept.ExitCode);
        Assert.Equal(Notifications.Real("MessageNew"), Assert.Single(broker.Received));
        Assert.Empty(sandbox.AllSpoolFiles());
    }

    [Fact]
    public async Task Notify_DroppedUsersEvents_OnlyThoseEventsOfThoseUsersAreDropped()
    {
        using var broker = new TestBroker(BrokerBehaviour.Acknowledge);
        using var sandbox = new DealerSandbox(broker.Endpoint);
        sandbox.Environment["BONNIE_DEALER_DROP_USERS"] = "backup@example.org";
        sandbox.Environment["BONNIE_DEALER_DROP_USER_EVENTS"] = "MessageRead,Login";

        await DealerRun.NotifyAsync(sandbox, "MessageRead", Notifications.Numbered("MessageRead", 1, "backup@example.org"));
        await DealerRun.NotifyAsync(sandbox, "Login", Notifications.Numbered("Login", 2, "backup@example.org"));
        await DealerRun.NotifyAsync(sandbox, "MessageTrash", Notifications.Numbered("MessageTrash", 3, "backup@example.org"));
        await DealerRun.NotifyAsync(sandbox, "MessageRead", Notifications.Numbered("MessageRead", 4, "alice@example.org"));

        Assert.Equal(
            [Notifications.Numbered("MessageTrash", 3, "backup@example.org"), Notifications.Numbered("MessageRead", 4, "alice@example.org")],
            broker.Received);
    }

    [Fact]
    public async Task Notify_EnvironmentOverridesConfigFile_EnvironmentWins()
    {
        using var broker = new TestBroker(BrokerBehaviour.Acknowledge);
        using var sandbox = new DealerSandbox(broker.Endpoint);
        await File.WriteAllTextAsync(sandbox.ConfigPath, "drop_events = Login\nbroker = tcp://127.0.0.1:1\n");
        sandbox.Environment["BONNIE_DEALER_DROP_EVENTS"] = "Logout";

        await DealerRun.NotifyAsync(sandbox, "Logout", Notifications.Numbered("Logout", 1));
        await DealerRun.NotifyAsync(sandbox, "Login", Notifications.Numbered("Login", 2));

        Assert.Equal(Notifications.Numbered("Login", 2), Assert.Single(broker.Received));
    }

    [Fact]
    public async Task Notify_BadConfigLine_IsReportedAndTheEventStillGoes()
    {
        using var broker = new TestBroker(BrokerBehaviour.Acknowledge);
        using var sandbox = new DealerSandbox(broker.Endpoint);
        sandbox.Environment.Remove("BONNIE_DEALER_TIMEOUT_MS");
        await File.WriteAllTextAsync(sandbox.ConfigPath, "[dealer]\ntimeout_ms = soon\nbrokers = tcp://x:1\n");

        var run = await DealerRun.NotifyAsync(sandbox, "Login", Notifications.Numbered("Login", 1));

        Assert.Contains("timeout_ms 'soon'", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("dealer.conf:3: ignored 'brokers = tcp://x:1'", run.Stderr, StringComparison.Ordinal);
        Assert.Equal(Notifications.Numbered("Login", 1), Assert.Single(broker.Received));
    }
}
