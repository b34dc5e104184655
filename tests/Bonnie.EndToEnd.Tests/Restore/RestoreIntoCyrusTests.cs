using System.Security.Cryptography;
using System.Text;
using Bonnie.EndToEnd.Tests.Neighbours;
using Bonnie.Pipeline.Restore;
using Bonnie.Pipeline.Storage.Embedded;
using Bonnie.Pipeline.Worker;
using Bonnie.Pipeline.Worker.Handlers;
using Bonnie.Pipeline.Worker.Payloads;
using MailKit;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Bonnie.EndToEnd.Tests.Restore;

/// <summary>
/// A folder recorded by the real pipeline from the real Cyrus' notifications, deleted with its messages, then
/// restored by an officer: the owner sees the same messages, flags and bytes again.
/// </summary>
[Collection(CyrusCollection.Name)]
#pragma warning disable CA1001 // The store is disposed asynchronously in DisposeAsync (IAsyncLifetime).
public sealed class RestoreIntoCyrusTests(CapturingCyrusFixture cyrus) : IClassFixture<CapturingCyrusFixture>, IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "bonnie-restore-e2e", Guid.NewGuid().ToString("N"));
    private EmbeddedStore _store = null!;
    private PayloadDirectory _payloads = null!;
    private StoreJobProcessor _processor = null!;
    private RestorePlanner _planner = null!;

