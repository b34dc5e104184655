using System.Net;
using System.Net.Sockets;
using System.Text;
using Bonnie.Shared.Cyrus;

namespace Bonnie.Shared.Tests.Cyrus;

/// <summary>
/// How the admin's own IMAP exchange ends when the server says goodbye (BYE: a shutdown, an idle timeout, a server
/// that refuses more sessions), against a scripted server; the exchanges themselves run against the real Cyrus in
/// tests/Bonnie.EndToEnd.Tests (FolderMetadataTests, ImapTlsTests, the restore tests).
/// </summary>
public sealed class ImapAdminSessionTests : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

    public ImapAdminSessionTests() => _listener.Start();

    public void Dispose() => _listener.Dispose();

    private ImapAdminEndpoint Endpoint => new("127.0.0.1", ((IPEndPoint)_listener.LocalEndpoint).Port, "None", "cyrus", "secret", TimeSpan.FromSeconds(10));

    /// <summary>Greets, then answers each command line with what <paramref name="answer"/> says for it (its tag and verb), then closes when told.</summary>
    private async Task ServeAsync(Func<string, string, (string Reply, bool Close)> answer)
    {
        using var client = await _listener.AcceptTcpClientAsync();
        using var stream = client.GetStream();
        using var reader = new StreamReader(stream, Encoding.ASCII);
        await stream.WriteAsync(Encoding.ASCII.GetBytes("* OK scripted IMAP server ready\r\n"));
        while (await reader.ReadLineAsync() is { } line)
        {
            var parts = line.Split(' ', 3);
            var (reply, close) = answer(parts[0], parts.Length > 1 ? parts[1] : "");
            await stream.WriteAsync(Encoding.ASCII.GetBytes(reply));
            if (close)
            {
                return;
            }
        }
    }

    [Fact]
    public async Task GetSharedAsync_ServerSaysByeAndCloses_FailsWithTheServersReason_NotAsARefusal()
    {
        var server = ServeAsync((tag, verb) => verb switch
        {
            "AUTHENTICATE" => ($"{tag} OK signed in\r\n", false),
            _ => ("* BYE Fatal error: tls_start_servertls() failed\r\n", true),
        });
        await using var session = await ImapAdminSession.OpenAsync(Endpoint, CancellationToken.None);

        var ex = await Assert.ThrowsAsync<ImapAdminException>(() => session.GetSharedAsync("user/alice@example.org", CancellationToken.None));

        // The server's own words, so an administrator reading the postponed job's reason knows what the server said.
        Assert.Contains("tls_start_servertls() failed", ex.Message, StringComparison.Ordinal);
        // Not a refusal of this one folder: the session is gone, and the caller opens another.
        Assert.False(ex.IsRefusal);
        await server;
    }

    [Fact]
    public async Task OpenAsync_ServerSaysByeInsteadOfAnsweringTheLogin_FailsWithTheServersReason()
    {
        var server = ServeAsync((_, _) => ("* BYE Too many connections from your host\r\n", true));

        var ex = await Assert.ThrowsAsync<ImapAdminException>(() => ImapAdminSession.OpenAsync(Endpoint, CancellationToken.None));

        Assert.Contains("Too many connections from your host", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", ex.Message, StringComparison.Ordinal);
        await server;
    }
}
