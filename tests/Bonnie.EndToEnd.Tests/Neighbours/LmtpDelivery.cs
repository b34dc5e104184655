using System.Net.Sockets;
using System.Text;
using MimeKit;

namespace Bonnie.EndToEnd.Tests.Neighbours;

/// <summary>A minimal LMTP client (RFC 2033): MailKit speaks SMTP but not LMTP, and Cyrus' lmtpd wants LMTP.</summary>
public static class LmtpDelivery
{
    public static async Task<IReadOnlyList<string>> DeliverAsync(
        string host, int port, MimeMessage message, string sender, IReadOnlyList<string> recipients,
        CancellationToken cancellationToken)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(host, port, cancellationToken);
        await using var stream = tcp.GetStream();
        using var reader = new StreamReader(stream, Encoding.ASCII);

        await ExpectAsync(reader, "220", cancellationToken);
        await CommandAsync(stream, reader, "LHLO tests.bonnie.example", "250", cancellationToken);
        await CommandAsync(stream, reader, $"MAIL FROM:<{sender}>", "250", cancellationToken);
        foreach (var recipient in recipients)
        {
            await CommandAsync(stream, reader, $"RCPT TO:<{recipient}>", "250", cancellationToken);
        }

        await CommandAsync(stream, reader, "DATA", "354", cancellationToken);
        await stream.WriteAsync(DotStuffed(message), cancellationToken);

        // LMTP answers DATA once per accepted recipient.
        var answers = new List<string>();
        foreach (var _ in recipients)
        {
            answers.Add(await ExpectAsync(reader, "250", cancellationToken));
        }

        await CommandAsync(stream, reader, "QUIT", "221", cancellationToken);
        return answers;
    }

    private static byte[] DotStuffed(MimeMessage message)
    {
        using var buffer = new MemoryStream();
        message.WriteTo(new FormatOptions { NewLineFormat = NewLineFormat.Dos }, buffer);
        var text = Encoding.UTF8.GetString(buffer.ToArray());
        if (!text.EndsWith("\r\n", StringComparison.Ordinal))
        {
            text += "\r\n";
        }

        var lines = text[..^2].Split("\r\n").Select(line => line.StartsWith('.') ? "." + line : line);
        return Encoding.UTF8.GetBytes(string.Join("\r\n", lines) + "\r\n.\r\n");
    }

    private static async Task CommandAsync(
        NetworkStream stream, StreamReader reader, string command, string expected, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"), cancellationToken);
        await ExpectAsync(reader, expected, cancellationToken);
    }

    private static async Task<string> ExpectAsync(StreamReader reader, string code, CancellationToken cancellationToken)
    {
        while (true)
        {
            var line = await reader.ReadLineAsync(cancellationToken)
                ?? throw new IOException("the LMTP server closed the connection");
            if (line.Length > 3 && line[3] == '-')
            {
                continue;
            }

            return line.StartsWith(code, StringComparison.Ordinal)
                ? line
                : throw new IOException($"LMTP: expected {code}, got '{line}'");
        }
    }
}
