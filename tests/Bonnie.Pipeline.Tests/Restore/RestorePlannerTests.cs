using Bonnie.Shared.Storage;
using Bonnie.Pipeline.Restore;
using Microsoft.Extensions.Time.Testing;

namespace Bonnie.Pipeline.Tests.Restore;

public sealed class RestorePlannerTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 9, 0, 0, TimeSpan.Zero);
    private ArchiveBuilder _a = null!;
    private RestorePlanner _planner = null!;

    public async Task InitializeAsync()
    {
        _a = await ArchiveBuilder.CreateAsync();
        _planner = new RestorePlanner(_a.Store, _a.Payloads, new FakeTimeProvider(T0.AddDays(30)));
    }

    public async Task DisposeAsync() => await _a.DisposeAsync();

    /// <summary>Records a folder and one message in it as the backfill does: its found event, no change, the server's INTERNALDATE.</summary>
    private async Task<string> BackfillAsync(string folderId, string name, uint uid, DateTimeOffset internalDate)
    {
        var writer = new Bonnie.Pipeline.Backfill.BackfillWriter(_a.Store, new FakeTimeProvider(T0.AddDays(20)));
        var folder = new Bonnie.Pipeline.Backfill.FoundFolder(folderId, name, Bonnie.Pipeline.Restore.CyrusMailboxName.OwnerOf(name), 7,
            new Dictionary<string, string>(), new Dictionary<string, string>());
        await writer.RecordFolderAsync(folder, CancellationToken.None);
        var bytes = System.Text.Encoding.UTF8.GetBytes($"From: a@example.net\r\nSubject: backfilled {uid}\r\nMessage-ID: <{Guid.NewGuid():N}@test>\r\n\r\nbody\r\n");
        var sha = await _a.Payloads.PutAsync(bytes);
        var key = ImapRestorer.EmailIdOf(bytes);
        await writer.RecordMessagesAsync(folder,
            [new Bonnie.Pipeline.Backfill.FoundMessage(key, key, null, bytes.Length, "backfilled", null, uid, ["\\Seen"], Bonnie.Shared.Storage.PayloadStatus.Stored, sha, internalDate)],
            CancellationToken.None);
        return key;
    }

    [Fact]
    public async Task PlanAsync_FolderAndMailboxTheBackfillFound_TheirMailWithItsInternalDate()
    {
        // Found by a review against a real Cyrus: the backfill records no events, and the planner looked only through
        // events, so a backfilled folder's restore was empty and a backfilled mailbox "had no folder"; restored mail was
        // dated the day of the backfill.
        var arrived = T0.AddDays(-40);
        var key = await BackfillAsync("bf1", "user/carol/Archive@example.org", 3, arrived);
        await BackfillAsync("bf0", "user/carol@example.org", 9, arrived.AddDays(1));

        var folder = await _planner.PlanAsync(new RestoreRequest { Scope = RestoreScope.Folder, FolderId = "bf1", DryRun = true });
        var mailbox = await _planner.PlanAsync(new RestoreRequest { Scope = RestoreScope.Mailbox, Mailbox = "carol@example.org", DryRun = true });

        var item = Assert.Single(folder.Items);
        Assert.Equal((key, arrived, "user/carol/Archive@example.org"), (item.MessageKey, item.InternalDate, item.TargetFolder));
        Assert.Equal(["user/carol/Archive@example.org", "user/carol@example.org"], mailbox.Items.Select(i => i.TargetFolder).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Mailbox_FolderDeletedThenOneMadeUnderItsNameHoldingTheSameMail_EachMessageOnce()
    {
        // Found by a review against the real Cyrus: a folder restored after its deletion gets a new id; a mailbox restore
        // then planned both folders into the one name, and put the restored messages in a second time.
        var old = await _a.FolderAsync("old1", "user/dave/Archive@example.org", T0, deleted: T0.AddDays(2));
        var (m1, _) = await _a.MessageAsync(old, 1, "one", T0.AddHours(1), until: T0.AddDays(2), endReason: LocationOrigin.FolderDeleted);
        var (m2, _) = await _a.MessageAsync(old, 2, "two", T0.AddHours(2), until: T0.AddDays(2), endReason: LocationOrigin.FolderDeleted);
        var again = await _a.FolderAsync("new1", "user/dave/Archive@example.org", T0.AddDays(3));
        var batch = new StoreBatch();
        foreach (var (m, uid) in new[] { (m1, 1u), (m2, 2u) })
        {
            var stored = (await _a.Store.GetMessageAsync(m.Key))!;
            stored.Locations.Add(new MessageLocation { FolderId = again.Id, Uid = uid, FolderName = again.Name, Since = T0.AddDays(3), Origin = LocationOrigin.Appended });
            batch.Messages[stored.Key] = stored;
        }
        await _a.Store.CommitAsync(batch);
        var (m3, _) = await _a.MessageAsync(again, 3, "three", T0.AddDays(4));

        var plan = await _planner.PlanAsync(new RestoreRequest { Scope = RestoreScope.Mailbox, Mailbox = "dave@example.org", DryRun = true });

        Assert.Equal(new[] { m1.Key, m2.Key, m3.Key }.Order(StringComparer.Ordinal), plan.Items.Select(i => i.MessageKey).Order(StringComparer.Ordinal));
        Assert.All(plan.Items, i => Assert.Equal("user/dave/Archive@example.org", i.TargetFolder));
    }

    [Theory]
    [InlineData("user/alice//X@example.org", "empty folder name")]
    [InlineData("user/alice/X/@example.org", "empty folder name")]
    [InlineData("user/alice/../bob/X@example.org", "'.' and '..'")]
    [InlineData("user/alice@example.org/../bob", "a domain goes at the end")]
    [InlineData("user/alice/a%b@example.org", "'%', '*'")]
    [InlineData("shared/Board", "not in a user's mailbox")]
    public async Task PlanAsync_TargetFolderCyrusWouldRefuseOrThatReadsLikeAnotherPlace_RefusedBeforeAnythingIsPlanned(string target, string why)
    {
        // Found by a review against the real Cyrus: planned, then failing mid-restore; or folders named ".." created in alice's mailbox.
        var key = await BackfillAsync("bf9", "user/carol/Archive@example.org", 3, T0);

        var ex = await Assert.ThrowsAsync<RestoreSourceException>(() =>
            _planner.PlanAsync(new RestoreRequest { Scope = RestoreScope.Messages, MessageKeys = [key], TargetFolder = target, DryRun = true }));

        Assert.Contains(why, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PlanAsync_MessageKeyOfAMessageLostInOneMailboxAndStillInAnother_RestoredWhereItWasLost()
    {
        // Found by a review: one GUID in alice's and bob's INBOX, alice's expunged; the restore went to bob's INBOX
        // (where it still was, so nothing came back) because it took the latest place.
        var alice = await _a.FolderAsync("ai", "user/alice@example.org", T0);
        var bob = await _a.FolderAsync("bi", "user/bob@example.org", T0);
        var (message, _) = await _a.MessageAsync(alice, 1, "shared", T0.AddHours(1), until: T0.AddHours(3), endReason: "expunged");
        var stored = await _a.Store.GetMessageAsync(message.Key);
        stored!.Locations.Add(new MessageLocation { FolderId = bob.Id, Uid = 5, FolderName = bob.Name, Since = T0.AddHours(2), Origin = LocationOrigin.Delivered });
        var batch = new StoreBatch();
        batch.Messages[stored.Key] = stored;
        await _a.Store.CommitAsync(batch);

        var plan = await _planner.PlanAsync(new RestoreRequest { Scope = RestoreScope.Messages, MessageKeys = [message.Key], DryRun = true });

        Assert.Equal("user/alice@example.org", Assert.Single(plan.Items).TargetFolder);
    }

    [Fact]
    public async Task PlanAsync_FolderAtAMoment_TakesOnlyWhatLivedThereThen()
    {
        var folder = await _a.FolderAsync("f1", "user/alice/Case@example.org", T0);
        var kept = await _a.MessageAsync(folder, 1, "kept", T0.AddHours(1), flags: ["\\Seen", "$Label1", "\\Deleted"]);
        await _a.MessageAsync(folder, 2, "expunged before", T0.AddHours(1), until: T0.AddHours(2), endReason: "expunged");
        await _a.MessageAsync(folder, 3, "arrived after", T0.AddHours(5));

        var plan = await _planner.PlanAsync(new RestoreRequest { Scope = RestoreScope.Folder, FolderId = "f1", At = T0.AddHours(3) });

        var item = Assert.Single(plan.Items);
        Assert.Equal(kept.Message.Key, item.MessageKey);
        Assert.Equal("user/alice/Case@example.org", item.TargetFolder);
        Assert.Equal(["$Label1", "\\Seen"], item.Flags.Order(StringComparer.Ordinal));
        Assert.Equal(T0.AddHours(1), item.InternalDate);
        Assert.Equal(kept.Bytes.Length, plan.TotalBytes);
    }

    [Fact]
    public async Task PlanAsync_DeletedFolderWithoutMoment_TakesItAsItWasJustBeforeDeletion()
    {
        var deletedAt = T0.AddDays(2);
        var folder = await _a.FolderAsync("f2", "user/alice/Gone@example.org", T0, deleted: deletedAt);
        await _a.MessageAsync(folder, 1, "one", T0.AddHours(1), until: deletedAt, endReason: "folder-deleted");
        await _a.MessageAsync(folder, 2, "two", T0.AddHours(2), until: deletedAt, endReason: "folder-deleted");

        var plan = await _planner.PlanAsync(new RestoreRequest { Scope = RestoreScope.Folder, FolderId = "f2", DryRun = true });

        Assert.Equal(2, plan.Items.Count);
        Assert.Equal(deletedAt.AddMilliseconds(-1), plan.At);
        var summary = Assert.Single(plan.Folders);
        Assert.Equal(2, summary.Messages);
    }

    [Fact]
    public async Task PlanAsync_MessageWhoseBytesWereNeverKept_IsListedAsUnrestorable()
    {
        var folder = await _a.FolderAsync("f3", "user/alice@example.org", T0);
        var lost = await _a.MessageAsync(folder, 1, "no payload", T0.AddHours(1), keepPayload: false);

        var plan = await _planner.PlanAsync(new RestoreRequest { Scope = RestoreScope.Messages, MessageKeys = [lost.Message.Key] });

        Assert.Empty(plan.Items);
        Assert.Contains("never kept", Assert.Single(plan.Unrestorable).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PlanAsync_WholeMailboxIntoAnotherFolder_RecreatesTheTreeBeneathIt()
    {
        var inbox = await _a.FolderAsync("i1", "user/bob@example.org", T0);
        var sub = await _a.FolderAsync("s1", "user/bob/Projects/X@example.org", T0);
        await _a.FolderAsync("o1", "user/bobby@example.org", T0);
        await _a.MessageAsync(inbox, 1, "in inbox", T0.AddHours(1));
        await _a.MessageAsync(sub, 1, "in sub", T0.AddHours(1));

        var plan = await _planner.PlanAsync(new RestoreRequest
        {
            Scope = RestoreScope.Mailbox, Mailbox = "bob@example.org", At = T0.AddDays(1), TargetFolder = "user/bob/Restored@example.org",
        });

        Assert.Equal(
            ["user/bob/Restored/INBOX@example.org", "user/bob/Restored/Projects/X@example.org"],
            plan.Folders.Select(f => f.Folder));
    }

    [Fact]
    public async Task PlanAsync_UnknownFolder_ThrowsAnErrorNamingIt()
    {
        var ex = await Assert.ThrowsAsync<RestoreSourceException>(() => _planner.PlanAsync(new RestoreRequest { Scope = RestoreScope.Folder, FolderId = "nope" }));
        Assert.Contains("nope", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("user/alice@example.org", "alice@example.org", "INBOX")]
    [InlineData("user/alice/Archive/2026@example.org", "alice@example.org", "INBOX/Archive/2026")]
    [InlineData("user/alice/Archive", "alice", "INBOX/Archive")]
    public void CyrusMailboxName_AdminForm_MapsToOwnerAndView(string admin, string owner, string view)
    {
        Assert.Equal(owner, CyrusMailboxName.OwnerOf(admin));
        Assert.Equal(view, CyrusMailboxName.ToOwnerView(admin));
        Assert.Equal(admin, CyrusMailboxName.FromOwnerView(owner, view));
    }
}
