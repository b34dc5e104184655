using System.Net;
using System.Net.Sockets;
using Bonnie.Shared.Cyrus;

namespace Bonnie.Shared.Tests.Cyrus;

/// <summary>
/// The kept session's gate, against a server that accepts and never answers (reads against the real Cyrus:
/// tests/Bonnie.EndToEnd.Tests FolderMetadataTests and ImapTlsTests).
/// </summary>
public sealed class ImapMetadataReaderTests : IDisposable
{
    private readonly TcpListener _silent = new(IPAddress.Loopback, 0);

    public ImapMetadataReaderTests() => _silent.Start();

    public void Dispose() => _silent.Dispose();

    private ImapAdminEndpoint Silent(TimeSpan timeout) =>
        new("127.0.0.1", ((IPEndPoint)_silent.LocalEndpoint).Port, "None", "cyrus", "secret", timeout);

    [Fact]
    public async Task ReadAsync_SessionHeldByAReadTheServerDoesNotAnswer_TheNextGivesUpAfterItsWait_AndClosingRefusesLaterOnes()
    {
        var reader = new ImapMetadataReader(Silent(TimeSpan.FromSeconds(3)));
        var first = reader.ReadAsync(["user/alice@example.org"], CancellationToken.None);

        var waited = await Assert.ThrowsAsync<ImapAdminException>(
            () => reader.ReadAsync(["user/bob@example.org"], CancellationToken.None, TimeSpan.FromMilliseconds(200)));

        Assert.Contains("held the session", waited.Message, StringComparison.Ordinal);
        // The first read was still waiting for the server's greeting when the second gave up.
        Assert.False(first.IsCompleted, "the first read ended before the second gave up");
        // The first read ends by its own timeout, with an error rather than a hang; closing waits for it.
        await Assert.ThrowsAsync<ImapAdminException>(() => first);
        await reader.DisposeAsync();
        var late = await Assert.ThrowsAsync<ImapAdminException>(() => reader.ReadAsync(["user/alice@example.org"], CancellationToken.None));
        Assert.Contains("closing", late.Message, StringComparison.Ordinal);
    }
}
