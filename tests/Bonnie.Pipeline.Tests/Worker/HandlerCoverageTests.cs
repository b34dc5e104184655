using Bonnie.Pipeline.Tests.Storage;
using Bonnie.Pipeline.Worker;
using Bonnie.Pipeline.Worker.Handlers;
using Bonnie.Pipeline.Worker.Payloads;
using Bonnie.Shared.Cyrus;
using Bonnie.Shared.Events;
using Bonnie.Shared.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bonnie.Pipeline.Tests.Worker;

/// <summary>
/// The histories an officer reads after the Cyrus 3.6 events the other handler tests leave out or touch only in passing:
/// an append, a trash, MailboxModseq, flags cleared and expunges that find nothing, a replayed rename.
/// </summary>
public sealed class HandlerCoverageTests : IAsyncLifetime
{
    private const string Inbox = "sufr9a0wrxwpaaifzy6ge6cu";
    private const string InboxName = "user/alice@example.org";
    private const string Archive = "oe16bupldlr2b7ax2w5twkwq";
    private const string ArchiveName = "user/alice/Archive@example.org";
    private const string Temp = "me1de6rfcjp143mbleivr07x";
    private const string AliceSession = "cyrus-1795951230-11919-1-18047406984012349348";
    private const string FirstMessage = "M743974037cbef97becd11ce5";
    private TestPipeline _p = null!;

    public async Task InitializeAsync() => _p = await TestPipeline.CreateAsync();

    public async Task DisposeAsync() => await _p.DisposeAsync();

    private async Task<List<string>> HistoryAsync(ObjectKind kind, string id)
        => (await _p.Store.GetChangesAsync(kind, id)).Select(c => $"{Fixture.Describe(c)} [in {c.FolderName}]").ToList();

    private static string Id(string json) => TestPipeline.JobFor(json).Id;

    /// <summary>The third INBOX message, the one MessageTrash.json marks deleted (its delivery was not captured: made from the first's).</summary>
    private static string ThirdDelivery() => Fixture.Edit(Fixture.Event("MessageNew"),
        ("UID=1\"", "UID=3\""),
        ("179595122889.12822.11728137019898957721", "179595122896.12822.3467875077078602645"),
        (FirstMessage, "M0000000000000000000000c3"),
        ("11:20:28.951Z", "11:20:29.200Z"));

    /// <summary>The real MailboxModseq (which carries no modseq of its own in the capture) with one, at another moment.</summary>
    private static string Modseq(long modseq, string at) => Fixture.Edit(Fixture.Event("MailboxModseq"),
        ("\"pid\":12863,", $"\"modseq\":{modseq},\"pid\":12863,"), ("11:20:28.953Z", at));

    private static string ArchiveCreate() => Fixture.Edit(Fixture.Event("MailboxCreate"), (Inbox, Archive),
        ("user/alice%40example.org;UIDVALIDITY=1795951197", "user/alice/Archive%40example.org;UIDVALIDITY=1795951233"),
        ("11:19:56.732Z", "11:20:33.000Z"));

    private static string ArchiveModseq(string acl, string at) => Fixture.Edit(Fixture.Event("MailboxModseq"), (Inbox, Archive),
        ("user/alice%40example.org;UIDVALIDITY=1795951197", "user/alice/Archive%40example.org;UIDVALIDITY=1795951233"),
        ("alice@example.org\\tlrswipkxtecdan\\t", acl), ("11:20:28.953Z", at));

    // ---- 1. MessageAppend

