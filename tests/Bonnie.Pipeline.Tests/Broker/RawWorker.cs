using System.Globalization;
using System.Text;
using Bonnie.Shared.Protocol;
using NetMQ;
using NetMQ.Sockets;

namespace Bonnie.Pipeline.Tests.Broker;

/// <summary>
/// A worker spoken by hand: its controller and channel sockets under one identity. It sends nothing of its own
/// (no heartbeats, no GET for a TAKE): a test says every word, so it can leave a TAKE unanswered or answer it late.
/// </summary>
internal sealed class RawWorker : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private readonly DealerSocket _controller = new();
    private readonly DealerSocket _channel = new();

    public RawWorker(BrokerHarness harness, string name)
    {
        _controller.Options.Identity = Encoding.ASCII.GetBytes(name);
        _channel.Options.Identity = Encoding.ASCII.GetBytes(name);
        _controller.Options.Linger = TimeSpan.Zero;
        _channel.Options.Linger = TimeSpan.Zero;
        _controller.Connect(harness.Broker.ControllerEndpoint);
        _channel.Connect(harness.Broker.WorkerEndpoint);
    }

    public void Ready(int slots, bool runs)
    {
        var message = new NetMQMessage();
        message.Append(WireProtocol.Ready);
        message.Append(slots.ToString(CultureInfo.InvariantCulture));
        if (runs)
        {
            message.Append(WireProtocol.Runs);
        }
        _controller.SendMultipartMessage(message);
    }

    /// <summary>A bare READY: one more slot free, as JobWorker says after each job it reports or is told GONE.</summary>
    public void Free() => _controller.SendFrame(WireProtocol.Ready);

    /// <summary>The next TAKEs (id, after-id), up to <paramref name="count"/>, within the wait.</summary>
    public List<(string Id, string? After)> Takes(int count, TimeSpan? wait = null)
    {
        var takes = new List<(string, string?)>();
        var until = DateTime.UtcNow + (wait ?? Timeout);
        var message = new NetMQMessage();
        while (takes.Count < count && DateTime.UtcNow < until)
        {
            if (!_controller.TryReceiveMultipartMessage(until - DateTime.UtcNow, ref message))
            {
                break;
            }
            if (message[0].ConvertToString() == WireProtocol.Take)
            {
                takes.Add((message[1].ConvertToString(), message.FrameCount > 2 ? message[2].ConvertToString() : null));
            }
            message = new NetMQMessage();
        }
        return takes;
    }

    /// <summary>GET: the attempt the broker hands the job out with (-1 for GONE).</summary>
    public int Attempt(string id)
    {
        _channel.SendMoreFrame(WireProtocol.Get).SendFrame(id);
        var message = new NetMQMessage();
        Assert.True(_channel.TryReceiveMultipartMessage(Timeout, ref message), "no answer to GET");
        Assert.Equal(id, message[1].ConvertToString());
        return message[0].ConvertToString() == WireProtocol.Job ? int.Parse(message[2].ConvertToString(), CultureInfo.InvariantCulture) : -1;
    }

    public void Report(string command, string id, params string[] more)
    {
        var message = new NetMQMessage();
        message.Append(command);
        message.Append(id);
        foreach (var frame in more)
        {
            message.Append(frame);
        }
        _channel.SendMultipartMessage(message);
    }

    public void Dispose()
    {
        _controller.Dispose();
        _channel.Dispose();
    }
}