#pragma warning restore CA1001
    public async Task InitializeAsync()
    {
        _store = new EmbeddedStore(Path.Combine(_directory, "store"), 16, NullLogger<EmbeddedStore>.Instance);
        _payloads = new PayloadDirectory(Path.Combine(_directory, "store", "payloads"), compress: true);
        var imap = new ImapPayloadOptions { Host = cyrus.Host, Port = cyrus.ImapPort, Security = "None", User = cyrus.Admin, Password = cyrus.Password };
        var fetcher = new PayloadFetcher([new ImapPayloadSource(imap, NullLogger<ImapPayloadSource>.Instance)], _payloads,
            new PayloadOptions { MaxAttempts = 1 }, NullLogger<PayloadFetcher>.Instance);
        _processor = new StoreJobProcessor(_store, [new FolderHandler(), new MessageHandler(), new SessionHandler()], fetcher, TimeProvider.System,
            NullLogger<StoreJobProcessor>.Instance);
        _planner = new RestorePlanner(_store, _payloads, TimeProvider.System);
        await _store.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private ImapRestorer Restorer(int batchSize = 20) => new(Options.Create(new RestoreOptions
    {
        BatchSize = batchSize,
        Imap = new RestoreImapOptions { Host = cyrus.Host, Port = cyrus.ImapPort, Security = "None", AdminUser = cyrus.Admin, Password = cyrus.Password },
    }), _payloads, NullLogger<ImapRestorer>.Instance);

    /// <summary>
    /// Feeds the captured notifications of <paramref name="folder"/> so far through the real processor, in order
    /// (replays are no-ops). Only that folder's: the other tests' folders, and the admin's sessions, are not this
    /// test's history, and each of their deliveries would cost a payload fetch over IMAP.
    /// </summary>
    private async Task RecordAsync(string folder, CancellationToken cancellationToken)
    {
        var lines = await File.ReadAllLinesAsync(cyrus.Notifications.File, cancellationToken);
        foreach (var line in lines.Where(l => l.Contains(folder, StringComparison.Ordinal)))
        {
            var bytes = Encoding.UTF8.GetBytes(line);
            var outcome = await _processor.ProcessAsync(new Job(Convert.ToHexStringLower(SHA256.HashData(bytes)), bytes, 1, DateTimeOffset.UtcNow), cancellationToken);
            Assert.IsType<JobOutcome.Done>(outcome);
        }
    }

    /// <summary>alice's folder with three messages (flags set at APPEND and after), recorded, then deleted in Cyrus.</summary>
    private async Task<(string FolderId, string Name, DateTimeOffset Before, Dictionary<string, (MessageFlags Flags, string[] Keywords)> Expected)>
        RecordedThenDeletedAsync(string label, CancellationToken cancellationToken)
    {
        var name = label + "-" + Guid.NewGuid().ToString("N")[..8];
        using (var alice = await cyrus.ConnectAsync(cyrus.Alice, cancellationToken))
        {
            await alice.Inbox.CreateAsync(name, true, cancellationToken);
            await alice.DisconnectAsync(true, cancellationToken);
        }
        var sent = new List<(TestMessage Message, MessageFlags Flags, string[] Keywords)>
        {
            (CyrusFixture.NewMessage(cyrus.Alice, "seen one"), MessageFlags.Seen, []),
            (CyrusFixture.NewMessage(cyrus.Alice, "flagged and labelled"), MessageFlags.Flagged, ["$Label1"]),
            (CyrusFixture.NewMessage(cyrus.Alice, "a larger one"), MessageFlags.None, []),
        };
        ((TextPart)sent[2].Message.Message.Body!).Text = new string('x', 8000) + "\n";
        var uids = new List<UniqueId>();
        foreach (var (m, flags, keywords) in sent)
        {
            uids.Add(await cyrus.AppendAsync(cyrus.Alice, "INBOX/" + name, m.Message, flags, keywords, cancellationToken));
        }
        using (var alice = await cyrus.ConnectAsync(cyrus.Alice, cancellationToken))
        {
            var folder = await alice.GetFolderAsync("INBOX/" + name, cancellationToken);
            await folder.OpenAsync(FolderAccess.ReadWrite, cancellationToken);
            await folder.AddFlagsAsync(uids[2], MessageFlags.Answered, true, cancellationToken);
            await alice.DisconnectAsync(true, cancellationToken);
        }
        await cyrus.Notifications.WaitForAsync(n => n.GetProperty("event").GetString() == "FlagsSet" && n.GetProperty("uri").GetString()!.Contains(name, StringComparison.Ordinal),
            Timeout, cancellationToken);
        await RecordAsync(name, cancellationToken);

        var expected = new Dictionary<string, (MessageFlags, string[])>(StringComparer.Ordinal);
        string? folderId = null;
        for (var i = 0; i < sent.Count; i++)
        {
            var append = await cyrus.Notifications.WaitForAsync(n => n.GetProperty("event").GetString() == "MessageAppend"
                && n.GetProperty("vnd.cmu.midset").EnumerateArray().Any(x => x.GetString() == $"<{sent[i].Message.MessageId}>"), Timeout, cancellationToken);
            var emailId = append.GetProperty("vnd.cmu.emailid").GetString()!;
            var stored = await _store.GetMessageAsync(emailId, cancellationToken);
            Assert.NotNull(stored);
            Assert.NotNull(stored.PayloadSha256);
            folderId = stored.Locations[0].FolderId;
            expected[emailId] = (sent[i].Flags | (i == 2 ? MessageFlags.Answered : MessageFlags.None), sent[i].Keywords);
        }
        var before = DateTimeOffset.UtcNow;
        await Task.Delay(20, cancellationToken);

        using (var alice = await cyrus.ConnectAsync(cyrus.Alice, cancellationToken))
        {
            var folder = await alice.GetFolderAsync("INBOX/" + name, cancellationToken);
            await folder.DeleteAsync(cancellationToken);
            await alice.DisconnectAsync(true, cancellationToken);
        }
        await cyrus.Notifications.WaitForAsync(n => n.GetProperty("event").GetString() == "MailboxDelete" && n.GetProperty("uri").GetString()!.Contains(name, StringComparison.Ordinal),
            Timeout, cancellationToken);
        await RecordAsync(name, cancellationToken);
        return (folderId!, name, before, expected);
    }

    [Fact]
    public async Task Restore_DeletedFolder_OwnerSeesTheSameMessagesFlagsAndBytes_AndASecondRunDuplicatesNothing()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var (folderId, name, before, expected) = await RecordedThenDeletedAsync("Case", cancel.Token);

        var dryRun = await _planner.PlanAsync(new RestoreRequest { Scope = RestoreScope.Folder, FolderId = folderId, At = before, DryRun = true }, cancel.Token);
        var first = await Restorer().RunAsync(dryRun, null, cancel.Token);
        var second = await Restorer().RunAsync(await _planner.PlanAsync(new RestoreRequest { Scope = RestoreScope.Folder, FolderId = folderId, At = before }, cancel.Token),
            null, cancel.Token);

        Assert.Equal(3, dryRun.Items.Count);
        var sizes = new List<long>();
        foreach (var item in dryRun.Items)
        {
            sizes.Add((await _payloads.GetAsync(item.PayloadSha256, cancel.Token))!.Length);
        }
        Assert.Equal(sizes.Sum(), dryRun.TotalBytes);
        Assert.Equal($"user/alice/{name}@example.org", Assert.Single(dryRun.Folders).Folder);
        Assert.Equal((3, 0, 0), (first.Progress.Restored, first.Progress.AlreadyPresent, first.Progress.Failed));
        Assert.Equal((0, 3, 0), (second.Progress.Restored, second.Progress.AlreadyPresent, second.Progress.Failed));

        using var alice = await cyrus.ConnectAsync(cyrus.Alice, cancel.Token);
        var folder = await alice.GetFolderAsync("INBOX/" + name, cancel.Token);
        await folder.OpenAsync(FolderAccess.ReadOnly, cancel.Token);
        var summaries = await folder.FetchAsync(0, -1,
            MessageSummaryItems.UniqueId | MessageSummaryItems.EmailId | MessageSummaryItems.Flags | MessageSummaryItems.InternalDate, cancel.Token);
        Assert.Equal(3, summaries.Count);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), summaries.Select(s => s.EmailId).Order(StringComparer.Ordinal));
        foreach (var s in summaries)
        {
            var (flags, keywords) = expected[s.EmailId!];
            Assert.Equal(flags, s.Flags!.Value & ~MessageFlags.Recent);
            Assert.Equal(keywords.Order(), s.Keywords.Order());
            var stored = await _store.GetMessageAsync(s.EmailId!, cancel.Token);
            await using var stream = await folder.GetStreamAsync(s.UniqueId, cancel.Token);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy, cancel.Token);
            Assert.Equal(await _payloads.GetAsync(stored!.PayloadSha256!, cancel.Token), copy.ToArray());
        }
    }

    [Fact]
    public async Task Restore_IntoAMailboxOverQuota_ThrowsOverQuotaException()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var (folderId, _, before, _) = await RecordedThenDeletedAsync("Quota", cancel.Token);
        var target = $"user/bob/Quota-{Guid.NewGuid().ToString("N")[..8]}@example.org";
        using var admin = await cyrus.ConnectAsync(cyrus.Admin, cancel.Token);
        var bobRoot = await admin.GetFolderAsync("user/bob@example.org", cancel.Token);
        await bobRoot.SetQuotaAsync(null, 1, cancel.Token);
        try
        {
            var plan = await _planner.PlanAsync(new RestoreRequest { Scope = RestoreScope.Folder, FolderId = folderId, At = before, TargetFolder = target }, cancel.Token);

            var ex = await Assert.ThrowsAsync<OverQuotaException>(() => Restorer().RunAsync(plan, null, cancel.Token));

            Assert.Contains("quota", ex.Message, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            // Cyrus 3.6 answers BAD to an empty SETQUOTA list, so the limit is lifted rather than removed: 100 GB.
            await bobRoot.SetQuotaAsync(null, 100_000_000, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Restore_ServerDown_ThrowsRestoreUnavailableException()
    {
        var plan = new RestorePlan(null, [new RestoreItem("k", new string('0', 64), 1, "user/alice@example.org", [], DateTimeOffset.UtcNow, null)], []);
        var restorer = new ImapRestorer(Options.Create(new RestoreOptions
        {
            Imap = new RestoreImapOptions { Host = "127.0.0.1", Port = FreePort.Next(), Security = "None", AdminUser = "cyrus", Password = "x" },
        }), _payloads, NullLogger<ImapRestorer>.Instance);

        var ex = await Assert.ThrowsAsync<RestoreUnavailableException>(() => restorer.RunAsync(plan, null));

        Assert.Contains("cannot be reached", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// More messages than one batch holds, the last batch partial: every message lands once, with its flag, and the
    /// progress counts them all. (The restore's rate against a plain APPEND loop is measured in bench/, `restore`.)
    /// </summary>
    [Fact]
    public async Task Restore_SeveralBatches_EveryMessageOnceWithItsFlags()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        const int Count = 45;
        var items = new List<RestoreItem>();
        for (var i = 0; i < Count; i++)
        {
            var body = Encoding.ASCII.GetBytes($"From: batches@example.net\r\nTo: alice@example.org\r\nSubject: batch {i}\r\nMessage-ID: <{Guid.NewGuid():N}@batches>\r\n\r\nmessage {i}\r\n");
            var sha = await _payloads.PutAsync(body, cancel.Token);
            items.Add(new RestoreItem("batch" + i, sha, body.Length, "", ["\\Seen"], DateTimeOffset.UtcNow, null));
        }
        var label = "Batches-" + Guid.NewGuid().ToString("N")[..8];
        var target = $"user/alice/{label}@example.org";

        var result = await Restorer(batchSize: 20).RunAsync(new RestorePlan(null, items.ConvertAll(i => i with { TargetFolder = target }), []), null, cancel.Token);

        Assert.Equal(Count, result.Progress.Restored);
        using var alice = await cyrus.ConnectAsync(cyrus.Alice, cancel.Token);
        var folder = await alice.GetFolderAsync("INBOX/" + label, cancel.Token);
        await folder.OpenAsync(FolderAccess.ReadOnly, cancel.Token);
        var summaries = await folder.FetchAsync(0, -1, MessageSummaryItems.Flags | MessageSummaryItems.Envelope, cancel.Token);
        Assert.Equal(Enumerable.Range(0, Count).Select(i => $"batch {i}").Order(), summaries.Select(m => m.Envelope!.Subject).Order());
        Assert.All(summaries, m => Assert.True(m.Flags!.Value.HasFlag(MessageFlags.Seen)));
    }

    [Fact]
    public async Task Restore_FolderCreatedByAnotherClientJustBeforeTheRestoreCreatesIt_TakesThatFolderAndRestoresEverything()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var items = new List<RestoreItem>();
        for (var i = 0; i < 3; i++)
        {
            var body = Encoding.ASCII.GetBytes($"From: race@example.net\r\nTo: alice@example.org\r\nSubject: race {i}\r\nMessage-ID: <{Guid.NewGuid():N}@race>\r\n\r\nmessage {i}\r\n");
            items.Add(new RestoreItem("race" + i, await _payloads.PutAsync(body, cancel.Token), body.Length, "", [], DateTimeOffset.UtcNow, null));
        }
        var label = "Race-" + Guid.NewGuid().ToString("N")[..8];
        var target = $"user/alice/{label}/Restored@example.org";
        var createdByOther = new List<string>();
        // What another restore into the same new folder, or alice herself, does between the restore's look and its CREATE.
        var restorer = new ImapRestorer(Options.Create(new RestoreOptions
        {
            Imap = new RestoreImapOptions { Host = cyrus.Host, Port = cyrus.ImapPort, Security = "None", AdminUser = cyrus.Admin, Password = cyrus.Password },
        }), _payloads, NullLogger<ImapRestorer>.Instance)
        {
            BeforeCreate = async (path, token) =>
            {
                if (path != "INBOX/" + label)
                {
                    return;
                }
                using var alice = await cyrus.ConnectAsync(cyrus.Alice, token);
                await alice.Inbox.CreateAsync(label, false, token);
                await alice.DisconnectAsync(true, token);
                createdByOther.Add(path);
            },
        };

        var result = await restorer.RunAsync(new RestorePlan(null, items.ConvertAll(i => i with { TargetFolder = target }), []), null, cancel.Token);

        Assert.Equal(["INBOX/" + label], createdByOther);
        Assert.Equal(3, result.Progress.Restored);
        Assert.Equal(0, result.Progress.Failed);
        // The restore reports as created only the folder it created itself.
        Assert.Equal([target], result.CreatedFolders);
        using var client = await cyrus.ConnectAsync(cyrus.Alice, cancel.Token);
        var folder = await client.GetFolderAsync($"INBOX/{label}/Restored", cancel.Token);
        await folder.OpenAsync(FolderAccess.ReadOnly, cancel.Token);
        var summaries = await folder.FetchAsync(0, -1, MessageSummaryItems.Envelope, cancel.Token);
        Assert.Equal(["race 0", "race 1", "race 2"], summaries.Select(m => m.Envelope!.Subject).Order());
    }

    [Fact]
    public async Task Restore_MessagesMimeKitWouldRewrite_StoredByteForByteAndASecondRunAddsNothing()
    {
        // Valid mail as Cyrus keeps it, which a round trip through MimeKit and MailKit's APPEND changed: a body without a
        // final CRLF, and a multipart its sender never closed. Both came back two bytes longer, with another GUID, and
        // the altered copies stayed in the mailbox (a review against the real Cyrus).
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var originals = new[]
        {
            "From: odd@example.net\r\nTo: alice@example.org\r\nSubject: no final line end\r\nMessage-ID: <" + Guid.NewGuid().ToString("N") + "@odd>\r\n\r\nbody without final newline",
            "From: odd@example.net\r\nTo: alice@example.org\r\nSubject: open multipart\r\nMessage-ID: <" + Guid.NewGuid().ToString("N") + "@odd>\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\npreamble\r\n--XX\r\nContent-Type: text/plain\r\n\r\npart one\r\n--XX\r\n"
                + "Content-Type: text/plain\r\n\r\npart two, no closing boundary\r\n",
        }.Select(Encoding.ASCII.GetBytes).ToList();
        var items = new List<RestoreItem>();
        foreach (var bytes in originals)
        {
            items.Add(new RestoreItem(ImapRestorer.EmailIdOf(bytes), await _payloads.PutAsync(bytes, cancel.Token), bytes.Length, "", ["\\Seen", "$Label1"],
                new DateTimeOffset(2025, 3, 4, 5, 6, 7, TimeSpan.FromHours(-5)), null));
        }
        var label = "Exact-" + Guid.NewGuid().ToString("N")[..8];
        var plan = new RestorePlan(null, items.ConvertAll(i => i with { TargetFolder = $"user/alice/{label}@example.org" }), []);

        var told = new List<RestoredMessage>();
        var first = await Restorer().RunAsync(plan, null, told.Add, cancel.Token);
        var second = await Restorer().RunAsync(plan, null, cancel.Token);

        Assert.Equal((2, 0), (first.Progress.Restored, first.Progress.Failed));
        Assert.Equal((0, 2, 0), (second.Progress.Restored, second.Progress.AlreadyPresent, second.Progress.Failed));
        using var alice = await cyrus.ConnectAsync(cyrus.Alice, cancel.Token);
        var folder = await alice.GetFolderAsync("INBOX/" + label, cancel.Token);
        await folder.OpenAsync(FolderAccess.ReadOnly, cancel.Token);
        Assert.Equal(2, folder.Count);
        var summaries = await folder.FetchAsync(0, -1, MessageSummaryItems.UniqueId | MessageSummaryItems.EmailId | MessageSummaryItems.Flags | MessageSummaryItems.InternalDate,
            cancel.Token);
        Assert.Equal(originals.Select(o => ImapRestorer.EmailIdOf(o)).Order(), summaries.Select(m => m.EmailId!).Order());
        foreach (var summary in summaries)
        {
            await using var stream = await folder.GetStreamAsync(summary.UniqueId, cancel.Token);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy, cancel.Token);
            Assert.Contains(originals, o => o.AsSpan().SequenceEqual(copy.ToArray()));
            Assert.True(summary.Flags!.Value.HasFlag(MessageFlags.Seen));
            Assert.Contains("$Label1", summary.Keywords);
            Assert.Equal(new DateTimeOffset(2025, 3, 4, 5, 6, 7, TimeSpan.FromHours(-5)), summary.InternalDate);
        }
        // What the officers' audit keeps of the restore: each message with the UID Cyrus gave it, which tells the trail's
        // MessageAppend of the restore (Cyrus reports it as alice's) from alice's own.
        Assert.Equal(summaries.Select(m => (m.EmailId!, (uint?)m.UniqueId.Id)).Order(), told.Select(t => (t.EmailId, t.Uid)).Order());
        Assert.All(told, t => Assert.Equal($"user/alice/{label}@example.org", t.Folder));
    }

    [Fact]
    public async Task Restore_MessageImportedWithItsOwnDate_ComesBackWithThatInternalDate()
    {
        // Found by a review: mail appended with its own INTERNALDATE (a migration, an import) came back dated the day it
        // was appended to Cyrus. The payload's IMAP fetch now reads the INTERNALDATE too, and the restore gives it back.
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var name = "Imported-" + Guid.NewGuid().ToString("N")[..8];
        var imported = new DateTimeOffset(2020, 1, 1, 10, 0, 0, TimeSpan.Zero);
        var sent = CyrusFixture.NewMessage(cyrus.Alice, "imported in 2020");
        UniqueId uid;
        using (var alice = await cyrus.ConnectAsync(cyrus.Alice, cancel.Token))
        {
            var folder = await alice.Inbox.CreateAsync(name, true, cancel.Token);
            Assert.NotNull(folder);
            uid = (await folder.AppendAsync(new AppendRequest(sent.Message, MessageFlags.Seen, imported), cancel.Token))!.Value;
            await alice.DisconnectAsync(true, cancel.Token);
        }
        var append = await cyrus.Notifications.WaitForAsync(n => n.GetProperty("event").GetString() == "MessageAppend"
            && n.GetProperty("uri").GetString()!.Contains(name, StringComparison.Ordinal), Timeout, cancel.Token);
        await RecordAsync(name, cancel.Token);
        var emailId = append.GetProperty("vnd.cmu.emailid").GetString()!;
        Assert.Equal(imported, (await _store.GetMessageAsync(emailId, cancel.Token))!.InternalDate);
        using (var alice = await cyrus.ConnectAsync(cyrus.Alice, cancel.Token))
        {
            var folder = await alice.GetFolderAsync("INBOX/" + name, cancel.Token);
            await folder.OpenAsync(FolderAccess.ReadWrite, cancel.Token);
            await folder.AddFlagsAsync(uid, MessageFlags.Deleted, true, cancel.Token);
            await folder.ExpungeAsync(cancel.Token);
            await alice.DisconnectAsync(true, cancel.Token);
        }

        var plan = await _planner.PlanAsync(new RestoreRequest { Scope = RestoreScope.Messages, MessageKeys = [emailId] }, cancel.Token);
        var result = await Restorer().RunAsync(plan, null, cancel.Token);

        Assert.Equal(1, result.Progress.Restored);
        using var client = await cyrus.ConnectAsync(cyrus.Alice, cancel.Token);
        var back = await client.GetFolderAsync("INBOX/" + name, cancel.Token);
        await back.OpenAsync(FolderAccess.ReadOnly, cancel.Token);
        var summary = Assert.Single(await back.FetchAsync(0, -1, MessageSummaryItems.InternalDate | MessageSummaryItems.EmailId, cancel.Token));
        Assert.Equal(emailId, summary.EmailId);
        Assert.Equal(imported, summary.InternalDate);
    }
}