    [Fact]
    public async Task MessageAppend_HistoryOfTheAppendedMessage_PlaceFlagsAndExistence_ByWhomWhenAndWhichEvent()
    {
        var append = Fixture.Event("MessageAppend");
        await _p.RunAllAsync(append);

        // Cyrus spells \seen in lower case on APPEND; the history uses RFC 3501's spelling, as every other event's.
        var at = "2026-11-29T11:20:38.1290000Z";
        var by = "by alice@example.org (imap)";
        Assert.Equal(
            [
                $"Existence absent -> present | in - uid - | {by} | at {at} | event {Id(append)}",
                $"Location appended - -> {Archive}/1 | in {ArchiveName} uid 1 | {by} | at {at} | event {Id(append)}",
                $"Flag $Label1 unset -> set | in {ArchiveName} uid 1 | {by} | at {at} | event {Id(append)}",
                $"Flag \\Seen unset -> set | in {ArchiveName} uid 1 | {by} | at {at} | event {Id(append)}",
            ],
            (await _p.Store.GetChangesAsync(ObjectKind.Message, "M457461246f06a832b23a5a5c")).Select(Fixture.DescribeFully));
        Assert.All(await _p.Store.GetChangesAsync(ObjectKind.Message, "M457461246f06a832b23a5a5c"),
            c => Assert.Equal(new Actor("alice@example.org", AliceSession, null, "imap"), c.Actor));
        var message = await _p.Store.GetMessageAsync("M457461246f06a832b23a5a5c");
        Assert.True(message!.Exists);
        Assert.Equal("appended via IMAP", message.Subject);
        Assert.Equal(291, message.Size);
        var location = Assert.Single(message.Locations);
        Assert.Equal((LocationOrigin.Appended, (DateTimeOffset?)null), (location.Origin, location.Until));
        // An append adds a message to the folder; the folder itself (first seen here) did not change.
        Assert.Empty(await _p.Store.GetChangesAsync(ObjectKind.Folder, Archive));
    }

    // ---- 2. MessageTrash

    [Fact]
    public async Task MessageTrash_FullHistory_MarksTheMessageDeletedWhereItIs_AndChangesNothingElse()
    {
        var trash = Fixture.Event("MessageTrash");
        await _p.RunAllAsync(Fixture.Event("MailboxCreate"), ThirdDelivery(), trash);

        Assert.Equal(
            [
                $"Existence absent -> present [in ]",
                $"Location delivered - -> {Inbox}/3 [in {InboxName}]",
                $"Flag \\Deleted unset -> set [in {InboxName}]",
            ],
            await HistoryAsync(ObjectKind.Message, "M0000000000000000000000c3"));
        var last = (await _p.Store.GetChangesAsync(ObjectKind.Message, "M0000000000000000000000c3"))[^1];
        Assert.Equal((Id(trash), 3u), (last.EventId, last.Uid));
        // Marked, not removed: the message is still in INBOX (an expunge would end it).
        var message = await _p.Store.GetMessageAsync("M0000000000000000000000c3");
        Assert.True(message!.Exists);
        Assert.Equal(["\\Deleted"], message.CurrentAt(Inbox, 3)!.Flags);
        // The folder's history is its creation only.
        Assert.Equal([$"Existence absent -> present [in {InboxName}]", $"Acl alice@example.org - -> lrswipkxtecdan [in {InboxName}]"],
            await HistoryAsync(ObjectKind.Folder, Inbox));
        var events = await _p.Store.GetEventsForObjectAsync(ObjectKind.Message, "M0000000000000000000000c3", 10);
        Assert.Equal([EventType.MessageNew, EventType.MessageTrash], events.Select(e => e.Type));
    }

    [Fact]
    public async Task MessageTrash_OfAMessageFirstSeenByIt_RecordsTheDeletedFlagOnly()
    {
        await _p.RunAllAsync(Fixture.Event("MessageTrash"));

        // Bonnie did not see it arrive: no arrival is made up, only what the event says happened.
        Assert.Equal([$"Flag \\Deleted unset -> set [in {InboxName}]"],
            await HistoryAsync(ObjectKind.Message, "mid:<179595122896.12822.3467875077078602645@probe.example.org>"));
        Assert.True((await _p.Store.GetMessageAsync("mid:<179595122896.12822.3467875077078602645@probe.example.org>"))!.Exists);
    }

    // ---- 3. MailboxModseq

