using Bonnie.Pipeline.Tests.Storage;
using Bonnie.Pipeline.Worker;
using Bonnie.Shared.Events;
using Bonnie.Shared.Storage;
using Xunit.Abstractions;

namespace Bonnie.Pipeline.Tests.Worker;

/// <summary>
/// What a message's and a folder's history must say after the sequences Cyrus 3.6 really sends, notifications built
/// in its format: moves and copies, renames of a parent, a user deleted, folders first seen by a copy out of them
/// (Bonnie deployed on a running server), messages without a Message-ID; and the renames Cyrus makes without renaming
/// the folders below (RENAME INBOX, into its own subtree, onto an ancestor), names that differ only in case, and
/// arrivals at a place already taken, each of which gave a wrong history before (a review's findings, 2026-12-06).
/// </summary>
public sealed class HandlerIdentityTests(ITestOutputHelper output) : IAsyncLifetime
{
    private TestPipeline _p = null!;

    public async Task InitializeAsync() => _p = await TestPipeline.CreateAsync();

    public async Task DisposeAsync() => await _p.DisposeAsync();

    private readonly Cyrus36Notifications _n = new();

    private const string InboxId = "inbox000000000000000000001";
    private const string Inbox = "user/alice@example.org";
    private const string ArchId = "arch0000000000000000000001";
    private const string Arch = "user/alice/Archive@example.org";
    private const string TrashId = "trash000000000000000000001";
    private const string Trash = "user/alice/Trash@example.org";
    private const string Mid = "<m1@example.org>";
    private const string Em = "M000000000000000000000001";

    private async Task<List<string>> H(ObjectKind kind, string id)
    {
        var list = (await _p.Store.GetChangesAsync(kind, id)).Select(c => Fixture.Describe(c) + $"  [in {c.FolderName}]").ToList();
        output.WriteLine($"--- {kind} {id}");
        foreach (var l in list)
        {
            output.WriteLine(l);
        }
        return list;
    }
    [Fact]
    public async Task MoveTwiceThenExpunge()
    {
        await _p.RunAllAsync(_n.Create(InboxId, Inbox, 100, 0), _n.Create(ArchId, Arch, 200, 1), _n.Create(TrashId, Trash, 300, 2),
            _n.New(InboxId, Inbox, 100, 1, Em, Mid, 10),
            _n.CopyOrMove(true, Inbox, 100, 1, ArchId, Arch, 200, 1, Mid, 20), _n.Uids("MessageExpunge", InboxId, Inbox, 100, "1", $"\"{Mid}\"", 20),
            _n.CopyOrMove(true, Arch, 200, 1, TrashId, Trash, 300, 1, Mid, 30), _n.Uids("MessageExpunge", ArchId, Arch, 200, "1", $"\"{Mid}\"", 30),
            _n.Uids("MessageExpunge", TrashId, Trash, 300, "1", $"\"{Mid}\"", 40));
        var h = await H(ObjectKind.Message, Em);
        Assert.Equal(
            [
                "Existence absent -> present", $"Location delivered - -> {InboxId}/1", $"Location moved {InboxId}/1 -> {ArchId}/1",
                $"Location moved {ArchId}/1 -> {TrashId}/1", $"Location expunged {TrashId}/1 -> -", "Existence present -> absent",
            ],
            h.Select(x => x[..x.IndexOf("  [", StringComparison.Ordinal)]));
    }

    [Fact]
    public async Task CopyThenMoveOfTheCopy()
    {
        await _p.RunAllAsync(_n.Create(InboxId, Inbox, 100, 0), _n.Create(ArchId, Arch, 200, 1), _n.Create(TrashId, Trash, 300, 2),
            _n.New(InboxId, Inbox, 100, 1, Em, Mid, 10),
            _n.CopyOrMove(false, Inbox, 100, 1, ArchId, Arch, 200, 5, Mid, 20),
            _n.CopyOrMove(true, Arch, 200, 5, TrashId, Trash, 300, 1, Mid, 30), _n.Uids("MessageExpunge", ArchId, Arch, 200, "5", $"\"{Mid}\"", 30));
        var h = await H(ObjectKind.Message, Em);
        Assert.Equal(
            [
                "Existence absent -> present", $"Location delivered - -> {InboxId}/1", $"Location copied - -> {ArchId}/5",
                $"Location moved {ArchId}/5 -> {TrashId}/1",
            ],
            h.Select(x => x[..x.IndexOf("  [", StringComparison.Ordinal)]));
    }

    [Fact]
    public async Task FlagsOnMessageInRenamedFolder_RecordsFolderNameThen()
    {
        await _p.RunAllAsync(_n.Create(ArchId, Arch, 200, 1), _n.New(ArchId, Arch, 200, 1, Em, Mid, 10),
            _n.Rename(Arch, ArchId, "user/alice/Old@example.org", 200, 20),
            _n.Uids("FlagsSet", ArchId, "user/alice/Old@example.org", 200, "1", $"\"{Mid}\"", 30, "\"flagNames\":\"\\\\Flagged\","));
        var h = await H(ObjectKind.Message, Em);
        Assert.Equal("Flag \\Flagged unset -> set  [in user/alice/Old@example.org]", h[^1]);
    }

