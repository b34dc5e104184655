using System.Diagnostics;
using System.Globalization;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Security;
using MimeKit;

namespace Bonnie.EndToEnd.Tests.Neighbours;

/// <summary>
/// Every test class that touches Cyrus belongs to this collection: the machine has one Cyrus (fixed /etc paths
/// and ports), so those classes must run one after the other.
/// </summary>
[CollectionDefinition(Name)]
public sealed class CyrusCollection
{
    public const string Name = "Cyrus IMAP";
}

/// <summary>
/// A real Cyrus IMAP 3.6 started by scripts/neighbours/cyrus.sh with event notifications going to
/// <c>notifyProgram</c>, stopped again when the test class is done. Derive a parameterless fixture from it
/// (see <see cref="CapturingCyrusFixture"/>) to use it as an xUnit class fixture.
/// </summary>
public class CyrusFixture : IAsyncLifetime
{
    public const string Domain = "example.org";

    private readonly string _notifyProgram;
    private readonly IReadOnlyDictionary<string, string> _masterEnvironment;
    private readonly string? _dealerConfigFile;

    /// <param name="notifyProgram">What notifyd runs for each event (copied into the state directory).</param>
    /// <param name="masterEnvironment">Extra environment for cyrmaster, which notifyd hands to the program.</param>
    /// <param name="dealerConfigFile">When set, installed for user cyrus and named by BONNIE_DEALER_CONFIG.</param>
    public CyrusFixture(
        string notifyProgram,
        IReadOnlyDictionary<string, string>? masterEnvironment = null,
        string? dealerConfigFile = null)
    {
        _notifyProgram = notifyProgram;
        _masterEnvironment = masterEnvironment ?? new Dictionary<string, string>();
        _dealerConfigFile = dealerConfigFile;
    }

    public string Host { get; } = "127.0.0.1";

    public int ImapPort { get; } = PortFromEnvironment("BONNIE_CYRUS_IMAP_PORT", 1143);

    public int LmtpPort { get; } = PortFromEnvironment("BONNIE_CYRUS_LMTP_PORT", 2003);

    /// <summary>IMAP over TLS from the first byte; the IMAP port offers STARTTLS with the same certificate.</summary>
    public int ImapsPort { get; } = PortFromEnvironment("BONNIE_CYRUS_IMAPS_PORT", 1993);

    public string StateDirectory { get; } =
        Environment.GetEnvironmentVariable("BONNIE_CYRUS_STATE") ?? "/var/tmp/bonnie-test/cyrus";

    /// <summary>The password of every user, admin included (a test default unless BONNIE_CYRUS_PASSWORD is set).</summary>
    public string Password { get; } = Environment.GetEnvironmentVariable("BONNIE_CYRUS_PASSWORD") ?? "bonnie-test";

    public string Admin { get; } = "cyrus";

    public string Alice { get; } = "alice@" + Domain;

    public string Bob { get; } = "bob@" + Domain;

    public IReadOnlyList<string> Users => [Alice, Bob];

    /// <summary>Where cyrus.sh lets user cyrus write: the capture program's and the dealer's files.</summary>
    public string EventsDirectory => Path.Combine(StateDirectory, "events");

    public string DealerDirectory => Path.Combine(StateDirectory, "dealer");

    /// <summary>
    /// The test CA cyrus.sh made, which signed Cyrus's certificate (for 127.0.0.1 and imap.example.org, not localhost).
    /// The machine's trust store does not know it.
    /// </summary>
    public string CertificateAuthority => Path.Combine(StateDirectory, "tls", "ca.pem");

    /// <summary>How long cyrus.sh start took (configure, start, wait until IMAP and LMTP answer).</summary>
    public TimeSpan StartDuration { get; private set; }

    public virtual async Task InitializeAsync()
    {
        var arguments = new List<string> { "start", "--notify", _notifyProgram };
        if (_dealerConfigFile is not null)
        {
            arguments.AddRange(["--dealer-config", _dealerConfigFile]);
        }

        foreach (var (name, value) in _masterEnvironment)
        {
            arguments.AddRange(["--env", $"{name}={value}"]);
        }

        var clock = Stopwatch.StartNew();
        await NeighbourScript.RunAsync("cyrus.sh", arguments, ScriptEnvironment());
        StartDuration = clock.Elapsed;
    }

    public virtual async Task DisposeAsync() => await NeighbourScript.RunAsync("cyrus.sh", ["stop"], ScriptEnvironment());

    /// <summary>
    /// The NativeAOT dealer test.sh publishes (BONNIE_DEALER_PATH, else artifacts/dealer/bonnie-dealer): what a
    /// fixture passes as the notification program to test against the real thing.
    /// </summary>
    public static string DealerProgram()
    {
        var path = Environment.GetEnvironmentVariable("BONNIE_DEALER_PATH")
            ?? RepositoryRoot.Combine("artifacts", "dealer", "bonnie-dealer");
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException(
                $"no dealer at {path}: run dotnet publish Bonnie.Dealer -c Release -o artifacts/dealer first", path);
    }

