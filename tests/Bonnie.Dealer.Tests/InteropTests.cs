using System.Diagnostics;
using Bonnie.Dealer.Tests.Infrastructure;

namespace Bonnie.Dealer.Tests;

/// <summary>The wire protocol against libzmq (Debian's python3-zmq), both ways.</summary>
public sealed class InteropTests
{
    private const string Python = "/usr/bin/python3";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Notify_LibzmqRouter_ReceivesOneFrameWithExactBytesAndAcks()
    {
        using var router = StartPython("libzmq_router.py");
        using var cancel = new CancellationTokenSource(Wait);
        var portLine = await router.StandardOutput.ReadLineAsync(cancel.Token);
        Assert.StartsWith("PORT ", portLine, StringComparison.Ordinal);
        using var sandbox = new DealerSandbox($"tcp://127.0.0.1:{portLine![5..]}");
        var notification = Notifications.Real("MessageNew");

        var run = await DealerRun.NotifyAsync(sandbox, "MessageNew", notification);
        var received = await router.StandardOutput.ReadLineAsync(cancel.Token);
        await router.WaitForExitAsync(cancel.Token);

        Assert.Equal($"FRAMES 1 {Convert.ToHexString(notification).ToLowerInvariant()}", received);
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Stderr);
        Assert.Empty(sandbox.AllSpoolFiles());
    }

    [Fact]
    public async Task PyzmqDealer_NetMqRouter_GetsAckForOneFrame()
    {
        using var broker = new TestBroker(BrokerBehaviour.Acknowledge);
        var notification = Notifications.Real("Login");
        using var dealer = StartPython("pyzmq_dealer.py", broker.Endpoint);
        using var cancel = new CancellationTokenSource(Wait);

        await dealer.StandardInput.BaseStream.WriteAsync(notification, cancel.Token);
        dealer.StandardInput.Close();
        var reply = await dealer.StandardOutput.ReadLineAsync(cancel.Token);
        await dealer.WaitForExitAsync(cancel.Token);

        Assert.Equal("REPLY ACK", reply);
        Assert.Equal(notification, Assert.Single(broker.Received));
    }

    private static Process StartPython(string script, params string[] args)
    {
        var start = new ProcessStartInfo(Python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Python", script));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        return Process.Start(start) ?? throw new InvalidOperationException($"{Python} {script} did not start");
    }
}
