using Bonnie.Pipeline.Tests.Storage;
using Bonnie.Pipeline.Worker;
using Bonnie.Shared.Storage;
using Xunit.Abstractions;

namespace Bonnie.Pipeline.Tests.Worker;

/// <summary>
/// Renames Cyrus makes without renaming the folders below (RENAME INBOX, into its own subtree, onto an ancestor), names
/// that differ only in case, folders known by name only before their id, and arrivals at a place already taken: each
/// sequence here gave a wrong history before the handlers learned it (a review's findings, 2026-12-06).
/// </summary>
public sealed class HandlerEdgeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private TestPipeline _p = null!;
    private int _pid = 30000;

    public async Task InitializeAsync() => _p = await TestPipeline.CreateAsync();

    public async Task DisposeAsync() => await _p.DisposeAsync();

    private const string Sess = "cyrus-1795951230-11919-1-18047406984012349348";
    private const string Acl = "alice@example.org\\tlrswipkxtecdan\\t";

    private static string U(string name) => name.Replace("@", "%40", StringComparison.Ordinal);

    private static string Ts(int s) => $"2026-11-29T12:{s / 60:00}:{s % 60:00}.000Z";

    private string Create(string id, string name, uint uv, int s, string user = "alice@example.org")
        => $"{{\"event\":\"MailboxCreate\",\"timestamp\":\"{Ts(s)}\",\"service\":\"imap\",\"mailboxID\":\"{id}\",\"uri\":\"imap://imap.example.org/{U(name)};UIDVALIDITY={uv}\",\"pid\":{_pid++},\"user\":\"{user}\",\"vnd.cmu.mbtype\":\"e\",\"serverFQDN\":\"imap.example.org\",\"vnd.cmu.mailboxACL\":\"{Acl}\",\"vnd.cmu.sessionId\":\"{Sess}\"}}";

    private string New(string id, string name, uint uv, uint uid, string emailId, string mid, int s, string user = "alice@example.org")
        => $"{{\"event\":\"MessageNew\",\"timestamp\":\"{Ts(s)}\",\"service\":\"lmtp\",\"mailboxID\":\"{id}\",\"uri\":\"imap://imap.example.org/{U(name)};UIDVALIDITY={uv}/;UID={uid}\",\"modseq\":2,\"uidnext\":{uid + 1},\"vnd.cmu.midset\":[\"{mid}\"],\"pid\":{_pid++},\"user\":\"{user}\",\"messageSize\":567,\"vnd.cmu.mbtype\":\"e\",\"serverFQDN\":\"imap.example.org\",\"vnd.cmu.mailboxACL\":\"{Acl}\",\"vnd.cmu.sessionId\":\"cyrus-lmtp-{s}\",\"vnd.cmu.emailid\":\"{emailId}\",\"vnd.cmu.threadid\":\"NIL\"}}";

    private string CopyOrMove(bool move, string srcName, uint srcUv, uint oldUid, string dstId, string dstName, uint dstUv, uint uid, string mid, int s)
        => $"{{\"event\":\"vnd.cmu.Message{(move ? "Move" : "Copy")}\",\"timestamp\":\"{Ts(s)}\",\"service\":\"imap\",\"oldMailboxID\":\"imap://imap.example.org/{U(srcName)};UIDVALIDITY={srcUv}\",\"vnd.cmu.oldUidset\":\"{oldUid}\",\"mailboxID\":\"{dstId}\",\"uri\":\"imap://imap.example.org/{U(dstName)};UIDVALIDITY={dstUv}\",\"modseq\":3,\"uidnext\":{uid + 1},\"uidset\":\"{uid}\",\"vnd.cmu.midset\":[\"{mid}\"],\"pid\":{_pid++},\"user\":\"alice@example.org\",\"vnd.cmu.mbtype\":\"e\",\"serverFQDN\":\"imap.example.org\",\"vnd.cmu.mailboxACL\":\"{Acl}\",\"vnd.cmu.sessionId\":\"{Sess}\"}}";

    private string Uids(string type, string id, string name, uint uv, string uidset, string mids, int s, string extra = "")
        => $"{{\"event\":\"{type}\",\"timestamp\":\"{Ts(s)}\",\"service\":\"imap\",\"mailboxID\":\"{id}\",\"uri\":\"imap://imap.example.org/{U(name)};UIDVALIDITY={uv}\",\"modseq\":9,\"uidset\":\"{uidset}\",\"vnd.cmu.midset\":[{mids}],{extra}\"pid\":{_pid++},\"user\":\"alice@example.org\",\"vnd.cmu.mbtype\":\"e\",\"serverFQDN\":\"imap.example.org\",\"vnd.cmu.mailboxACL\":\"{Acl}\",\"vnd.cmu.sessionId\":\"{Sess}\"}}";

    private string Rename(string oldName, string id, string newName, uint uv, int s, string user = "alice@example.org")
        => $"{{\"event\":\"MailboxRename\",\"timestamp\":\"{Ts(s)}\",\"service\":\"imap\",\"oldMailboxID\":\"imap://imap.example.org/{U(oldName)};UIDVALIDITY={uv}\",\"mailboxID\":\"{id}\",\"uri\":\"imap://imap.example.org/{U(newName)};UIDVALIDITY={uv}\",\"pid\":{_pid++},\"user\":\"{user}\",\"vnd.cmu.mbtype\":\"e\",\"serverFQDN\":\"imap.example.org\",\"vnd.cmu.mailboxACL\":\"{Acl}\",\"vnd.cmu.sessionId\":\"{Sess}\"}}";

    private string Delete(string id, string name, uint uv, int s)
        => $"{{\"event\":\"MailboxDelete\",\"timestamp\":\"{Ts(s)}\",\"service\":\"imap\",\"mailboxID\":\"{id}\",\"uri\":\"imap://imap.example.org/{U(name)};UIDVALIDITY={uv}\",\"pid\":{_pid++},\"user\":\"alice@example.org\",\"vnd.cmu.mbtype\":\"e\",\"serverFQDN\":\"imap.example.org\",\"vnd.cmu.mailboxACL\":\"{Acl}\",\"vnd.cmu.sessionId\":\"{Sess}\"}}";

    private const string InboxId = "inbox000000000000000000001";
    private const string Inbox = "user/alice@example.org";
    private const string ArchId = "arch0000000000000000000001";
    private const string Arch = "user/alice/Archive@example.org";
    private const string Mid = "<m1@example.org>";
    private const string Em = "M000000000000000000000001";

    private async Task<List<string>> H(ObjectKind kind, string id)
    {
        var list = (await _p.Store.GetChangesAsync(kind, id)).Select(c => Fixture.Describe(c) + $"  [in {c.FolderName} at {c.At:HH:mm:ss}]").ToList();
        output.WriteLine($"--- {kind} {id}");
        list.ForEach(output.WriteLine);
        return list;
    }

    private async Task<string?> NameOf(string id) => (await _p.Store.GetFolderAsync(id))?.Name;

    // RENAME INBOX INBOX/Old: Cyrus moves INBOX's messages into a new folder and renames no folder below INBOX
    // (imapd.c cmd_rename: "if this is my inbox, don't do recursive renames"; RFC 3501 6.3.5: inferiors unaffected).
    [Fact]
    public async Task RenameOfInbox_DoesNotRenameTheUsersOtherFolders()
    {
        const string NewId = "inboxold000000000000000001";
        await _p.RunAllAsync(Create(InboxId, Inbox, 100, 0), Create(ArchId, Arch, 200, 1),
            Rename(Inbox, NewId, "user/alice/Old@example.org", 300, 10));
        await H(ObjectKind.Folder, ArchId);
        Assert.Equal(Arch, await NameOf(ArchId));
    }

    // RENAME Work Work/Sub: Cyrus does not rename Work's children ("renaming something inside of something else,
    // don't recursively rename stuff").
    [Fact]
    public async Task RenameIntoOwnSubtree_ChildrenKeepTheirNames()
    {
        const string WorkId = "work000000000000000000001";
        const string ChildId = "workchild0000000000000001";
        await _p.RunAllAsync(Create(WorkId, "user/alice/Work@example.org", 100, 0), Create(ChildId, "user/alice/Work/A@example.org", 200, 1),
            Rename("user/alice/Work@example.org", WorkId, "user/alice/Work/Sub@example.org", 100, 10));
        await H(ObjectKind.Folder, ChildId);
        Assert.Equal("user/alice/Work/A@example.org", await NameOf(ChildId));
    }

    // The reverse: Work/Sub renamed to Work (Work was only a hierarchy level): Work/Sub's children stay.
    [Fact]
    public async Task RenameToOwnAncestorName_ChildrenKeepTheirNames()
    {
        const string SubId = "worksub000000000000000001";
        const string ChildId = "worksubchild0000000000001";
        await _p.RunAllAsync(Create(SubId, "user/alice/Work/Sub@example.org", 100, 0), Create(ChildId, "user/alice/Work/Sub/X@example.org", 200, 1),
            Rename("user/alice/Work/Sub@example.org", SubId, "user/alice/Work@example.org", 100, 10));
        await H(ObjectKind.Folder, ChildId);
        Assert.Equal("user/alice/Work/Sub/X@example.org", await NameOf(ChildId));
    }

    // A folder first seen (by id) through its own rename adopts the stand-in of its old name; a folder created later
    // under the old name (another UIDVALIDITY) is another, empty folder.
    [Fact]
    public async Task RenameAsFirstSight_AdoptsTheStandIn_ANewFolderUnderTheOldNameStartsEmpty()
    {
        const string OldId = "old0000000000000000000001";
        const string NewId = "newold0000000000000000001";
        const string Old = "user/alice/Old@example.org";
        await _p.RunAllAsync(Create(ArchId, Arch, 200, 0),
            CopyOrMove(false, Old, 300, 1, ArchId, Arch, 200, 5, Mid, 10),          // Old known by name only: stand-in
            Rename(Old, OldId, "user/alice/Projects@example.org", 300, 20),       // Old's id seen first here
            Create(NewId, Old, 400, 30));                                          // a new, empty folder called Old
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
        await _p.RunAllAsync(Create(ArchId, Arch, 200, 0),
            CopyOrMove(false, Old, 300, 1, ArchId, Arch, 200, 5, Mid, 10),
            Rename(Old, OldId, "user/alice/Projects@example.org", 300, 20),
            Create(NewId, Old, 400, 30),
            New(NewId, Old, 400, 1, "M000000000000000000000002", "<other@example.org>", 40));
        var fresh = await _p.Store.FindMessageAtAsync(NewId, 1);
        await H(ObjectKind.Message, fresh!.Key);
        Assert.Equal("M000000000000000000000002", fresh.Key);
    }

    // Deleting user/al's INBOX leaves user/alice's folders alone, and a child deleted before stays as it was.
    [Fact]
    public async Task InboxDeleteOfSimilarUser_AndChildAlreadyDeleted()
    {
        await _p.RunAllAsync(Create("al0000000000000000000001", "user/al@example.org", 100, 0, "cyrus"),
            Create("alc000000000000000000001", "user/al/Sub@example.org", 101, 1, "cyrus"),
            Create(ArchId, Arch, 200, 2), Delete("alc000000000000000000001", "user/al/Sub@example.org", 101, 3),
            Delete("al0000000000000000000001", "user/al@example.org", 100, 10));
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
        await _p.RunAllAsync(Create(ArchId, Arch, 200, 0),
            CopyOrMove(false, Acme, 500, 1, ArchId, Arch, 200, 5, Mid, 10),
            Rename("user/alice/Projects@example.org", ParentId, "user/alice/Clients@example.org", 400, 20),
            Uids("FlagsSet", AcmeId, NewAcme, 500, "1", $"\"{Mid}\"", 30, "\"flagNames\":\"\\\\Flagged\","),
            Uids("MessageExpunge", AcmeId, NewAcme, 500, "1", $"\"{Mid}\"", 40));
        var m = await _p.Store.GetMessageAsync("mid:" + Mid);
        await H(ObjectKind.Message, m!.Key);
        // Expunged from Acme: only the copy in Archive is current.
        Assert.Equal([$"{ArchId}/5"], m.Locations.Where(l => l.Until is null).Select(l => l.Address));
        Assert.Single((await _p.Store.ExistingFoldersNamedAsync(NewAcme)));
    }

    // Cyrus names are case-sensitive: Work and work are two folders. Renaming Work renames only Work's children.
    [Fact]
    public async Task RenameOfWork_DoesNotRenameChildrenOfLowercaseWork()
    {
        await _p.RunAllAsync(Create("w00000000000000000000001", "user/alice/Work@example.org", 100, 0),
            Create("w00000000000000000000002", "user/alice/Work/A@example.org", 101, 1),
            Create("w00000000000000000000003", "user/alice/work@example.org", 102, 2),
            Create("w00000000000000000000004", "user/alice/work/B@example.org", 103, 3),
            Rename("user/alice/Work@example.org", "w00000000000000000000001", "user/alice/Job@example.org", 100, 10));
        Assert.Equal("user/alice/Job/A@example.org", await NameOf("w00000000000000000000002"));
        Assert.Equal("user/alice/work/B@example.org", await NameOf("w00000000000000000000004"));
    }

    // An arrival at a place another message arrived at (the folder's UIDs started again): a message of its own, not merged.
    [Fact]
    public async Task ArrivalAtPlaceOfADeliveredMessage_UidValidityChanged_IsNotMerged()
    {
        await _p.RunAllAsync(Create(InboxId, Inbox, 100, 0), New(InboxId, Inbox, 100, 1, Em, Mid, 10));
        // The mailbox is reset (reconstruct / restore: new UIDVALIDITY, same id); a different message gets UID 1.
        await _p.RunAllAsync(New(InboxId, Inbox, 200, 1, "M000000000000000000000002", "<other@example.org>", 20));
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

internal static class FolderLookupTestExtensions
{
    /// <summary>Every existing folder called <paramref name="name"/>: two would mean a stand-in was left beside its real folder.</summary>
    public static async Task<IReadOnlyList<FolderObject>> ExistingFoldersNamedAsync(this Bonnie.Pipeline.Storage.Embedded.EmbeddedStore store, string name)
    {
        var parent = name[..name.LastIndexOf('/')] + name[name.LastIndexOf('@')..];
        return (await store.FindFoldersBelowAsync(parent)).Where(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase)).ToList();
    }
}
