using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Bonnie.Shared.Protocol;

namespace Bonnie.Dealer.Transport;

/// <summary>
/// A ZeroMQ DEALER speaking ZMTP 3.0 (RFC 23, NULL mechanism) over one TCP connection, written out by hand:
/// a ZeroMQ library starts I/O threads and costs milliseconds a one-shot process cannot spare. Any ROUTER
/// (libzmq, NetMQ) sees an ordinary DEALER; the broker protocol is one frame out, one frame back.
/// </summary>
internal sealed class ZmtpDealerConnection : IDisposable
{
    // The broker's answers (WireProtocol): ACK once the event is durable, REFUSED <reason> if it never will be.
    private static readonly byte[] Ack = Encoding.ASCII.GetBytes(WireProtocol.Ack);
    private static readonly byte[] RefusedPrefix = Encoding.ASCII.GetBytes(WireProtocol.Refused);
    private static readonly byte[] BusyPrefix = Encoding.ASCII.GetBytes(WireProtocol.Busy);

    private const int GreetingLength = 64;
    private const byte FlagMore = 0x01;
    private const byte FlagLong = 0x02;
    private const byte FlagCommand = 0x04;

    // A reply is a short word; anything bigger is not our broker.
    private const long MaxReplyFrame = 64 * 1024;

    private readonly Socket _socket;
    private readonly byte[] _header = new byte[9];

    private ZmtpDealerConnection(Socket socket) => _socket = socket;

    public BrokerEndpoint? Endpoint { get; private init; }

