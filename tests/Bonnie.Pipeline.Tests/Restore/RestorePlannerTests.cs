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