    [Fact]
    public async Task ParentRename_ChildFollows_AndMoveFromChildKeepsOneHistory()
    {
        const string ParentId = "parent00000000000000000001";
        const string ChildId = "child000000000000000000001";
        // Cyrus 3.6 renames the children without a notification of their own (imapd.c renmbox: "don't notify implied rename").
        await _p.RunAllAsync(_n.Create(ArchId, Arch, 200, 1), _n.Create(ParentId, "user/alice/Projects@example.org", 400, 2),
            _n.Create(ChildId, "user/alice/Projects/Acme@example.org", 500, 3),
            _n.New(ChildId, "user/alice/Projects/Acme@example.org", 500, 1, Em, Mid, 10),
            _n.Rename("user/alice/Projects@example.org", ParentId, "user/alice/Clients@example.org", 400, 20),
            _n.CopyOrMove(true, "user/alice/Clients/Acme@example.org", 500, 1, ArchId, Arch, 200, 1, Mid, 30),
            _n.Uids("MessageExpunge", ChildId, "user/alice/Clients/Acme@example.org", 500, "1", $"\"{Mid}\"", 30));
        var child = await _p.Store.GetFolderAsync(ChildId);
        Assert.Contains("Name user/alice/Projects/Acme@example.org -> user/alice/Clients/Acme@example.org",
            (await H(ObjectKind.Folder, ChildId)).Select(x => x[..x.IndexOf("  [", StringComparison.Ordinal)]));
        var h = await H(ObjectKind.Message, Em);
        var other = await _p.Store.GetMessageAsync("mid:" + Mid);
        Assert.Equal("user/alice/Clients/Acme@example.org", child!.Name);
        Assert.Null(other);
        Assert.Equal($"Location moved {ChildId}/1 -> {ArchId}/1", h[^1][..h[^1].IndexOf("  [", StringComparison.Ordinal)]);
    }

    [Fact]
    public async Task FolderRenamedTwiceThenDeleted()
    {
        await _p.RunAllAsync(_n.Create(ArchId, Arch, 200, 1), _n.New(ArchId, Arch, 200, 1, Em, Mid, 10),
            _n.Rename(Arch, ArchId, "user/alice/A2@example.org", 200, 20),
            _n.Rename("user/alice/A2@example.org", ArchId, "user/alice/A3@example.org", 200, 30),
            _n.Delete(ArchId, "user/alice/A3@example.org", 200, 40));
        var f = await H(ObjectKind.Folder, ArchId);
        var m = await H(ObjectKind.Message, Em);
        Assert.Equal(
            [
                "Existence absent -> present", "Acl alice@example.org - -> lrswipkxtecdan",
                $"Name {Arch} -> user/alice/A2@example.org", "Name user/alice/A2@example.org -> user/alice/A3@example.org", "Existence present -> absent",
            ],
            f.Select(x => x[..x.IndexOf("  [", StringComparison.Ordinal)]));
        Assert.Equal($"Location folder-deleted {ArchId}/1 -> -  [in user/alice/A3@example.org]", m[^2]);
    }

    [Fact]
    public async Task AclGrant_OnFolderFirstSeenByTheGrant_IsRecorded()
    {
        // A folder created before Bonnie was deployed: the first event Bonnie sees of it is alice granting bob.
        await _p.RunAllAsync(Fixture.Event("AclChange"));
        var h = await H(ObjectKind.Folder, "oe16bupldlr2b7ax2w5twkwq");
        Assert.Contains("Acl bob@example.org - -> lrs  [in user/alice/Archive@example.org]", h);
    }