    /// <summary>The message with <paramref name="messageId"/> in <paramref name="login"/>'s INBOX, byte-exact as Cyrus keeps it.</summary>
    public async Task<byte[]> RawAsync(string login, string messageId, CancellationToken cancellationToken)
    {
        using var client = await ConnectAsync(login, cancellationToken);
        await client.Inbox.OpenAsync(FolderAccess.ReadOnly, cancellationToken);
        var uid = (await client.Inbox.SearchAsync(MailKit.Search.SearchQuery.HeaderContains("Message-ID", messageId), cancellationToken)).Single();
        using var stream = await client.Inbox.GetStreamAsync(uid, "", cancellationToken);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
        return copy.ToArray();
    }

    /// <summary>An authenticated IMAP connection; the caller disposes it.</summary>
    public async Task<ImapClient> ConnectAsync(string login, CancellationToken cancellationToken)
    {
        var client = new ImapClient();
        try
        {
            await client.ConnectAsync(Host, ImapPort, SecureSocketOptions.None, cancellationToken);
            await client.AuthenticateAsync(login, Password, cancellationToken);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>APPENDs as <paramref name="login"/> into one of their folders; returns the UID Cyrus gave it.</summary>
    public async Task<UniqueId> AppendAsync(
        string login, string folder, MimeMessage message, MessageFlags flags, IEnumerable<string> keywords,
        CancellationToken cancellationToken)
    {
        using var client = await ConnectAsync(login, cancellationToken);
        var target = folder == "INBOX" ? client.Inbox : await client.GetFolderAsync(folder, cancellationToken);
        var request = new AppendRequest(message, flags) { Keywords = new HashSet<string>(keywords) };
        var uid = await target.AppendAsync(request, cancellationToken)
            ?? throw new InvalidOperationException("Cyrus answered APPEND without APPENDUID");
        await client.DisconnectAsync(quit: true, cancellationToken);
        return uid;
    }

    /// <summary>UIDs in the user's INBOX of messages with this Message-ID (without the angle brackets).</summary>
    public async Task<IReadOnlyList<UniqueId>> FindInInboxAsync(string login, string messageId, CancellationToken cancellationToken)
    {
        using var client = await ConnectAsync(login, cancellationToken);
        await client.Inbox.OpenAsync(FolderAccess.ReadOnly, cancellationToken);
        var uids = await client.Inbox.SearchAsync(MailKit.Search.SearchQuery.HeaderContains("Message-ID", messageId), cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
        return [.. uids];
    }

    /// <summary>Delivers over LMTP as Postfix would; returns Cyrus' answer per recipient.</summary>
    public Task<IReadOnlyList<string>> DeliverAsync(
        MimeMessage message, IReadOnlyList<string> recipients, CancellationToken cancellationToken) =>
        LmtpDelivery.DeliverAsync(Host, LmtpPort, message, "sender@example.net", recipients, cancellationToken);

    /// <summary>A small text message with a Message-ID no earlier run used, so tests never see old mail.</summary>
    public static TestMessage NewMessage(string to, string subject)
    {
        var messageId = $"{Guid.NewGuid():N}@tests.bonnie.example";
        var message = new MimeMessage
        {
            Subject = subject,
            MessageId = messageId,
            Date = DateTimeOffset.UtcNow,
            Body = new TextPart("plain") { Text = "Sent by Bonnie's end-to-end tests.\n" },
        };
        message.From.Add(new MailboxAddress("Test Sender", "sender@example.net"));
        message.To.Add(MailboxAddress.Parse(to));
        return new TestMessage(message, messageId);
    }

    private static int PortFromEnvironment(string name, int fallback) =>
        Environment.GetEnvironmentVariable(name) is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    private Dictionary<string, string> ScriptEnvironment() => new()
    {
        ["BONNIE_CYRUS_STATE"] = StateDirectory,
        ["BONNIE_CYRUS_IMAP_PORT"] = ImapPort.ToString(CultureInfo.InvariantCulture),
        ["BONNIE_CYRUS_LMTP_PORT"] = LmtpPort.ToString(CultureInfo.InvariantCulture),
        ["BONNIE_CYRUS_PASSWORD"] = Password,
    };
}

/// <summary>Cyrus whose notifications go to scripts/neighbours/notify-capture.sh, one JSON line each.</summary>
public sealed class CapturingCyrusFixture : CyrusFixture
{
    public CapturingCyrusFixture()
        : base(RepositoryRoot.Combine("scripts", "neighbours", "notify-capture.sh"))
    {
    }

    public NotificationCapture Notifications => new(Path.Combine(EventsDirectory, "events.jsonl"));

    public override Task InitializeAsync()
    {
        // Earlier runs' notifications would only slow the searches down; tests match on fresh Message-IDs anyway. On a
        // machine where Cyrus never ran, there is no directory yet (File.Delete throws for that, not for a missing file).
        if (Directory.Exists(EventsDirectory))
        {
            File.Delete(Path.Combine(EventsDirectory, "events.jsonl"));
        }
        return base.InitializeAsync();
    }
}

/// <summary>A message for a test and its Message-ID (without angle brackets).</summary>
public sealed record TestMessage(MimeMessage Message, string MessageId);
