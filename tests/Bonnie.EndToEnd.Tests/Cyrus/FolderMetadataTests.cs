using System.Security.Cryptography;
using System.Text;
using Bonnie.EndToEnd.Tests.Neighbours;
using Bonnie.Pipeline.Storage.Embedded;
using Bonnie.Pipeline.Worker;
using Bonnie.Pipeline.Worker.Handlers;
using Bonnie.Pipeline.Worker.Payloads;
using Bonnie.Shared.Cyrus;
using Bonnie.Shared.Events;
using Bonnie.Shared.Storage;
using MailKit;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bonnie.EndToEnd.Tests.Cyrus;

/// <summary>
/// A folder's METADATA, read from the real Cyrus: by the reader itself (NIL entries, literals, non-ASCII names, Cyrus's
/// bookkeeping), and by the pipeline when Cyrus reports the folder changed, as change records in the folder's history.
/// </summary>
[Collection(CyrusCollection.Name)]
#pragma warning disable CA1001 // The store is disposed asynchronously in DisposeAsync (IAsyncLifetime).
public sealed class FolderMetadataTests(CapturingCyrusFixture cyrus) : IClassFixture<CapturingCyrusFixture>, IAsyncLifetime
#pragma warning restore CA1001
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly MetadataTag Comment = MetadataTag.SharedComment;
    private static readonly MetadataTag Expire = new("/shared/vendor/cmu/cyrus-imapd/expire");
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "bonnie-metadata-e2e", Guid.NewGuid().ToString("N"));
    private EmbeddedStore _store = null!;
    private StoreJobProcessor _processor = null!;

    private ImapAdminEndpoint Admin(string? password = null) =>
        new(cyrus.Host, cyrus.ImapPort, "None", cyrus.Admin, password ?? cyrus.Password, Timeout);

    public async Task InitializeAsync()
    {
        _store = new EmbeddedStore(Path.Combine(_directory, "store"), 16, NullLogger<EmbeddedStore>.Instance);
        var imap = new ImapPayloadOptions { Host = cyrus.Host, Port = cyrus.ImapPort, Security = "None", User = cyrus.Admin, Password = cyrus.Password };
        var fetcher = new PayloadFetcher([new ImapPayloadSource(imap, NullLogger<ImapPayloadSource>.Instance)],
            new PayloadDirectory(Path.Combine(_directory, "store", "payloads"), compress: true),
            new PayloadOptions { MaxAttempts = 1 }, NullLogger<PayloadFetcher>.Instance);
        _processor = new StoreJobProcessor(_store, [new FolderHandler(), new MessageHandler(), new SessionHandler()], fetcher, TimeProvider.System,
            NullLogger<StoreJobProcessor>.Instance, metadata: new ImapFolderMetadataSource(imap));
        await _store.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>alice's new folder (its name's unique part, its admin-form name).</summary>
    private async Task<(string Label, string Name)> NewFolderAsync(string prefix, CancellationToken cancellationToken)
    {
        var label = prefix + "-" + Guid.NewGuid().ToString("N")[..8];
        using var alice = await cyrus.ConnectAsync(cyrus.Alice, cancellationToken);
        await alice.Inbox.CreateAsync(label, true, cancellationToken);
        return (label, $"user/alice/{label}@{CyrusFixture.Domain}");
    }

    /// <summary>
    /// SETMETADATA as the admin, by hand: MailKit 4.18.2 sends some values in a form Cyrus answers "BAD Missing metadata
    /// value" (a value with a quote, or a line break). The value goes as a LITERAL+ literal, null as NIL (removes it).
    /// </summary>
    private async Task SetAsync(string name, MetadataTag tag, string? value, CancellationToken cancellationToken)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(cyrus.Host, cyrus.ImapPort, cancellationToken);
        await using var stream = tcp.GetStream();
        using var reader = new StreamReader(stream, new UTF8Encoding(false));
        async Task<string> CommandAsync(string tag, byte[] command)
        {
            await stream.WriteAsync(command, cancellationToken);
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                if (line.StartsWith(tag + " ", StringComparison.Ordinal))
                {
                    return line;
                }
            }
            throw new IOException("Cyrus closed the connection");
        }
        await reader.ReadLineAsync(cancellationToken);
        Assert.Contains(" OK", await CommandAsync("s1", Encoding.UTF8.GetBytes($"s1 LOGIN {cyrus.Admin} {cyrus.Password}\r\n")), StringComparison.Ordinal);
        var bytes = value is null ? null : Encoding.UTF8.GetBytes(value);
        var command = new MemoryStream();
        command.Write(Encoding.UTF8.GetBytes($"s2 SETMETADATA \"{ModifiedUtf7.Encode(name)}\" ({tag.Id} "));
        if (bytes is null)
        {
            command.Write("NIL"u8);
        }
        else
        {
            command.Write(Encoding.UTF8.GetBytes($"{{{bytes.Length}+}}\r\n"));
            command.Write(bytes);
        }
        command.Write(")\r\n"u8);
        var answer = await CommandAsync("s2", command.ToArray());
        Assert.True(answer.StartsWith("s2 OK", StringComparison.Ordinal), $"SETMETADATA {tag.Id} of {name}: {answer}");
    }

    [Fact]
    public async Task GetShared_SetEntriesAsSetNotSetOnesAndCyrusBookkeepingLeftOut()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var (_, name) = await NewFolderAsync("meta-read", cancel.Token);
        // Two lines, a quote, a brace and 8-bit text: Cyrus answers with a literal, which the reader must take whole.
        const string comment = "Legal hold \"Acme\" since 2026-11-30\r\nCase 4711 — do not purge {5}";
        await SetAsync(name, Comment, comment, cancel.Token);
        await SetAsync(name, Expire, "30", cancel.Token);

        await using var session = await ImapAdminSession.OpenAsync(Admin(), cancel.Token);
        var entries = (await session.GetSharedAsync(name, cancel.Token))?.Entries;

        Assert.NotNull(entries);
        Assert.Equal(comment, entries["/shared/comment"]);
        Assert.Equal("30", entries["/shared/vendor/cmu/cyrus-imapd/expire"]);
        // Not set (NIL in Cyrus's answer): absent, not an empty value.
        Assert.DoesNotContain("/shared/specialuse", entries.Keys);
        Assert.DoesNotContain("/shared/vendor/cmu/cyrus-imapd/squat", entries.Keys);
        // Bookkeeping that changes with every delivery: left out.
        Assert.DoesNotContain(entries.Keys, ImapAdminSession.IsVolatile);
        Assert.DoesNotContain("/shared/vendor/cmu/cyrus-imapd/size", entries.Keys);
        Assert.DoesNotContain("/shared/vendor/cmu/cyrus-imapd/lastupdate", entries.Keys);
        // The same session reads on: a folder that does not exist is null, not an error.
        Assert.Null(await session.GetSharedAsync($"user/alice/no-such-{Guid.NewGuid():N}@{CyrusFixture.Domain}", cancel.Token));
    }

    [Fact]
    public async Task GetShared_FolderNameOutsideAscii_ReadsTheFolderMailKitCreated()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var (_, name) = await NewFolderAsync("Verträge-Ω", cancel.Token);
        await SetAsync(name, Comment, "Zürich office", cancel.Token);

        await using var session = await ImapAdminSession.OpenAsync(Admin(), cancel.Token);

        Assert.Equal("Zürich office", (await session.GetSharedAsync(name, cancel.Token))?.Entries["/shared/comment"]);
    }

    [Fact]
    public async Task Source_BatchesInARow_OneSessionKeptAndOpenedAgainOnceTheConnectionWasCut()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var (_, name) = await NewFolderAsync("meta-session", cancel.Token);
        await SetAsync(name, Comment, "first", cancel.Token);
        await using var relay = new CuttableRelay(cyrus.Host, cyrus.ImapPort);
        await using var source = new ImapFolderMetadataSource(new ImapPayloadOptions
        {
            Host = "127.0.0.1", Port = relay.Port, Security = "None", User = cyrus.Admin, Password = cyrus.Password, Timeout = Timeout,
        });

        var first = await source.ReadAsync([name], cancel.Token);
        await SetAsync(name, Comment, "second", cancel.Token);
        var second = await source.ReadAsync([name], cancel.Token);
        // Each login would be a Login and a Logout event in the trail: batches in a row share one session.
        Assert.Equal(1, relay.Accepted);
        relay.CutAll();
        await SetAsync(name, Comment, "third", cancel.Token);
        var third = await source.ReadAsync([name], cancel.Token);

        Assert.Equal(["first", "second", "third"], new[] { first, second, third }.Select(r => r.Found[name]["/shared/comment"]));
        Assert.All(new[] { first, second, third }, r => Assert.Empty(r.Failures));
        Assert.Equal(2, relay.Accepted);
    }

    [Fact]
    public async Task Open_WrongPassword_ClearErrorWithoutThePassword()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        const string wrong = "not-the-password-4711";

        var error = await Assert.ThrowsAsync<ImapAdminException>(() => ImapAdminSession.OpenAsync(Admin(wrong), cancel.Token));

        Assert.Contains("could not sign in", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{cyrus.Admin}\0{wrong}")), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pipeline_CommentSetChangedAndRemoved_FolderHistoryHasEachChangeAndTheValueNow()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var (label, name) = await NewFolderAsync("meta-history", cancel.Token);
        await RecordAfterAsync("MailboxCreate", label, cancel.Token);
        var folder = await _store.FindFolderByNameAsync(name, cancel.Token);
        Assert.NotNull(folder);

        await SetAsync(name, Comment, "under legal hold", cancel.Token);
        await RecordAfterAsync("MailboxModseq", label, cancel.Token);
        await SetAsync(name, Comment, "hold lifted", cancel.Token);
        await RecordAfterAsync("MailboxModseq", label, cancel.Token);
        await SetAsync(name, Comment, null, cancel.Token);
        await RecordAfterAsync("MailboxModseq", label, cancel.Token);

        var changes = (await _store.GetChangesAsync(ObjectKind.Folder, folder.Id, cancel.Token)).Where(c => c.Aspect == ChangeAspect.Metadata).ToList();
        Assert.Equal(["- > under legal hold", "under legal hold > hold lifted", "hold lifted > -"],
            changes.Where(c => c.Key == "/shared/comment").Select(c => $"{c.From ?? "-"} > {c.To ?? "-"}"));
        // Each change is dated by the MailboxModseq it was read for, after the folder's creation.
        Assert.All(changes, c => Assert.True(c.At >= folder.FirstSeen));
        var now = await _store.GetFolderAsync(folder.Id, cancel.Token);
        Assert.DoesNotContain("/shared/comment", now!.Metadata.Keys);
        // Cyrus's own settings were found at the first read: known, not changes someone made (a live review saw them on
        // every folder's history as set by whoever's session came first); they did not change since.
        Assert.Equal("default", now.Metadata["/shared/vendor/cmu/cyrus-imapd/partition"]);
        Assert.DoesNotContain(changes, c => c.Key!.StartsWith("/shared/vendor/cmu/cyrus-imapd/", StringComparison.Ordinal));
        Assert.DoesNotContain(changes, c => ImapAdminSession.IsVolatile(c.Key!));
    }

    /// <summary>
    /// The race the unique-id check is for: the worker reads a folder's METADATA by name, later than the MailboxModseq it
    /// reads for. If the folder was renamed meanwhile and another created under its name, what is read is the other
    /// folder's; recorded for the event's folder, the custodian's folder would show the other folder's comment.
    /// </summary>
    [Fact]
    public async Task Pipeline_FolderRenamedAndAnotherCreatedUnderItsNameBeforeTheRead_NeitherFolderGetsTheOthersMetadata()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var (label, name) = await NewFolderAsync("meta-race", cancel.Token);
        await RecordAfterAsync("MailboxCreate", label, cancel.Token);
        var custodians = await _store.FindFolderByNameAsync(name, cancel.Token);
        Assert.NotNull(custodians);

        // The change Cyrus reports, not yet read by the worker (its notification waits, as in a backlog)...
        await SetAsync(name, Comment, "matter 17: custodian's folder", cancel.Token);
        await cyrus.Notifications.WaitForAsync(n => IsModseqOf(n, custodians.Id), Timeout, cancel.Token);
        // ...then the folder moves away and another takes its name, with a comment of its own.
        using (var alice = await cyrus.ConnectAsync(cyrus.Alice, cancel.Token))
        {
            var folder = await alice.Inbox.GetSubfolderAsync(label, cancel.Token);
            await folder.RenameAsync(alice.Inbox, label + "-moved", cancel.Token);
            await alice.Inbox.CreateAsync(label, true, cancel.Token);
        }
        await SetAsync(name, Comment, "another folder", cancel.Token);
        string newId;
        await using (var session = await ImapAdminSession.OpenAsync(Admin(), cancel.Token))
        {
            newId = (await session.GetSharedAsync(name, cancel.Token))!.Value.UniqueId!;
        }
        Assert.NotEqual(custodians.Id, newId);
        await cyrus.Notifications.WaitForAsync(n => IsModseqOf(n, newId), Timeout, cancel.Token);

        await FeedAllAsync(cancel.Token);

        var moved = await _store.GetFolderAsync(custodians.Id, cancel.Token);
        Assert.Equal($"user/alice/{label}-moved@{CyrusFixture.Domain}", moved!.Name);
        Assert.DoesNotContain("/shared/comment", moved.Metadata.Keys);
        Assert.DoesNotContain(await _store.GetChangesAsync(ObjectKind.Folder, custodians.Id, cancel.Token),
            c => c.Aspect == ChangeAspect.Metadata && c.Key == "/shared/comment");
        // The folder now under the name has its own comment, from its own MailboxModseq.
        var other = await _store.FindFolderByNameAsync(name, cancel.Token);
        Assert.Equal(newId, other!.Id);
        Assert.Equal("another folder", other.Metadata["/shared/comment"]);
    }

    private static bool IsModseqOf(System.Text.Json.JsonElement notification, string mailboxId) =>
        notification.GetProperty("event").GetString() == "MailboxModseq"
        && notification.TryGetProperty("mailboxID", out var id) && id.GetString() == mailboxId;

    private readonly Dictionary<string, int> _seen = new(StringComparer.Ordinal);

    /// <summary>Waits for one more notification of the type for the folder, then feeds every one so far through the processor.</summary>
    private async Task RecordAfterAsync(string eventName, string label, CancellationToken cancellationToken)
    {
        var wanted = _seen.GetValueOrDefault(eventName) + 1;
        while (true)
        {
            var count = cyrus.Notifications.ReadAll().Count(n => n.GetProperty("event").GetString() == eventName
                && n.GetProperty("uri").GetString()!.Contains(label, StringComparison.Ordinal));
            if (count >= wanted)
            {
                _seen[eventName] = count;
                break;
            }
            await Task.Delay(100, cancellationToken);
        }
        await FeedAllAsync(cancellationToken);
    }

    /// <summary>Feeds every notification so far through the processor (those already stored are known by their job id).</summary>
    private async Task FeedAllAsync(CancellationToken cancellationToken)
    {
        foreach (var line in (await File.ReadAllLinesAsync(cyrus.Notifications.File, cancellationToken)).Where(l => l.Length > 0))
        {
            var bytes = Encoding.UTF8.GetBytes(line);
            var outcome = await _processor.ProcessAsync(new Job(Convert.ToHexStringLower(SHA256.HashData(bytes)), bytes, 1, DateTimeOffset.UtcNow), cancellationToken);
            Assert.IsType<JobOutcome.Done>(outcome);
        }
    }
}