    [Fact]
    public async Task AclGrant_AfterTheModseqThatCameBeforeIt_IsRecorded()
    {
        // Cyrus sends the grant's MailboxModseq first, carrying the ACL as the grant left it (bob already in it).
        var modseq = Fixture.Edit(Fixture.Event("MailboxModseq"), ("sufr9a0wrxwpaaifzy6ge6cu", "oe16bupldlr2b7ax2w5twkwq"),
            ("user/alice%40example.org;UIDVALIDITY=1795951197", "user/alice/Archive%40example.org;UIDVALIDITY=1795951233"),
            ("alice@example.org\\tlrswipkxtecdan\\t", "alice@example.org\\tlrswipkxtecdan\\tbob@example.org\\tlrs\\t"),
            ("11:20:28.953Z", "11:20:51.852Z"));
        await _p.RunAllAsync(modseq, Fixture.Event("AclChange"));
        var h = await H(ObjectKind.Folder, "oe16bupldlr2b7ax2w5twkwq");
        Assert.Contains("Acl bob@example.org - -> lrs  [in user/alice/Archive@example.org]", h);
        Assert.DoesNotContain(h, c => c.StartsWith("Acl alice", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unsubscribe_AsTheFirstEventOfAFolder_IsRecorded()
    {
        await _p.RunAllAsync(Fixture.Event("MailboxUnSubscribe"));
        var e = Assert.Single((await _p.Store.SearchEventsAsync(new Bonnie.Shared.Search.EventSearch
        {
            Query = Bonnie.Shared.Search.QueryParser.Parse("event:MailboxUnSubscribe"),
        })).Items);
        var h = await H(ObjectKind.Folder, e.FolderId!);
        Assert.Equal([$"Subscription {e.User} subscribed -> unsubscribed"], h.Select(x => x[..x.IndexOf("  [", StringComparison.Ordinal)]));
    }

    [Fact]
    public async Task AclGrantRevokeGrant_SameIdentifier()
    {
        var revoke = Fixture.Edit(Fixture.Event("AclChange"), ("\"aclRights\":\"lrs\",", ""), ("bob@example.org\\tlrs\\t\"", "\""), ("11:20:51.851Z", "11:20:52.000Z"));
        var regrant = Fixture.Edit(Fixture.Event("AclChange"), ("\"aclRights\":\"lrs\"", "\"aclRights\":\"lr\""), ("bob@example.org\\tlrs\\t\"", "bob@example.org\\tlr\\t\""), ("11:20:51.851Z", "11:20:53.000Z"));
        await _p.RunAllAsync(Fixture.Event("MailboxSubscribe"), Fixture.Event("AclChange"), revoke, regrant);
        var h = await H(ObjectKind.Folder, "oe16bupldlr2b7ax2w5twkwq");
        Assert.Equal(["Acl bob@example.org - -> lrs", "Acl bob@example.org lrs -> -", "Acl bob@example.org - -> lr"],
            h.Where(x => x.StartsWith("Acl bob", StringComparison.Ordinal)).Select(x => x[..x.IndexOf("  [", StringComparison.Ordinal)]));
    }

    [Fact]
    public async Task Replay_OfAnEarlierFlagsSet_AfterItsClear_ChangesNothing()
    {
        await _p.RunAllAsync(Fixture.Event("MailboxCreate"), Fixture.Event("MessageNew"), Fixture.Event("FlagsSet"), Fixture.Event("FlagsClear"));
        var before = await H(ObjectKind.Message, "M743974037cbef97becd11ce5");
        Assert.IsType<JobOutcome.Done>(await _p.RunAsync(Fixture.Event("FlagsSet"), attempt: 2));
        var after = await H(ObjectKind.Message, "M743974037cbef97becd11ce5");
        Assert.Equal(before, after);
        var m = await _p.Store.GetMessageAsync("M743974037cbef97becd11ce5");
        Assert.DoesNotContain("\\Flagged", m!.Locations[0].Flags);
    }

    [Fact]
    public async Task UnknownMessagesWithoutMessageId_AreNotMergedIntoOne()
    {
        // Two different messages (uid 5 and 6) that arrived before Bonnie, both without a Message-ID (Cyrus sends NIL).
        await _p.RunAllAsync(
            _n.Uids("FlagsSet", InboxId, Inbox, 100, "5", "\"NIL\"", 10, "\"flagNames\":\"\\\\Flagged\","),
            _n.Uids("FlagsSet", InboxId, Inbox, 100, "6", "\"NIL\"", 11, "\"flagNames\":\"\\\\Flagged\","));
        var a = await _p.Store.FindMessageAtAsync(InboxId, 5);
        var b = await _p.Store.FindMessageAtAsync(InboxId, 6);
        Assert.NotEqual(a!.Key, b!.Key);
    }

    [Fact]
    public async Task UserInboxDeleted_ChildFoldersAndTheirMessagesEndToo()
    {
        // DELETE user/alice (admin) deletes every folder of alice; Cyrus notifies only user/alice (imapd.c delmbox passes no event).
        await _p.RunAllAsync(_n.Create(InboxId, Inbox, 100, 0), _n.Create(ArchId, Arch, 200, 1), _n.New(ArchId, Arch, 200, 1, Em, Mid, 10),
            _n.Delete(InboxId, Inbox, 100, 20));
        var arch = await _p.Store.GetFolderAsync(ArchId);
        Assert.False(arch!.Exists);
        Assert.False((await _p.Store.GetMessageAsync(Em))!.Exists);
        Assert.Contains($"Location folder-deleted {ArchId}/1 -> -  [in {Arch}]", await H(ObjectKind.Message, Em));
        Assert.Contains("Existence present -> absent", (await H(ObjectKind.Folder, ArchId)).Select(x => x[..x.IndexOf("  [", StringComparison.Ordinal)]));
    }

    [Fact]
    public async Task CopyProcessedBeforeTheSourceDelivery_OneHistory()
    {
        // Different lanes (source in another owner's or a shared folder) or a postponed delivery: the copy comes first.
        await _p.RunAllAsync(Fixture.Event("MailboxCreate"), Fixture.Event("vnd.cmu.MessageCopy"), Fixture.Event("MessageNew"));
        var atInbox = await _p.Store.FindMessageAtAsync("sufr9a0wrxwpaaifzy6ge6cu", 1);
        var atArchive = await _p.Store.FindMessageAtAsync("oe16bupldlr2b7ax2w5twkwq", 2);
        // One message at both places, its delivery and its copy in one history; no second message for the delivery.
        Assert.Equal(atInbox!.Key, atArchive!.Key);
        // Its GUID, what Cyrus and every IMAP client call it, finds it (the API's /api/messages/M…/history gave 404):
        // stored under it is only a pointer, with no place and no change of its own.
        var pointer = await _p.Store.GetMessageAsync("M743974037cbef97becd11ce5");
        Assert.Equal(atInbox.Key, pointer!.SameAs);
        Assert.Empty(pointer.Locations);
        Assert.Empty(await _p.Store.GetChangesAsync(ObjectKind.Message, "M743974037cbef97becd11ce5"));
        Assert.Equal(atInbox.Key, (await MessageHistory.ResolveAsync(_p.Store, "M743974037cbef97becd11ce5"))!.Key);
        var h = await H(ObjectKind.Message, atInbox.Key);
        Assert.Contains("Location delivered - -> sufr9a0wrxwpaaifzy6ge6cu/1", h.Select(x => x[..x.IndexOf("  [", StringComparison.Ordinal)]));
        Assert.Contains("Location copied - -> oe16bupldlr2b7ax2w5twkwq/2", h.Select(x => x[..x.IndexOf("  [", StringComparison.Ordinal)]));
        Assert.Equal("M743974037cbef97becd11ce5", (await _p.Store.GetMessageAsync(atInbox.Key))!.EmailId);
    }

    [Fact]
    public async Task CopyBeforeItsDelivery_ThenTheSameGuidDeliveredToBob_OneMessage()
    {
        // One LMTP transaction to alice and bob: one GUID. Alice's copy out of INBOX is processed before her delivery
        // (another lane), so her delivery joins the copy's sighting, keyed by Message-ID. Bob's delivery must find that
        // message although it is not stored under the email id: before, it became a second message.
        const string bobInboxId = "bobinbox00000000000000001";
        const string bobInbox = "user/bob@example.org";
        await _p.RunAllAsync(_n.Create(InboxId, Inbox, 100, 0), _n.Create(ArchId, Arch, 200, 1),
            _n.CopyOrMove(false, Inbox, 100, 1, ArchId, Arch, 200, 1, Mid, 20),
            _n.New(InboxId, Inbox, 100, 1, Em, Mid, 10),
            _n.Create(bobInboxId, bobInbox, 300, 2, user: "bob@example.org"),
            _n.New(bobInboxId, bobInbox, 300, 7, Em, Mid, 10, user: "bob@example.org"));
        var atAlice = await _p.Store.FindMessageAtAsync(InboxId, 1);
        var atBob = await _p.Store.FindMessageAtAsync(bobInboxId, 7);
        Assert.Equal(atAlice!.Key, atBob!.Key);
        Assert.Equal(atAlice.Key, (await _p.Store.GetMessageAsync(Em))!.SameAs);
        Assert.Equal(atAlice.Key, (await MessageHistory.ResolveAsync(_p.Store, Em))!.Key);
        Assert.Equal([$"{ArchId}/1", $"{bobInboxId}/7", $"{InboxId}/1"], atBob.Locations.Where(l => l.Until is null).Select(l => l.Address).Order());
        Assert.Contains($"Location delivered - -> {bobInboxId}/7", (await H(ObjectKind.Message, atBob.Key)).Select(x => x[..x.IndexOf("  [", StringComparison.Ordinal)]));
    }

    [Fact]
    public async Task BobsCopyBeforeHisDelivery_OfAGuidAliceHasAlready_OneMessageWithOneHistory()
    {
        // One LMTP transaction to alice and bob (one GUID). Alice's delivery is processed; bob's copy out of his INBOX
        // is processed before his delivery (postponed, or the copy in another lane), so the copy makes a sighting.
        // Bob's delivery then finds alice's message by its GUID: the sighting must become that message, not stay a
        // second one claiming bob's places.
        const string bobInboxId = "bobinbox00000000000000001";
        const string bobInbox = "user/bob@example.org";
        const string bobArchId = "bobarch000000000000000001";
        const string bobArch = "user/bob/Archive@example.org";
        await _p.RunAllAsync(_n.Create(InboxId, Inbox, 100, 0), _n.Create(bobInboxId, bobInbox, 300, 1, user: "bob@example.org"),
            _n.Create(bobArchId, bobArch, 400, 2, user: "bob@example.org"),
            _n.New(InboxId, Inbox, 100, 1, Em, Mid, 10),
            _n.CopyOrMove(false, bobInbox, 300, 7, bobArchId, bobArch, 400, 1, Mid, 20),
            _n.New(bobInboxId, bobInbox, 300, 7, Em, Mid, 10, user: "bob@example.org"),
            _n.CopyOrMove(true, bobArch, 400, 1, InboxId, Inbox, 100, 2, Mid, 30));
        var m = await _p.Store.GetMessageAsync(Em);
        Assert.Equal(Em, (await _p.Store.FindMessageAtAsync(bobInboxId, 7))!.Key);
        Assert.Equal(Em, (await _p.Store.FindMessageAtAsync(InboxId, 2))!.Key);
        Assert.Equal([$"{bobInboxId}/7", $"{InboxId}/1", $"{InboxId}/2"], m!.Locations.Where(l => l.Until is null).Select(l => l.Address).Order());
        // The sighting points to the message, holds no place, and its records are read as part of the message's history.
        var sighting = await _p.Store.GetMessageAsync("mid:" + Mid);
        Assert.Equal(Em, sighting!.SameAs);
        Assert.Empty(sighting.Locations);
        Assert.Equal(["mid:" + Mid], m.MergedFrom);
        Assert.Equal(Em, (await MessageHistory.ResolveAsync(_p.Store, "mid:" + Mid))!.Key);
        var history = (await MessageHistory.ChangesAsync(_p.Store, m)).Select(Fixture.Describe).ToList();
        output.WriteLine(string.Join("\n", history));
        Assert.Equal(
            [
                "Existence absent -> present", $"Location delivered - -> {InboxId}/1", $"Location delivered - -> {bobInboxId}/7",
                $"Location copied - -> {bobArchId}/1", $"Location moved {bobArchId}/1 -> {InboxId}/2",
            ],
            history);
        var events = await MessageHistory.EventsAsync(_p.Store, m, 100);
        Assert.Equal(["MessageNew", "MessageNew", "MessageCopy", "MessageMove"], events.Select(e => e.Type.ToString()));
    }

    [Fact]
    public async Task ASightingOfTheSameMessageIdWithAnotherGuid_IsNotJoinedByADelivery()
    {
        // The Message-ID alone does not make two deliveries one message: a resent message has the same Message-ID and
        // another GUID.
        const string otherEm = "M000000000000000000000002";
        await _p.RunAllAsync(_n.Create(InboxId, Inbox, 100, 0), _n.Create(ArchId, Arch, 200, 1),
            _n.CopyOrMove(false, Inbox, 100, 1, ArchId, Arch, 200, 1, Mid, 20),
            _n.New(InboxId, Inbox, 100, 1, Em, Mid, 10),
            _n.New(InboxId, Inbox, 100, 2, otherEm, Mid, 30));
        var first = await _p.Store.FindMessageAtAsync(InboxId, 1);
        var second = await _p.Store.FindMessageAtAsync(InboxId, 2);
        Assert.NotEqual(first!.Key, second!.Key);
        Assert.Equal(otherEm, second.Key);
    }

    [Fact]
    public async Task CopyIsFirstEventOfSourceFolder_ThenSourceExpunged_MessageGoneFromSource()
    {
        // Bonnie deployed on a running server: INBOX first appears as a copy's source (3.6 names it by URI, not by id).
        var expungeInbox1 = Fixture.Edit(Fixture.Event("MessageExpunge"), ("\"uidset\":\"2\"", "\"uidset\":\"1\""),
            ("179595122895.12822.14042202990968850809", "179595122889.12822.11728137019898957721"));
        await _p.RunAllAsync(Fixture.Event("vnd.cmu.MessageCopy"), Fixture.Event("FlagsSet"), expungeInbox1);
        var m = await _p.Store.GetMessageAsync("mid:<179595122889.12822.11728137019898957721@probe.example.org>");
        var byName = await _p.Store.FindFolderByNameAsync("user/alice@example.org");
        // The copy named INBOX by URI only; the flags and the expunge by its id: one folder, and the message left it.
        Assert.Equal("sufr9a0wrxwpaaifzy6ge6cu", byName!.Id);
        Assert.Equal(["oe16bupldlr2b7ax2w5twkwq/2"], m!.Locations.Where(l => l.Until is null).Select(l => l.Address));
        Assert.Contains("Location expunged sufr9a0wrxwpaaifzy6ge6cu/1 -> -", (await H(ObjectKind.Message, m.Key)).Select(x => x[..x.IndexOf("  [", StringComparison.Ordinal)]));
        Assert.False((await _p.Store.GetFolderAsync("name:user/alice@example.org"))!.Exists);
        // By its id, INBOX's events include the copy that named it by URI only (found by a review: it was left out).
        var byId = await _p.Store.SearchEventsAsync(new Bonnie.Shared.Search.EventSearch { Query = Bonnie.Shared.Search.QueryParser.Parse("folder:sufr9a0wrxwpaaifzy6ge6cu") });
        Assert.Equal(["FlagsSet", "MessageCopy", "MessageExpunge"], byId.Items.Select(e => e.Type.ToString()).Order());
    }

    [Fact]
    public async Task AfterAPhantomSourceFolder_LaterMovesFromInboxStillFindTheirMessage()
    {
        var second = Fixture.Edit(Fixture.Event("MessageNew"), ("UID=1\"", "UID=2\""),
            ("179595122889.12822.11728137019898957721", "179595122895.12822.14042202990968850809"),
            ("M743974037cbef97becd11ce5", "M00000000000000000000a2a2"), ("11:20:28.951Z", "11:20:29.100Z"));
        // The first event naming INBOX is a copy out of it (Bonnie started after INBOX was created).
        await _p.RunAllAsync(Fixture.Event("vnd.cmu.MessageCopy"), second, Fixture.Event("vnd.cmu.MessageMove"), Fixture.Event("MessageExpunge"));
        await H(ObjectKind.Message, "M00000000000000000000a2a2");
        var other = await _p.Store.GetMessageAsync("mid:<179595122895.12822.14042202990968850809@probe.example.org>");
        var m = await _p.Store.GetMessageAsync("M00000000000000000000a2a2");
        Assert.Null(other);
        Assert.Equal(["oe16bupldlr2b7ax2w5twkwq/3"], m!.Locations.Where(l => l.Until is null).Select(l => l.Address));
    }

    [Fact]
    public async Task Logout_BeforeLogin_SameSessionDuration()
    {
        await _p.RunAllAsync(Fixture.Event("Logout"));
        await _p.RunAllAsync(Fixture.Event("Login"));
        var s = Assert.Single(await _p.Store.GetSessionsForUserAsync("cyrus", 10));
        Assert.Equal(TimeSpan.FromMilliseconds(43), s.Duration);
        Assert.NotNull(s.LoginEventId);
        Assert.NotNull(s.LogoutEventId);
    }

    private async Task<string?> NameOf(string id) => (await _p.Store.GetFolderAsync(id))?.Name;

    // RENAME INBOX INBOX/Old: Cyrus moves INBOX's messages into a new folder and renames no folder below INBOX
    // (imapd.c cmd_rename: "if this is my inbox, don't do recursive renames"; RFC 3501 6.3.5: inferiors unaffected).
    [Fact]
    public async Task RenameOfInbox_DoesNotRenameTheUsersOtherFolders()
    {
        const string NewId = "inboxold000000000000000001";
        await _p.RunAllAsync(_n.Create(InboxId, Inbox, 100, 0), _n.Create(ArchId, Arch, 200, 1),
            _n.Rename(Inbox, NewId, "user/alice/Old@example.org", 300, 10));
        await H(ObjectKind.Folder, ArchId);
        Assert.Equal(Arch, await NameOf(ArchId));
    }

    // Renamed into its own subtree, or onto an ancestor's name (Work was only a hierarchy level), Cyrus renames that
    // one folder only ("renaming something inside of something else, don't recursively rename stuff").
    [Theory]
    [InlineData("user/alice/Work@example.org", "user/alice/Work/Sub@example.org", "user/alice/Work/A@example.org")]
    [InlineData("user/alice/Work/Sub@example.org", "user/alice/Work@example.org", "user/alice/Work/Sub/X@example.org")]
    public async Task RenameIntoOwnSubtreeOrOntoAnAncestor_ChildrenKeepTheirNames(string from, string to, string child)
    {
        const string FolderId = "work000000000000000000001";
        const string ChildId = "workchild0000000000000001";
        await _p.RunAllAsync(_n.Create(FolderId, from, 100, 0), _n.Create(ChildId, child, 200, 1), _n.Rename(from, FolderId, to, 100, 10));
        Assert.Equal(to, await NameOf(FolderId));
        Assert.Equal(child, await NameOf(ChildId));
        Assert.DoesNotContain(await H(ObjectKind.Folder, ChildId), c => c.StartsWith("Name", StringComparison.Ordinal));
    }

    // An administrator renames alice to alicia (the event waits in alicia's lane) while alice's earlier rename of a
    // folder waits in alice's: processed the other way round, the folder still ends under alicia, named as alice left it.
    [Fact]
    public async Task UserRenamedBeforeAnEarlierFolderRenameIsProcessed_FolderEndsUnderTheNewUserWithItsNewName()
    {
        const string ProjId = "proj000000000000000000001";
        const string AcmeId = "acme000000000000000000001";
        await _p.RunAllAsync(_n.Create(InboxId, Inbox, 100, 0), _n.Create(ProjId, "user/alice/Projects@example.org", 200, 1),
            _n.Create(AcmeId, "user/alice/Projects/Acme@example.org", 300, 2));
        var folderRename = _n.Rename("user/alice/Projects@example.org", ProjId, "user/alice/Work@example.org", 200, 20);
        var userRename = _n.Rename(Inbox, InboxId, "user/alicia@example.org", 100, 30, user: "cyrus");

        await _p.RunAllAsync(userRename, folderRename);

        var proj = await _p.Store.GetFolderAsync(ProjId);
        Assert.Equal(("user/alicia/Work@example.org", "alicia@example.org"), (proj!.Name, proj.Owner));
        Assert.Equal("user/alicia/Work/Acme@example.org", await NameOf(AcmeId));
        Assert.Equal(
            ["Name user/alice/Projects@example.org -> user/alicia/Projects@example.org", "Name user/alicia/Projects@example.org -> user/alicia/Work@example.org"],
            (await H(ObjectKind.Folder, ProjId)).Where(c => c.StartsWith("Name", StringComparison.Ordinal)).Select(x => x[..x.IndexOf("  [", StringComparison.Ordinal)]));
    }

    // The later rename renamed the folder itself: the earlier one, processed after it, leaves the later name standing.
    [Fact]
    public async Task FolderRenamedTwice_ProcessedInReverse_TheLaterNameStands()
    {
        const string ProjId = "proj000000000000000000001";
        await _p.RunAllAsync(_n.Create(ProjId, "user/alice/Projects@example.org", 200, 1));
        var first = _n.Rename("user/alice/Projects@example.org", ProjId, "user/alice/Work@example.org", 200, 20);
        var second = _n.Rename("user/alice/Work@example.org", ProjId, "user/alice/Done@example.org", 200, 30);

        await _p.RunAllAsync(second, first);

        Assert.Equal("user/alice/Done@example.org", await NameOf(ProjId));
    }

    // A folder first seen (by id) through its own rename adopts the stand-in of its old name; a folder created later
    // under the old name (another UIDVALIDITY) is another, empty folder.
    [Fact]
    public async Task RenameAsFirstSight_AdoptsTheStandIn_ANewFolderUnderTheOldNameStartsEmpty()
    {
        const string OldId = "old0000000000000000000001";
        const string NewId = "newold0000000000000000001";
        const string Old = "user/alice/Old@example.org";
        await _p.RunAllAsync(_n.Create(ArchId, Arch, 200, 0),
            _n.CopyOrMove(false, Old, 300, 1, ArchId, Arch, 200, 5, Mid, 10),          // Old known by name only: stand-in
            _n.Rename(Old, OldId, "user/alice/Projects@example.org", 300, 20),       // Old's id seen first here
            _n.Create(NewId, Old, 400, 30));                                          // a new, empty folder called Old
        var m = await _p.Store.GetMessageAsync("mid:" + Mid);
        await H(ObjectKind.Message, m!.Key);
        Assert.DoesNotContain(m.Locations, l => l.FolderId == NewId);
        var standIn = await _p.Store.GetFolderAsync("name:" + Old.ToLowerInvariant());
        Assert.Equal(OldId, standIn!.SameAs);
    }


    // Continued: the first delivery into the new folder Old (uid 1) is a message of its own, not the old one's history.
    [Fact]
    public async Task RenameAsFirstSight_ADeliveryIntoTheRecreatedOldNameIsANewMessage()
    {
        const string OldId = "old0000000000000000000001";
        const string NewId = "newold0000000000000000001";
        const string Old = "user/alice/Old@example.org";
        await _p.RunAllAsync(_n.Create(ArchId, Arch, 200, 0),
            _n.CopyOrMove(false, Old, 300, 1, ArchId, Arch, 200, 5, Mid, 10),
            _n.Rename(Old, OldId, "user/alice/Projects@example.org", 300, 20),
            _n.Create(NewId, Old, 400, 30),
            _n.New(NewId, Old, 400, 1, "M000000000000000000000002", "<other@example.org>", 40));
        var fresh = await _p.Store.FindMessageAtAsync(NewId, 1);
        await H(ObjectKind.Message, fresh!.Key);
        Assert.Equal("M000000000000000000000002", fresh.Key);
    }

    // Deleting user/al's INBOX leaves user/alice's folders alone, and a child deleted before stays as it was.
    [Fact]
    public async Task InboxDeleteOfSimilarUser_AndChildAlreadyDeleted()
    {
        await _p.RunAllAsync(_n.Create("al0000000000000000000001", "user/al@example.org", 100, 0, user: "cyrus"),
            _n.Create("alc000000000000000000001", "user/al/Sub@example.org", 101, 1, user: "cyrus"),
            _n.Create(ArchId, Arch, 200, 2), _n.Delete("alc000000000000000000001", "user/al/Sub@example.org", 101, 3),
            _n.Delete("al0000000000000000000001", "user/al@example.org", 100, 10));
        Assert.True((await _p.Store.GetFolderAsync(ArchId))!.Exists);
        var sub = await H(ObjectKind.Folder, "alc000000000000000000001");
        Assert.Single(sub, x => x.StartsWith("Existence present -> absent", StringComparison.Ordinal));
    }

    // A stand-in below a renamed parent is renamed with it while its key stays its first name: the real folder, seen by
    // id under the new name, finds it by that name and adopts it, so the expunge ends the one place the message had.
    [Fact]
    public async Task StandInRenamedWithItsParent_IsAdoptedByTheRealFolder()
    {
        const string ParentId = "parent00000000000000000001";
        const string AcmeId = "acme000000000000000000001";
        const string Acme = "user/alice/Projects/Acme@example.org";
        const string NewAcme = "user/alice/Clients/Acme@example.org";
        await _p.RunAllAsync(_n.Create(ArchId, Arch, 200, 0),
            _n.CopyOrMove(false, Acme, 500, 1, ArchId, Arch, 200, 5, Mid, 10),
            _n.Rename("user/alice/Projects@example.org", ParentId, "user/alice/Clients@example.org", 400, 20),
            _n.Uids("FlagsSet", AcmeId, NewAcme, 500, "1", $"\"{Mid}\"", 30, "\"flagNames\":\"\\\\Flagged\","),
            _n.Uids("MessageExpunge", AcmeId, NewAcme, 500, "1", $"\"{Mid}\"", 40));
        var m = await _p.Store.GetMessageAsync("mid:" + Mid);
        await H(ObjectKind.Message, m!.Key);
        // Expunged from Acme: only the copy in Archive is current.
        Assert.Equal([$"{ArchId}/5"], m.Locations.Where(l => l.Until is null).Select(l => l.Address));
        Assert.Single((await _p.Store.ExistingFoldersNamedAsync(NewAcme)));
    }

    // Cyrus names are case-sensitive: Projects and projects are two folders. Renaming Projects renames only its children.
    [Fact]
    public async Task RenameOfProjects_DoesNotRenameChildrenOfLowercaseProjects()
    {
        await _p.RunAllAsync(_n.Create("w00000000000000000000001", "user/alice/Projects@example.org", 100, 0),
            _n.Create("w00000000000000000000002", "user/alice/Projects/A@example.org", 101, 1),
            _n.Create("w00000000000000000000003", "user/alice/projects@example.org", 102, 2),
            _n.Create("w00000000000000000000004", "user/alice/projects/B@example.org", 103, 3),
            _n.Rename("user/alice/Projects@example.org", "w00000000000000000000001", "user/alice/Job@example.org", 100, 10));
        Assert.Equal("user/alice/Job/A@example.org", await NameOf("w00000000000000000000002"));
        Assert.Equal("user/alice/projects/B@example.org", await NameOf("w00000000000000000000004"));
    }

    // An arrival at a place another message arrived at (the folder's UIDs started again): a message of its own, not merged.
    [Fact]
    public async Task ArrivalAtPlaceOfADeliveredMessage_UidValidityChanged_IsNotMerged()
    {
        await _p.RunAllAsync(_n.Create(InboxId, Inbox, 100, 0), _n.New(InboxId, Inbox, 100, 1, Em, Mid, 10));
        // The mailbox is reset (reconstruct / restore: new UIDVALIDITY, same id); a different message gets UID 1.
        await _p.RunAllAsync(_n.New(InboxId, Inbox, 200, 1, "M000000000000000000000002", "<other@example.org>", 20));
        var first = await _p.Store.GetMessageAsync(Em);
        await H(ObjectKind.Message, Em);
        Assert.NotNull(await _p.Store.GetMessageAsync("M000000000000000000000002"));
        Assert.Equal(Mid, first!.MessageId);
    }

    // Adoption in the same batch as the copy that made the stand-in gives the same result as in separate batches.
    [Fact]
    public async Task AdoptionInTheSameBatchAsTheCopy_SameAsSeparately()
    {
        var jobs = new[] { Fixture.Event("vnd.cmu.MessageCopy"), Fixture.Event("FlagsSet") }.Select(j => TestPipeline.JobFor(j)).ToList();
        var outcomes = await _p.Processor.ProcessBatchAsync(jobs);
        Assert.All(outcomes, o => Assert.IsType<JobOutcome.Done>(o));
        var m = await _p.Store.GetMessageAsync("mid:<179595122889.12822.11728137019898957721@probe.example.org>");
        await H(ObjectKind.Message, m!.Key);
        Assert.DoesNotContain(m.Locations, l => l.FolderId.StartsWith("name:", StringComparison.Ordinal));
        Assert.False((await _p.Store.GetFolderAsync("name:user/alice@example.org"))!.Exists);
    }
}

/// <summary>The same, for the Cyrus 2.5/Kolab dialect, which gives folders no unique id: a folder is known by its name.</summary>
public sealed class HandlerIdentity25Tests(ITestOutputHelper output) : IAsyncLifetime
{
    private TestPipeline _p = null!;

    public async Task InitializeAsync() => _p = await TestPipeline.CreateAsync();

    public async Task DisposeAsync() => await _p.DisposeAsync();

    private const string SamInbox = "name:user/sam.park@example.org";
    private const string Contracts = "name:user/sam.park/projects/contracts@example.org";

    private async Task<List<string>> H(ObjectKind kind, string id)
    {
        var list = (await _p.Store.GetChangesAsync(kind, id)).Select(c => Fixture.Describe(c) + $"  [in {c.FolderName}]").ToList();
        output.WriteLine($"--- {kind} {id}");
        list.ForEach(output.WriteLine);
        return list;
    }

    private static string Ev(string name) => Fixture.Load("events-2.5/" + name + ".json");

    private static string Rename25(string from, string to, string ts)
        => $"{{\"event\": \"MailboxRename\", \"user\": \"sam.park@example.org\", \"service\": \"imap\", \"timestamp\": \"{ts}\", \"oldMailboxID\": \"imap://sam.park@example.org@imap.example.org/{from};UIDVALIDITY=1424000009\", \"uri\": \"imap://sam.park@example.org@imap.example.org/{to};UIDVALIDITY=1424000009\", \"vnd.cmu.sessionId\": \"imap.example.org-3990-1425370800-1\"}}";

    private static string Flags25(string folder, string uid, string ts)
        => $"{{\"event\": \"FlagsSet\", \"flagNames\": \"\\\\Flagged\", \"modseq\": 12, \"pid\": 3990, \"service\": \"imap\", \"timestamp\": \"{ts}\", \"uidset\": \"{uid}\", \"uri\": \"imap://sam.park@example.org@imap.example.org/{folder};UIDVALIDITY=1424000009\", \"user\": \"sam.park@example.org\", \"vnd.cmu.midset\": [\"<c0ffee01.4411@example.net>\"], \"vnd.cmu.sessionId\": \"imap.example.org-3990-1425370800-1\"}}";

    private static string Create25(string folder, string ts)
        => $"{{\"event\": \"MailboxCreate\", \"user\": \"sam.park@example.org\", \"service\": \"imap\", \"timestamp\": \"{ts}\", \"uri\": \"imap://sam.park@example.org@imap.example.org/{folder};UIDVALIDITY=1424000030\"}}";

    [Fact]
    public async Task Deliver_Copy_OneHistory()
    {
        await _p.RunAllAsync(Ev("MessageNew"), Ev("MessageCopy"));
        var m = await _p.Store.FindMessageAtAsync(Contracts, 3);
        var h = await H(ObjectKind.Message, m!.Key);
        Assert.Equal(["Existence absent -> present", $"Location delivered - -> {SamInbox}/12", $"Location copied - -> {Contracts}/3"],
            h.Select(x => x[..x.IndexOf("  [", StringComparison.Ordinal)]));
    }

    [Fact]
    public async Task RenameThenFlags_SameMessage_ThenRecreateOldName_NewFolder()
    {
        await _p.RunAllAsync(Ev("MessageNew"), Create25("Projects/Contracts", "2015-03-03T09:20:00.000+01:00"), Ev("MessageCopy"),
            Rename25("Projects/Contracts", "Projects/Signed", "2015-03-03T09:30:00.000+01:00"),
            Flags25("Projects/Signed", "3", "2015-03-03T09:31:00.000+01:00"),
            Create25("Projects/Contracts", "2015-03-03T09:32:00.000+01:00"));
        var m = await _p.Store.FindMessageAtAsync(SamInbox, 12);
        await H(ObjectKind.Message, m!.Key);
        await H(ObjectKind.Folder, Contracts);
        var signed = await _p.Store.FindFolderByNameAsync("user/sam.park/Projects/Signed@example.org");
        var other = await _p.Store.GetMessageAsync("mid:<c0ffee01.4411@example.net>");
        // The folder keeps its key (its first name) across the rename; the flag found the message there, and the
        // folder created under the old name afterwards is another folder.
        Assert.Contains(m.Locations, l => l.FolderId == Contracts && l.Flags.Contains("\\Flagged"));
        Assert.Null(other);
        Assert.Equal(Contracts, signed!.Id);
        var recreated = await _p.Store.FindFolderByNameAsync("user/sam.park/Projects/Contracts@example.org");
        Assert.NotEqual(Contracts, recreated!.Id);
        Assert.Equal("user/sam.park/Projects/Signed@example.org", (await _p.Store.GetFolderAsync(Contracts))!.Name);
    }
}


internal static class FolderLookupTestExtensions
{
    /// <summary>Every existing folder called <paramref name="name"/>: two would mean a stand-in was left beside its real folder.</summary>
    public static async Task<IReadOnlyList<FolderObject>> ExistingFoldersNamedAsync(this Bonnie.Pipeline.Storage.Embedded.EmbeddedStore store, string name)
    {
        var parent = name[..name.LastIndexOf('/')] + name[name.LastIndexOf('@')..];
        return (await store.FindFoldersBelowAsync(parent)).Where(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase)).ToList();
    }
}
