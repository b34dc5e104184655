using System.Net;
using System.Net.Sockets;

namespace Bonnie.EndToEnd.Tests.Neighbours;

/// <summary>
/// A TCP relay on loopback in front of a real server, whose connections a test can cut: what a dropped connection (a
/// server restart, an idle timeout, a network fault) looks like to a client that kept its session open.
/// </summary>
public sealed class CuttableRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _host;
    private readonly int _port;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(TcpClient Client, TcpClient Server)> _open = [];
    private readonly Lock _gate = new();
    private readonly Task _accepting;
    private int _accepted;

    public CuttableRelay(string host, int port)
    {
        _host = host;
        _port = port;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Connections clients have opened through the relay so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Closes every open connection, both ways, as a fault would; new ones are still relayed.</summary>
    public void CutAll()
    {
        lock (_gate)
        {
            foreach (var (client, server) in _open)
            {
                client.Client.LingerState = new LingerOption(true, 0);
                client.Dispose();
                server.Dispose();
            }
            _open.Clear();
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            Interlocked.Increment(ref _accepted);
            var server = new TcpClient();
            await server.ConnectAsync(_host, _port, _stop.Token);
            lock (_gate)
            {
                _open.Add((client, server));
            }
            _ = PumpAsync(client.GetStream(), server.GetStream());
            _ = PumpAsync(server.GetStream(), client.GetStream());
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to)
    {
        try
        {
            await from.CopyToAsync(to, _stop.Token);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or SocketException)
        {
            // A cut connection, or the relay stopping: the other side sees its end.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        CutAll();
        await _accepting;
        _stop.Dispose();
    }
}