    /// <summary>Connects and completes the ZMTP handshake before <paramref name="deadline"/>.</summary>
    /// <exception cref="BrokerUnavailableException">Refused, unreachable, too slow or not a ZMTP 3 peer.</exception>
    public static ZmtpDealerConnection Open(BrokerEndpoint endpoint, Deadline deadline)
    {
        IPAddress[] addresses;
        try
        {
            addresses = endpoint.Resolve();
        }
        catch (SocketException e)
        {
            throw new BrokerUnavailableException($"{endpoint}: cannot resolve host: {e.SocketErrorCode}", e);
        }
        BrokerUnavailableException? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                Connect(socket, new IPEndPoint(address, endpoint.Port), endpoint, deadline);
                var connection = new ZmtpDealerConnection(socket) { Endpoint = endpoint };
                connection.Handshake(deadline);
                return connection;
            }
            catch (BrokerUnavailableException e)
            {
                socket.Dispose();
                last = e;
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = new BrokerUnavailableException($"{endpoint}: {e.SocketErrorCode}", e);
            }
        }
        throw last ?? new BrokerUnavailableException($"{endpoint}: host has no address");
    }

    /// <summary>Sends <paramref name="payload"/> as one message frame and reads the broker's one-frame answer.</summary>
    public DeliveryResult Deliver(byte[] payload, Deadline deadline)
    {
        try
        {
            // A broker that stops reading would otherwise block a large send past the deadline.
            _socket.SendTimeout = Math.Max(1, (int)deadline.Remaining.TotalMilliseconds);
            _socket.Send([new ArraySegment<byte>(_header, 0, WriteFrameHeader(_header, payload.Length, 0)),
                          new ArraySegment<byte>(payload)]);
            var reply = ReadMessage(deadline);
            if (reply.AsSpan().SequenceEqual(Ack))
            {
                return DeliveryResult.Acknowledged;
            }
            if (reply.AsSpan().StartsWith(RefusedPrefix))
            {
                return DeliveryResult.Refused(Encoding.UTF8.GetString(reply.AsSpan(RefusedPrefix.Length)).Trim());
            }
            if (reply.AsSpan().StartsWith(BusyPrefix))
            {
                // Not taken now (the broker's queue cannot be written): spooled, and sent again by a later run.
                return DeliveryResult.NotDelivered($"{Endpoint}: busy: {Encoding.UTF8.GetString(reply.AsSpan(BusyPrefix.Length)).Trim()}");
            }
            return DeliveryResult.NotDelivered($"{Endpoint}: unexpected answer '{Printable(reply)}'");
        }
        catch (BrokerUnavailableException e)
        {
            return DeliveryResult.NotDelivered(e.Message);
        }
        catch (SocketException e)
        {
            return DeliveryResult.NotDelivered($"{Endpoint}: {e.SocketErrorCode}");
        }
    }

    public void Dispose() => _socket.Dispose();

    private static void Connect(Socket socket, IPEndPoint target, BrokerEndpoint endpoint, Deadline deadline)
    {
        socket.NoDelay = true;
        // Non-blocking connect + poll: a blocking connect to a black-holed host would hold Cyrus for minutes.
        socket.Blocking = false;
        try
        {
            socket.Connect(target);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
        {
            if (!socket.Poll(deadline.RemainingMicroseconds, SelectMode.SelectWrite))
            {
                var error = (SocketError)(int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
                throw new BrokerUnavailableException(error == SocketError.Success
                    ? $"{endpoint}: connect timed out"
                    : $"{endpoint}: {error}");
            }
            var status = (SocketError)(int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
            if (status != SocketError.Success)
            {
                throw new BrokerUnavailableException($"{endpoint}: {status}");
            }
        }
        socket.Blocking = true;
        socket.SendTimeout = Math.Max(1, (int)deadline.Remaining.TotalMilliseconds);
    }

    private void Handshake(Deadline deadline)
    {
        Span<byte> greeting = stackalloc byte[GreetingLength];
        greeting.Clear();
        greeting[0] = 0xFF;
        greeting[9] = 0x7F;
        greeting[10] = 3; // ZMTP 3.0
        "NULL"u8.CopyTo(greeting[12..]);
        _socket.Send(greeting);

        ReadExactly(greeting, deadline);
        if (greeting[0] != 0xFF || (greeting[9] & 0x01) != 0x01 || greeting[10] < 3
            || !greeting.Slice(12, 5).SequenceEqual("NULL\0"u8))
        {
            throw new BrokerUnavailableException($"{Endpoint}: peer is not a ZMTP 3 peer with the NULL mechanism");
        }

        _socket.Send(ReadyCommand);
        var command = ReadFrame(deadline, out var flags);
        if ((flags & FlagCommand) == 0 || command.Length < 6 || !command.AsSpan(0, 6).SequenceEqual("\u0005READY"u8))
        {
            var text = command.Length > 6 && command.AsSpan(0, 6).SequenceEqual("\u0005ERROR"u8)
                ? Printable(command.AsSpan(7))
                : "no READY";
            throw new BrokerUnavailableException($"{Endpoint}: handshake failed: {text}");
        }
    }

    // READY with Socket-Type=DEALER and an empty Identity, exactly what a libzmq DEALER sends.
    private static ReadOnlySpan<byte> ReadyCommand =>
    [
        FlagCommand, 41,
        5, (byte)'R', (byte)'E', (byte)'A', (byte)'D', (byte)'Y',
        11, (byte)'S', (byte)'o', (byte)'c', (byte)'k', (byte)'e', (byte)'t', (byte)'-', (byte)'T', (byte)'y', (byte)'p', (byte)'e',
        0, 0, 0, 6, (byte)'D', (byte)'E', (byte)'A', (byte)'L', (byte)'E', (byte)'R',
        8, (byte)'I', (byte)'d', (byte)'e', (byte)'n', (byte)'t', (byte)'i', (byte)'t', (byte)'y',
        0, 0, 0, 0,
    ];

    private static int WriteFrameHeader(Span<byte> header, long length, byte flags)
    {
        if (length <= byte.MaxValue)
        {
            header[0] = flags;
            header[1] = (byte)length;
            return 2;
        }
        header[0] = (byte)(flags | FlagLong);
        BinaryPrimitives.WriteInt64BigEndian(header[1..], length);
        return 9;
    }

    /// <summary>Reads one whole message, skipping commands (a 3.1 peer may PING); returns its last non-empty frame.</summary>
    private byte[] ReadMessage(Deadline deadline)
    {
        byte[] last = [];
        while (true)
        {
            var frame = ReadFrame(deadline, out var flags);
            if ((flags & FlagCommand) != 0)
            {
                continue;
            }
            // A REQ-style broker puts an empty delimiter first; the answer is the frame after it.
            if (frame.Length > 0 || last.Length == 0)
            {
                last = frame;
            }
            if ((flags & FlagMore) == 0)
            {
                return last;
            }
        }
    }

    private byte[] ReadFrame(Deadline deadline, out byte flags)
    {
        Span<byte> head = stackalloc byte[9];
        ReadExactly(head[..2], deadline);
        flags = head[0];
        long length;
        if ((flags & FlagLong) != 0)
        {
            ReadExactly(head.Slice(2, 7), deadline);
            length = BinaryPrimitives.ReadInt64BigEndian(head[1..]);
        }
        else
        {
            length = head[1];
        }
        if (length is < 0 or > MaxReplyFrame)
        {
            throw new BrokerUnavailableException($"{Endpoint}: peer sent a {length}-byte frame, not a broker answer");
        }
        var body = new byte[length];
        ReadExactly(body, deadline);
        return body;
    }

    private void ReadExactly(Span<byte> buffer, Deadline deadline)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            if (!_socket.Poll(deadline.RemainingMicroseconds, SelectMode.SelectRead))
            {
                throw new BrokerUnavailableException($"{Endpoint}: no answer in time");
            }
            var n = _socket.Receive(buffer[read..]);
            if (n == 0)
            {
                throw new BrokerUnavailableException($"{Endpoint}: connection closed by peer");
            }
            read += n;
        }
    }

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var text = Encoding.UTF8.GetString(bytes[..Math.Min(bytes.Length, 200)]);
        return string.Create(text.Length, text, static (span, s) =>
        {
            for (var i = 0; i < s.Length; i++)
            {
                span[i] = char.IsControl(s[i]) ? '?' : s[i];
            }
        });
    }
}
