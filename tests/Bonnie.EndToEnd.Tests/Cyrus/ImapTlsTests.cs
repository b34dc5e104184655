using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Bonnie.EndToEnd.Tests.Neighbours;
using Bonnie.Pipeline.Worker;
using Bonnie.Pipeline.Worker.Payloads;
using Bonnie.Shared.Cyrus;
using Bonnie.Shared.Events;
using MailKit;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bonnie.EndToEnd.Tests.Cyrus;

/// <summary>
/// Bonnie's IMAP connections to the real Cyrus over TLS: STARTTLS on the IMAP port and TLS from the first byte on the
/// IMAPS port, with Cyrus's certificate signed by a CA the machine does not know (as an organisation's own CA is).
/// Trusting that CA (TrustedCertificate) lets Bonnie in; without it, with another CA, or for a host name the certificate
/// does not carry, the connection is refused before the admin's password is sent, with a reason that says so.
/// </summary>
[Collection(CyrusCollection.Name)]
public sealed class ImapTlsTests(CapturingCyrusFixture cyrus) : IClassFixture<CapturingCyrusFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private const string Partition = "/shared/vendor/cmu/cyrus-imapd/partition";

    private const string AliceInbox = "user/alice@" + CyrusFixture.Domain;

    /// <summary>STARTTLS on the IMAP port, TLS from the first byte on the IMAPS port.</summary>
    private int PortFor(string security) => security == "StartTls" ? cyrus.ImapPort : cyrus.ImapsPort;

    private ImapAdminEndpoint Endpoint(string host, int port, string security, string? trusted) =>
        new(host, port, security, cyrus.Admin, cyrus.Password, Timeout, trusted);

    [Theory]
    [InlineData("StartTls")]
    [InlineData("SslOnConnect")]
    public async Task Metadata_OverTls_TrustingTheServersCa_ReadsTheFolder(string security)
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var port = PortFor(security);

        await using var session = await ImapAdminSession.OpenAsync(Endpoint(cyrus.Host, port, security, cyrus.CertificateAuthority), cancel.Token);
        var entries = (await session.GetSharedAsync(AliceInbox, cancel.Token))?.Entries;

        Assert.NotNull(entries);
        Assert.Equal("default", entries[Partition]);
    }

    [Theory]
    [InlineData("StartTls")]
    [InlineData("SslOnConnect")]
    public async Task Metadata_OverTls_WithoutTrustingTheCa_RefusedWithTheCertificateAsReason_PasswordNeverSent(string security)
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var port = PortFor(security);
        var before = await LoginsAsync(cyrus.Admin, cancel.Token);

        var refused = await Assert.ThrowsAsync<ImapAdminException>(
            () => ImapAdminSession.OpenAsync(Endpoint(cyrus.Host, port, security, trusted: null), cancel.Token));

        Assert.IsType<AuthenticationException>(refused.InnerException);
        Assert.DoesNotContain(cyrus.Password, refused.ToString(), StringComparison.Ordinal);
        // Had Bonnie signed in before checking the certificate, Cyrus would have logged an admin login for it. alice's
        // login afterwards is the yardstick: once hers is in the log, the refused session's would be too.
        var aliceBefore = await LoginsAsync(cyrus.Alice, cancel.Token);
        using (await cyrus.ConnectAsync(cyrus.Alice, cancel.Token))
        {
        }
        for (var waited = 0; await LoginsAsync(cyrus.Alice, cancel.Token) == aliceBefore; waited++)
        {
            Assert.True(waited < 200, "alice's login never reached the mail log");
            await Task.Delay(50, cancel.Token);
        }
        Assert.Equal(before, await LoginsAsync(cyrus.Admin, cancel.Token));
    }

    [Fact]
    public async Task Metadata_TrustingCyrussOwnCertificate_Pinned_ReadsTheFolder()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        // The server's certificate, issued by the test CA, not self-signed: trusted byte for byte, not as an anchor.
        await using var session = await ImapAdminSession.OpenAsync(
            Endpoint(cyrus.Host, cyrus.ImapsPort, "SslOnConnect", Path.Combine(cyrus.StateDirectory, "tls", "server.pem")), cancel.Token);

        Assert.Equal("default", (await session.GetSharedAsync(AliceInbox, cancel.Token))!.Value.Entries[Partition]);
    }

    [Fact]
    public async Task Metadata_TrustingAnotherCa_Refused()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var other = Path.Combine(Path.GetTempPath(), $"bonnie-other-ca-{Guid.NewGuid():N}.pem");
        using (var key = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            var request = new CertificateRequest("CN=Not Cyrus's CA", key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            using var ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
            await File.WriteAllTextAsync(other, ca.ExportCertificatePem(), cancel.Token);
        }
        try
        {
            var refused = await Assert.ThrowsAsync<ImapAdminException>(
                () => ImapAdminSession.OpenAsync(Endpoint(cyrus.Host, cyrus.ImapsPort, "SslOnConnect", other), cancel.Token));
            Assert.IsType<AuthenticationException>(refused.InnerException);
        }
        finally
        {
            File.Delete(other);
        }
    }

    [Fact]
    public async Task Metadata_TrustedCa_ButAHostNameTheCertificateDoesNotCarry_Refused()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        // "localhost" reaches the same Cyrus, but its certificate names 127.0.0.1 and imap.example.org only: trusting
        // the CA that signed it must not make it good for any name.
        var refused = await Assert.ThrowsAsync<ImapAdminException>(
            () => ImapAdminSession.OpenAsync(Endpoint("localhost", cyrus.ImapsPort, "SslOnConnect", cyrus.CertificateAuthority), cancel.Token));

        Assert.IsType<AuthenticationException>(refused.InnerException);
    }

    [Fact]
    public async Task Metadata_TrustedCertificateFileMissing_ClearError()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var missing = Path.Combine(Path.GetTempPath(), $"bonnie-missing-{Guid.NewGuid():N}.pem");

        var refused = await Assert.ThrowsAsync<ImapAdminException>(
            () => ImapAdminSession.OpenAsync(Endpoint(cyrus.Host, cyrus.ImapsPort, "SslOnConnect", missing), cancel.Token));

        Assert.Contains(missing, refused.Message, StringComparison.Ordinal);
        Assert.IsType<TrustedCertificateException>(refused.InnerException);
    }

    /// <summary>
    /// The collector's METADATA answer, the one a worker without IMAP of its own receives (UseCollector), read from the
    /// real Cyrus over STARTTLS with the test CA trusted; the worker's side is PayloadTests' collector METADATA test.
    /// </summary>
    [Fact]
    public async Task Collector_MetadataOverStartTls_TrustingTheCa_AnswersTheSetEntriesAsJson()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var options = new Bonnie.Collector.CollectorOptions
        {
            SpoolPartitions = [],
            Imap = new Bonnie.Collector.ImapOptions
            {
                Host = cyrus.Host, Port = cyrus.ImapPort, Security = "StartTls", AdminUser = cyrus.Admin, AdminPassword = cyrus.Password,
                TrustedCertificate = cyrus.CertificateAuthority,
            },
        };
        await using var answerer = new Bonnie.Collector.CollectAnswerer(options, NullLogger<Bonnie.Collector.CollectAnswerer>.Instance);
        await using var distrustful = new Bonnie.Collector.CollectAnswerer(
            new Bonnie.Collector.CollectorOptions
            {
                SpoolPartitions = [],
                Imap = new Bonnie.Collector.ImapOptions
                {
                    Host = cyrus.Host, Port = cyrus.ImapPort, Security = "StartTls", AdminUser = cyrus.Admin, AdminPassword = cyrus.Password,
                },
            },
            NullLogger<Bonnie.Collector.CollectAnswerer>.Instance);
        var request = Bonnie.Shared.Protocol.CollectRequest.ForMetadata(AliceInbox).ToString();
        var adminBefore = await LoginsAsync(cyrus.Admin, cancel.Token);

        var before = DateTimeOffset.UtcNow;
        var answer = await answerer.AnswerAsync(request, cancel.Token);
        var again = await answerer.AnswerAsync(request, cancel.Token);
        var untrusted = await distrustful.AnswerAsync(request, cancel.Token);

        Assert.Null(answer.Error);
        var entries = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(answer.Data)!;
        var entriesAgain = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(again.Data)!;
        // When each read began, so a worker knows which of the folder's events it covers; otherwise the same answer.
        var readAt = DateTimeOffset.Parse(entries[Bonnie.Shared.Protocol.CollectRequest.MetadataReadAtEntry], System.Globalization.CultureInfo.InvariantCulture);
        var readAgainAt = DateTimeOffset.Parse(entriesAgain[Bonnie.Shared.Protocol.CollectRequest.MetadataReadAtEntry], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(readAt, before, readAgainAt);
        entries.Remove(Bonnie.Shared.Protocol.CollectRequest.MetadataReadAtEntry);
        entriesAgain.Remove(Bonnie.Shared.Protocol.CollectRequest.MetadataReadAtEntry);
        Assert.Equal(entries, entriesAgain);
        Assert.Equal("default", entries[Partition]);
        Assert.DoesNotContain(entries.Keys, k => k.EndsWith("/size", StringComparison.Ordinal));
        Assert.Empty(untrusted.Data);
        Assert.Contains("ImapAdminException", untrusted.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(cyrus.Password, untrusted.Error, StringComparison.Ordinal);
        // Two requests, one session: alice's login afterwards is the yardstick for the mail log having caught up.
        var aliceBefore = await LoginsAsync(cyrus.Alice, cancel.Token);
        using (await cyrus.ConnectAsync(cyrus.Alice, cancel.Token))
        {
        }
        for (var waited = 0; await LoginsAsync(cyrus.Alice, cancel.Token) == aliceBefore; waited++)
        {
            Assert.True(waited < 200, "alice's login never reached the mail log");
            await Task.Delay(50, cancel.Token);
        }
        Assert.Equal(adminBefore + 1, await LoginsAsync(cyrus.Admin, cancel.Token));
    }

    [Fact]
    public async Task PayloadSource_StartTls_TrustingTheCa_FetchesTheMessage_WithoutIt_NoPayloadAndTheReason()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var message = CyrusFixture.NewMessage(cyrus.Alice, "payload over STARTTLS");
        var uid = await cyrus.AppendAsync(cyrus.Alice, "INBOX", message.Message, MessageFlags.None, [], cancel.Token);
        var uri = $"imap://imap.example.org/user/alice%40example.org;UIDVALIDITY={uid.Validity}/;UID={uid.Id}";
        var e = new CyrusEvent
        {
            Type = EventType.MessageAppend, Name = "MessageAppend", Timestamp = DateTimeOffset.UtcNow,
            Mailbox = MailboxUri.Parse(uri), Raw = Encoding.UTF8.GetBytes("{}"),
        };
        var job = new Job("tls", e.Raw, 0, DateTimeOffset.UtcNow);
        ImapPayloadSource Source(string? trusted) => new(
            new ImapPayloadOptions
            {
                Host = cyrus.Host, Port = cyrus.ImapPort, Security = "StartTls", User = cyrus.Admin, Password = cyrus.Password,
                TrustedCertificate = trusted,
            },
            NullLogger<ImapPayloadSource>.Instance);

        var trusted = await Source(cyrus.CertificateAuthority).TryFetchAsync(e, job, cancel.Token);
        var untrusted = await Source(null).TryFetchAsync(e, job, cancel.Token);

        Assert.NotNull(trusted.Bytes);
        Assert.Contains("payload over STARTTLS", Encoding.UTF8.GetString(trusted.Bytes));
        Assert.Null(untrusted.Bytes);
        Assert.Contains("SslHandshakeException", untrusted.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restore_StartTls_TrustingTheCa_Restores_WithoutIt_UnavailableNamingTheSetting()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var directory = Directory.CreateTempSubdirectory("bonnie-tls-restore-").FullName;
        try
        {
            var payloads = new Bonnie.Pipeline.Storage.Embedded.PayloadDirectory(Path.Combine(directory, "payloads"), compress: true);
            var body = Encoding.ASCII.GetBytes($"From: tls@example.net\r\nTo: alice@example.org\r\nSubject: restored over TLS\r\nMessage-ID: <{Guid.NewGuid():N}@tls>\r\n\r\nover TLS\r\n");
            var label = "Tls-" + Guid.NewGuid().ToString("N")[..8];
            var plan = new Bonnie.Pipeline.Restore.RestorePlan(null,
                [new Bonnie.Pipeline.Restore.RestoreItem("tls", await payloads.PutAsync(body, cancel.Token), body.Length, $"user/alice/{label}@example.org", [], DateTimeOffset.UtcNow, null)], []);
            Bonnie.Pipeline.Restore.ImapRestorer Restorer(string? trusted) => new(Microsoft.Extensions.Options.Options.Create(new Bonnie.Pipeline.Restore.RestoreOptions
            {
                Imap = new Bonnie.Pipeline.Restore.RestoreImapOptions
                {
                    Host = cyrus.Host, Port = cyrus.ImapPort, Security = "StartTls", AdminUser = cyrus.Admin, Password = cyrus.Password,
                    TrustedCertificate = trusted,
                },
            }), payloads, NullLogger<Bonnie.Pipeline.Restore.ImapRestorer>.Instance);

            var refused = await Assert.ThrowsAsync<Bonnie.Pipeline.Restore.RestoreUnavailableException>(() => Restorer(null).RunAsync(plan, null, cancel.Token));
            var result = await Restorer(cyrus.CertificateAuthority).RunAsync(plan, null, cancel.Token);

            Assert.Contains("TrustedCertificate", refused.Message, StringComparison.Ordinal);
            Assert.Equal(1, result.Progress.Restored);
            using var alice = await cyrus.ConnectAsync(cyrus.Alice, cancel.Token);
            var folder = await alice.GetFolderAsync("INBOX/" + label, cancel.Token);
            await folder.OpenAsync(FolderAccess.ReadOnly, cancel.Token);
            Assert.Equal(1, folder.Count);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>How many times <paramref name="login"/> has signed in to this Cyrus over IMAP, by its own log (syslog's mail log).</summary>
    private static async Task<int> LoginsAsync(string login, CancellationToken cancellationToken)
    {
        const string log = "/var/log/mail.log";
        if (!File.Exists(log))
        {
            throw new InvalidOperationException($"{log} is missing: cyrus.sh starts rsyslogd, which writes Cyrus's log there");
        }
        await using var stream = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var text = await reader.ReadToEndAsync(cancellationToken);
        return text.Split('\n').Count(line => line.Contains("cyrus/imap", StringComparison.Ordinal)
            && line.Contains($"] {login} ", StringComparison.Ordinal) && line.Contains("User logged in", StringComparison.Ordinal));
    }
}