    [Fact]
    public async Task MailboxModseq_ChangesOnlyTheModseq_AndALowerOneArrivingLateDoesNotLowerIt()
    {
        await _p.RunAllAsync(Fixture.Event("MailboxCreate"));
        var created = await HistoryAsync(ObjectKind.Folder, Inbox);

        await _p.RunAllAsync(Modseq(12, "11:20:40.000Z"));
        Assert.Equal(12, (await _p.Store.GetFolderAsync(Inbox))!.Modseq);
        // Cyrus sends MailboxModseq before the event it belongs to: a lower one processed later is older news.
        await _p.RunAllAsync(Modseq(7, "11:20:41.000Z"));
        Assert.Equal(12, (await _p.Store.GetFolderAsync(Inbox))!.Modseq);
        await _p.RunAllAsync(Modseq(15, "11:20:42.000Z"));
        Assert.Equal(15, (await _p.Store.GetFolderAsync(Inbox))!.Modseq);

        Assert.Equal(created, await HistoryAsync(ObjectKind.Folder, Inbox));
        Assert.True((await _p.Store.GetFolderAsync(Inbox))!.Exists);
        Assert.Equal(3, (await _p.Store.GetEventsForObjectAsync(ObjectKind.Folder, Inbox, 10)).Count(e => e.Type == EventType.MailboxModseq));
    }

