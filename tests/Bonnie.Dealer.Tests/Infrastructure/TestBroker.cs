using System.Text;
using NetMQ;
using NetMQ.Sockets;

namespace Bonnie.Dealer.Tests.Infrastructure;

internal enum BrokerBehaviour
{
    Acknowledge,
    Refuse,
    /// <summary>Answers BUSY, as the broker does while its queue cannot be written.</summary>
    Busy,
    Silent,
}

/// <summary>
/// The broker's client router as the dealer meets it: a NetMQ ROUTER that ACKs, refuses, or never answers.
/// Every message is recorded before it is answered, so once a dealer has exited its messages are here.
/// </summary>
internal sealed class TestBroker : IDisposable
{
    public const string Refusal = "REFUSED frame larger than the broker's limit";

    private readonly RouterSocket _router = new();
    private readonly BrokerBehaviour _behaviour;
    private readonly Thread _loop;
    private readonly List<byte[]> _received = [];
    private readonly SemaphoreSlim _arrivals = new(0);
    private volatile bool _stopping;

    public TestBroker(BrokerBehaviour behaviour, int? port = null)
    {
        _behaviour = behaviour;
        _router.Options.Linger = TimeSpan.Zero;
        _router.Options.RouterMandatory = true;
        if (port is { } fixedPort)
        {
            _router.Bind($"tcp://127.0.0.1:{fixedPort}");
            Port = fixedPort;
        }
        else
        {
            Port = _router.BindRandomPort("tcp://127.0.0.1");
        }
        // The socket is used only by this thread from here on (NetMQ sockets belong to one thread).
        _loop = new Thread(Serve) { IsBackground = true, Name = "test-broker" };
        _loop.Start();
    }

    public int Port { get; }

    public string Endpoint => $"tcp://127.0.0.1:{Port}";

    public IReadOnlyList<byte[]> Received
    {
        get
        {
            lock (_received)
            {
                return [.. _received];
            }
        }
    }

    public IReadOnlyList<string> ReceivedText => Received.Select(Encoding.UTF8.GetString).ToList();

    /// <summary>Waits until <paramref name="count"/> messages have arrived in all; fails after <paramref name="timeout"/>.</summary>
    public async Task WaitForAsync(int count, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        while (Received.Count < count)
        {
            try
            {
                await _arrivals.WaitAsync(cancel.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"the broker got {Received.Count} of {count} messages within {timeout}");
            }
        }
    }

    public void Dispose()
    {
        _stopping = true;
        _loop.Join();
        _router.Dispose();
        _arrivals.Dispose();
    }

    private void Serve()
    {
        var message = new NetMQMessage();
        while (!_stopping)
        {
            if (!_router.TryReceiveMultipartMessage(TimeSpan.FromMilliseconds(20), ref message))
            {
                continue;
            }
            var identity = message.First.ToByteArray();
            lock (_received)
            {
                _received.Add(message.Last.ToByteArray());
            }
            _arrivals.Release();
            try
            {
                switch (_behaviour)
                {
                    case BrokerBehaviour.Acknowledge:
                        _router.SendMoreFrame(identity).SendFrame("ACK");
                        break;
                    case BrokerBehaviour.Refuse:
                        _router.SendMoreFrame(identity).SendFrame(Refusal);
                        break;
                    case BrokerBehaviour.Busy:
                        _router.SendMoreFrame(identity).SendFrame("BUSY the broker cannot write its queue now");
                        break;
                }
            }
            catch (HostUnreachableException)
            {
                // The dealer gave up waiting and left; it spooled the event and will send it again.
            }
            message.Clear();
        }
    }
}
