using System.Net.Sockets;
using System.Text;

namespace Bonnie.EndToEnd.Tests.Neighbours;

/// <summary>
/// Cyrus's administrator over plain IMAP commands: MailKit builds folder names from its own view of the namespace,
/// and an administrator's commands name another user's folders in Cyrus's admin form (<c>user/x/Archive@example.org</c>).
/// </summary>
public static class ImapAdmin
{
    /// <summary>Logs in as the administrator, runs each command, and fails with Cyrus's answer when one is refused.</summary>
    public static async Task RunAsync(CyrusFixture cyrus, IEnumerable<string> commands, CancellationToken cancellationToken)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(cyrus.Host, cyrus.ImapPort, cancellationToken);
        await using var stream = tcp.GetStream();
        using var reader = new StreamReader(stream, Encoding.ASCII);
        await reader.ReadLineAsync(cancellationToken);
        var n = 0;
        foreach (var command in new[] { $"LOGIN {cyrus.Admin} \"{cyrus.Password}\"" }.Concat(commands).Append("LOGOUT"))
        {
            var tag = "a" + ++n;
            await stream.WriteAsync(Encoding.UTF8.GetBytes($"{tag} {command}\r\n"), cancellationToken);
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                if (line.StartsWith(tag + " ", StringComparison.Ordinal))
                {
                    if (!line.StartsWith(tag + " OK", StringComparison.Ordinal))
                    {
                        throw new InvalidOperationException($"Cyrus refused '{(n == 1 ? "LOGIN" : command)}': {line}");
                    }
                    break;
                }
            }
        }
    }
}