    [Fact]
    public async Task MailboxModseq_FirstReadOfAFolder_CyrusOwnSettingsAreKnownNotChanges_ALaterChangeOfOneIsRecorded()
    {
        // Found by a live review: partition, sharedseen and the like appeared on every folder's history as set by
        // whoever's session caused the first MailboxModseq.
        const string vendor = "/shared/vendor/cmu/cyrus-imapd/";
        async Task ReadAsync(string modseqJson, Dictionary<string, string> entries)
        {
            var source = new FixedMetadata(new FolderMetadataRead(
                new Dictionary<string, SortedDictionary<string, string>> { [InboxName] = new(entries, StringComparer.Ordinal) },
                [], new Dictionary<string, string> { [InboxName] = Inbox }));
            var processor = new StoreJobProcessor(_p.Store, [new FolderHandler(), new MessageHandler(), new SessionHandler()],
                new PayloadFetcher([], _p.Payloads, new PayloadOptions(), NullLogger<PayloadFetcher>.Instance),
                TimeProvider.System, NullLogger<StoreJobProcessor>.Instance, metadata: source);
            Assert.IsType<JobOutcome.Done>(await processor.ProcessAsync(TestPipeline.JobFor(modseqJson, attempt: 0)));
        }
        await _p.RunAllAsync(Fixture.Event("MailboxCreate"));
        var before = await HistoryAsync(ObjectKind.Folder, Inbox);

        await ReadAsync(Fixture.Event("MailboxModseq"), new() { [vendor + "partition"] = "default", [vendor + "sharedseen"] = "false", ["/shared/comment"] = "under legal hold" });
        await ReadAsync(Fixture.Edit(Fixture.Event("MailboxModseq"), ("11:20:28.953Z", "11:20:29.953Z")),
            new() { [vendor + "partition"] = "default", [vendor + "sharedseen"] = "true", ["/shared/comment"] = "under legal hold" });

        Assert.Equal(
            [.. before, $"Metadata /shared/comment - -> under legal hold [in {InboxName}]", $"Metadata {vendor}sharedseen false -> true [in {InboxName}]"],
            await HistoryAsync(ObjectKind.Folder, Inbox));
        Assert.Equal("default", (await _p.Store.GetFolderAsync(Inbox))!.Metadata[vendor + "partition"]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task MailboxModseq_WithItsMetadataRead_RecordsTheMetadataOnly_AndDoesNotTeachTheAcl(bool created)
    {
        if (created)
        {
            await _p.RunAllAsync(Fixture.Event("MailboxCreate"));
        }
        var before = await HistoryAsync(ObjectKind.Folder, Inbox);
        var source = new FixedMetadata(new FolderMetadataRead(
            new Dictionary<string, SortedDictionary<string, string>> { [InboxName] = new(StringComparer.Ordinal) { ["/shared/comment"] = "under legal hold" } },
            [], new Dictionary<string, string> { [InboxName] = Inbox }));
        var processor = new StoreJobProcessor(_p.Store, [new FolderHandler(), new MessageHandler(), new SessionHandler()],
            new PayloadFetcher([], _p.Payloads, new PayloadOptions(), NullLogger<PayloadFetcher>.Instance),
            TimeProvider.System, NullLogger<StoreJobProcessor>.Instance, metadata: source);
        var modseq = Fixture.Event("MailboxModseq");

        Assert.IsType<JobOutcome.Done>(await processor.ProcessAsync(TestPipeline.JobFor(modseq, attempt: 0)));

        Assert.Equal([.. before, $"Metadata /shared/comment - -> under legal hold [in {InboxName}]"], await HistoryAsync(ObjectKind.Folder, Inbox));
        Assert.Equal(Id(modseq), (await _p.Store.GetChangesAsync(ObjectKind.Folder, Inbox))[^1].EventId);
        // First seen through its modseq, the folder's ACL stays unknown: the modseq reports the ACL of an event to come.
        Assert.Equal(created ? ["alice@example.org"] : [], (await _p.Store.GetFolderAsync(Inbox))!.Acl.Keys);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task MailboxModseq_BeforeAGrantAndARevoke_OnACreatedFolder_BothRecordedByTheirAclChange(bool oneBatch)
    {
        // Cyrus sends each ACL change's MailboxModseq first, with the ACL as the change left it.
        var grant = Fixture.Event("AclChange");
        var revoke = Fixture.Edit(grant, ("\"aclRights\":\"lrs\",", ""), ("bob@example.org\\tlrs\\t\"", "\""), ("11:20:51.851Z", "11:20:55.000Z"));
        string[] all =
        [
            ArchiveCreate(),
            ArchiveModseq("alice@example.org\\tlrswipkxtecdan\\tbob@example.org\\tlrs\\t", "11:20:51.852Z"), grant,
            ArchiveModseq("alice@example.org\\tlrswipkxtecdan\\t", "11:20:55.001Z"), revoke,
        ];
        if (oneBatch)
        {
            Assert.All(await _p.Processor.ProcessBatchAsync(all.Select(j => TestPipeline.JobFor(j)).ToList()), o => Assert.IsType<JobOutcome.Done>(o));
        }
        else
        {
            await _p.RunAllAsync(all);
        }

        var changes = await _p.Store.GetChangesAsync(ObjectKind.Folder, Archive);
        Assert.Equal(
            [
                $"Existence absent -> present [in {ArchiveName}]", $"Acl alice@example.org - -> lrswipkxtecdan [in {ArchiveName}]",
                $"Acl bob@example.org - -> lrs [in {ArchiveName}]", $"Acl bob@example.org lrs -> - [in {ArchiveName}]",
            ],
            changes.Select(c => $"{Fixture.Describe(c)} [in {c.FolderName}]"));
        // Attributed to the AclChange events (alice's, in her session), not to the modseqs that came before them.
        Assert.Equal([Id(grant), Id(revoke)], changes.Skip(2).Select(c => c.EventId));
        Assert.All(changes.Skip(2), c => Assert.Equal(("alice@example.org", AliceSession), (c.Actor.User, c.Actor.SessionId)));
    }

    // ---- 5. Flags cleared, expunges and replays

    [Fact]
    public async Task FlagsClear_OfAFlagNeverSet_OnAKnownMessage_RecordsNothing()
    {
        await _p.RunAllAsync(Fixture.Event("MailboxCreate"), Fixture.Event("MessageNew"));
        var delivered = await HistoryAsync(ObjectKind.Message, FirstMessage);

        await _p.RunAllAsync(Fixture.Event("FlagsClear"));

        Assert.Equal(delivered, await HistoryAsync(ObjectKind.Message, FirstMessage));
        Assert.Empty((await _p.Store.GetMessageAsync(FirstMessage))!.CurrentAt(Inbox, 1)!.Flags);
    }

    [Fact]
    public async Task FlagsClear_AsTheFirstEventOfAMessage_RecordsThatTheFlagWasSetUntilThen()
    {
        // Cyrus reports a clear only for the messages that had the flag (index.c: modified_flags.removed_flags), so a
        // message first seen through it had \Flagged until now: "unflagged" is what happened, and the history says so.
        var clear = Fixture.Event("FlagsClear");
        await _p.RunAllAsync(clear);

        const string Key = "mid:<179595122889.12822.11728137019898957721@probe.example.org>";
        Assert.Equal([$"Flag \\Flagged set -> unset [in {InboxName}]"], await HistoryAsync(ObjectKind.Message, Key));
        Assert.Equal(Id(clear), Assert.Single(await _p.Store.GetChangesAsync(ObjectKind.Message, Key)).EventId);
        Assert.Empty((await _p.Store.GetMessageAsync(Key))!.CurrentAt(Inbox, 1)!.Flags);
    }

    [Fact]
    public async Task FlagsClear_OfSeveralFlagsOnSeveralMessagesFirstSeen_LearnsNothingItCannotTell()
    {
        // One event lists the flags removed from any of its messages: with two of each, which message lost which is unknown.
        var clear = Fixture.Edit(Fixture.Event("FlagsClear"), ("\"uidset\":\"1\"", "\"uidset\":\"1:2\""),
            ("\"vnd.cmu.midset\":[\"<179595122889.12822.11728137019898957721@probe.example.org>\"]",
                "\"vnd.cmu.midset\":[\"<179595122889.12822.11728137019898957721@probe.example.org>\",\"<179595122895.12822.14042202990968850809@probe.example.org>\"]"),
            ("\"flagNames\":\"\\\\Flagged\"", "\"flagNames\":\"\\\\Flagged $Important\""));
        await _p.RunAllAsync(clear);

        Assert.Empty(await _p.Store.GetChangesAsync(ObjectKind.Message, "mid:<179595122889.12822.11728137019898957721@probe.example.org>"));
        Assert.Empty(await _p.Store.GetChangesAsync(ObjectKind.Message, "mid:<179595122895.12822.14042202990968850809@probe.example.org>"));
        Assert.NotNull(await _p.Store.FindMessageAtAsync(Inbox, 2));
    }

    [Fact]
    public async Task FlagsClear_OfOneFlagOnSeveralMessagesFirstSeen_EachHadIt()
    {
        var clear = Fixture.Edit(Fixture.Event("FlagsClear"), ("\"uidset\":\"1\"", "\"uidset\":\"1:2\""),
            ("\"vnd.cmu.midset\":[\"<179595122889.12822.11728137019898957721@probe.example.org>\"]",
                "\"vnd.cmu.midset\":[\"<179595122889.12822.11728137019898957721@probe.example.org>\",\"<179595122895.12822.14042202990968850809@probe.example.org>\"]"));
        await _p.RunAllAsync(clear);

        Assert.Equal([$"Flag \\Flagged set -> unset [in {InboxName}]"],
            await HistoryAsync(ObjectKind.Message, "mid:<179595122889.12822.11728137019898957721@probe.example.org>"));
        Assert.Equal([$"Flag \\Flagged set -> unset [in {InboxName}]"],
            await HistoryAsync(ObjectKind.Message, "mid:<179595122895.12822.14042202990968850809@probe.example.org>"));
    }

    [Theory]
    [InlineData("2")]
    [InlineData("2:3")]
    public async Task MessageExpunge_OfUidsNeverSeen_EndsNoOtherMessage_AndMakesUpNone(string uidset)
    {
        await _p.RunAllAsync(Fixture.Event("MailboxCreate"), Fixture.Event("MessageNew"));
        var delivered = await HistoryAsync(ObjectKind.Message, FirstMessage);
        var folder = await HistoryAsync(ObjectKind.Folder, Inbox);

        await _p.RunAllAsync(Fixture.Edit(Fixture.Event("MessageExpunge"), ("\"uidset\":\"2\"", $"\"uidset\":\"{uidset}\"")));

        Assert.Equal(delivered, await HistoryAsync(ObjectKind.Message, FirstMessage));
        Assert.Equal(FirstMessage, (await _p.Store.FindMessageAtAsync(Inbox, 1))!.Key);
        Assert.Null(await _p.Store.FindMessageAtAsync(Inbox, 2));
        Assert.Null(await _p.Store.GetMessageAsync("mid:<179595122895.12822.14042202990968850809@probe.example.org>"));
        Assert.Equal(folder, await HistoryAsync(ObjectKind.Folder, Inbox));
    }

    [Fact]
    public async Task MessageExpunge_OfARangeWithOneKnownMessage_EndsThatOneOnly()
    {
        await _p.RunAllAsync(Fixture.Event("MailboxCreate"), Fixture.Event("MessageNew"), ThirdDelivery());

        var expunge = Fixture.Edit(Fixture.Event("MessageExpunge"), ("\"uidset\":\"2\"", "\"uidset\":\"1:2\""));
        await _p.RunAllAsync(expunge);

        Assert.Equal($"Location expunged {Inbox}/1 -> - [in {InboxName}]", (await HistoryAsync(ObjectKind.Message, FirstMessage))[^2]);
        Assert.Equal("Existence present -> absent [in ]", (await HistoryAsync(ObjectKind.Message, FirstMessage))[^1]);
        Assert.Equal(2, (await HistoryAsync(ObjectKind.Message, "M0000000000000000000000c3")).Count);
        Assert.True((await _p.Store.GetMessageAsync("M0000000000000000000000c3"))!.Exists);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Replay_OfARename_AfterTheFolderWasRenamedBack_ChangesNothing(bool oneBatch)
    {
        var rename = Fixture.Event("MailboxRename");
        var back = Fixture.Edit(rename,
            ("user/alice/Temp%40example.org", "user/alice/X%40example.org"),
            ("user/alice/Temp2%40example.org", "user/alice/Temp%40example.org"),
            ("user/alice/X%40example.org", "user/alice/Temp2%40example.org"),
            ("11:20:35.044Z", "11:20:35.500Z"));
        if (oneBatch)
        {
            // The broker hands a job out again when its worker was lost: the copy may land in the same batch.
            var outcomes = await _p.Processor.ProcessBatchAsync([TestPipeline.JobFor(rename), TestPipeline.JobFor(back), TestPipeline.JobFor(rename, attempt: 2)]);
            Assert.All(outcomes, o => Assert.IsType<JobOutcome.Done>(o));
        }
        else
        {
            await _p.RunAllAsync(rename, back);
            Assert.IsType<JobOutcome.Done>(await _p.RunAsync(rename, attempt: 2));
        }

        Assert.Equal(
            ["Name user/alice/Temp@example.org -> user/alice/Temp2@example.org [in user/alice/Temp2@example.org]",
                "Name user/alice/Temp2@example.org -> user/alice/Temp@example.org [in user/alice/Temp@example.org]"],
            await HistoryAsync(ObjectKind.Folder, Temp));
        Assert.Equal("user/alice/Temp@example.org", (await _p.Store.GetFolderAsync(Temp))!.Name);
    }

    private sealed class FixedMetadata(FolderMetadataRead read) : IFolderMetadataSource
    {
        public bool IsConfigured => true;

        public Task<FolderMetadataRead> ReadAsync(IReadOnlyCollection<string> folders, CancellationToken cancellationToken) => Task.FromResult(read);
    }
}
