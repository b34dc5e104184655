using System.Diagnostics;

namespace Bonnie.Pipeline.Tests.Broker;

/// <summary>Any ZeroMQ DEALER can submit: libzmq itself (Debian's python3-zmq), not only NetMQ.</summary>
public sealed class LibzmqClientTests
{
    [Fact]
    public async Task Submit_FromLibzmqDealer_GetsAckAndTheJobIsQueued()
    {
        using var harness = new BrokerHarness();
        const string script = """
            import sys, zmq
            ctx = zmq.Context()
            s = ctx.socket(zmq.DEALER)
            s.setsockopt(zmq.LINGER, 0)
            s.connect(sys.argv[1])
            s.send(sys.stdin.buffer.read())
            if s.poll(10000):
                sys.stdout.write(s.recv().decode())
            """;
        var start = new ProcessStartInfo("/usr/bin/python3", ["-c", script, harness.Broker.ClientEndpoint])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };

        using var python = Process.Start(start)!;
        await python.StandardInput.WriteAsync(Notifications.For("alice@example.org"));
        python.StandardInput.Close();
        var reply = await python.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(20));
        var errors = await python.StandardError.ReadToEndAsync();
        await python.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));

        Assert.True(python.ExitCode == 0, $"python3-zmq client failed (is python3-zmq installed?): {errors}");
        Assert.Equal("ACK", reply);
        await harness.WaitUntilAsync(s => s.Submitted == 1);
    }
}
