using Bonnie.Pipeline.Tests.Storage;
using Bonnie.Shared.Storage;

namespace Bonnie.Pipeline.Tests.Worker;

/// <summary>
/// Renames processed in another order than they happened: events go through one lane per owner (a rename through the
/// new name's owner's), so an administrator's rename of a user can be processed before the user's own earlier renames.
/// Each folder must end with the name and owner it would have had in order, and replays change nothing.
/// </summary>
public sealed class RenameOrderTests : IAsyncLifetime
{
    private TestPipeline _p = null!;
    private readonly Cyrus36Notifications _n = new();

    public async Task InitializeAsync() => _p = await TestPipeline.CreateAsync();

    public async Task DisposeAsync() => await _p.DisposeAsync();

    private const string InboxId = "inbox000000000000000000001";
    private const string Inbox = "user/alice@example.org";

    private async Task<(string? Name, string? Owner)> F(string id)
    {
        var f = await _p.Store.GetFolderAsync(id);
        return (f?.Name, f?.Owner);
    }

    // Admin moves alice's Projects/Acme to bob (lane bob) before renaming alice to alicia (lane alicia); alicia's lane first.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task MovedToAnotherUser_AfterLaterUserRename_OwnerFollows(bool oneBatch)
    {
        await _p.RunAllAsync(_n.Create(InboxId, Inbox, 100, 0), _n.Create("bobinbox00000000000000001", "user/bob@example.org", 150, 0, user: "bob@example.org"),
            _n.Create("proj000000000000000000001", "user/alice/Projects@example.org", 200, 1),
            _n.Create("acme000000000000000000001", "user/alice/Projects/Acme@example.org", 300, 2),
            _n.Create("sub0000000000000000000001", "user/alice/Projects/Acme/Sub@example.org", 400, 3));
        var move = _n.Rename("user/alice/Projects/Acme@example.org", "acme000000000000000000001", "user/bob/Acme@example.org", 300, 20, user: "cyrus");
        var userRename = _n.Rename(Inbox, InboxId, "user/alicia@example.org", 100, 30, user: "cyrus");
        if (oneBatch)
        {
            await _p.RunAllAsync(userRename, move);
        }
        else
        {
            await _p.RunAllAsync(userRename);
            await _p.RunAllAsync(move);
        }
        Assert.Equal(("user/bob/Acme@example.org", "bob@example.org"), await F("acme000000000000000000001"));
        Assert.Equal(("user/bob/Acme/Sub@example.org", "bob@example.org"), await F("sub0000000000000000000001"));
    }

    [Fact]
    public async Task MovedToShared_AfterLaterUserRename_OwnerFollows()
    {
        await _p.RunAllAsync(_n.Create(InboxId, Inbox, 100, 0),
            _n.Create("acme000000000000000000001", "user/alice/Projects/Acme@example.org", 300, 2));
        var move = _n.Rename("user/alice/Projects/Acme@example.org", "acme000000000000000000001", "shared/Acme@example.org", 300, 20, user: "cyrus");
        var userRename = _n.Rename(Inbox, InboxId, "user/alicia@example.org", 100, 30, user: "cyrus");
        await _p.RunAllAsync(userRename, move);
        var (name, owner) = await F("acme000000000000000000001");
        Assert.Equal("shared/Acme@example.org", name);
        Assert.Null(owner);
    }

    // Admin moves alice (same local name) to another domain; alice's earlier folder rename processed after.
    [Fact]
    public async Task UserMovedToOtherDomain_EarlierFolderRenameLandsInNewDomain()
    {
        await _p.RunAllAsync(_n.Create(InboxId, Inbox, 100, 0), _n.Create("proj000000000000000000001", "user/alice/Projects@example.org", 200, 1));
        var folderRename = _n.Rename("user/alice/Projects@example.org", "proj000000000000000000001", "user/alice/Work@example.org", 200, 20);
        var userRename = _n.Rename(Inbox, InboxId, "user/alice@example.net", 100, 30, user: "cyrus");
        await _p.RunAllAsync(userRename, folderRename);
        Assert.Equal(("user/alice/Work@example.net", "alice@example.net"), await F("proj000000000000000000001"));
    }

    // Shared top-level Team moved into Proj (lane shared:proj) after Team/X was renamed to Team/Y (lane shared:team).
    [Fact]
    public async Task TopLevelMovedIntoAnother_EarlierChildRenameLandsBelowIt()
    {
        await _p.RunAllAsync(_n.Create("team000000000000000000001", "Team@example.org", 100, 0, user: "cyrus"),
            _n.Create("proj000000000000000000001", "Proj@example.org", 110, 0, user: "cyrus"),
            _n.Create("x00000000000000000000001", "Team/X@example.org", 200, 1, user: "cyrus"));
        var childRename = _n.Rename("Team/X@example.org", "x00000000000000000000001", "Team/Y@example.org", 200, 20, "cyrus");
        var move = _n.Rename("Team@example.org", "team000000000000000000001", "Proj/Team@example.org", 100, 30, "cyrus");
        await _p.RunAllAsync(move, childRename);
        Assert.Equal("Proj/Team@example.org", (await F("team000000000000000000001")).Name);
        Assert.Equal("Proj/Team/Y@example.org", (await F("x00000000000000000000001")).Name);
    }

    // alice moves A/X to B/X (lane alice), then admin moves B/X to bob (lane bob); bob's lane first.
    [Fact]
    public async Task LaterMoveOfTheFolderItselfKeepingLeaf_LaterNameStands()
    {
        await _p.RunAllAsync(_n.Create("x00000000000000000000001", "user/alice/A/X@example.org", 200, 1));
        var first = _n.Rename("user/alice/A/X@example.org", "x00000000000000000000001", "user/alice/B/X@example.org", 200, 20);
        var second = _n.Rename("user/alice/B/X@example.org", "x00000000000000000000001", "user/bob/X@example.org", 200, 30, user: "cyrus");
        await _p.RunAllAsync(second, first);
        Assert.Equal(("user/bob/X@example.org", "bob@example.org"), await F("x00000000000000000000001"));
    }

    // Admin moves alice's X to bob (lane bob); later bob's X is moved back (lane alice); alice's lane first.
    [Fact]
    public async Task RenameBackToEarlierName_ProcessedInReverse()
    {
        await _p.RunAllAsync(_n.Create("x00000000000000000000001", "user/alice/X@example.org", 200, 1),
            _n.Create("c00000000000000000000001", "user/alice/X/c@example.org", 201, 2));
        var there = _n.Rename("user/alice/X@example.org", "x00000000000000000000001", "user/bob/X@example.org", 200, 20, user: "cyrus");
        var back = _n.Rename("user/bob/X@example.org", "x00000000000000000000001", "user/alice/X@example.org", 200, 30, user: "cyrus");
        await _p.RunAllAsync(back, there);
        Assert.Equal(("user/alice/X@example.org", "alice@example.org"), await F("x00000000000000000000001"));
        Assert.Equal("user/alice/X/c@example.org", (await F("c00000000000000000000001")).Name);
    }

    // alice renames A to B (lane alice), admin renames alice to alicia, alicia creates a new A with a child (lane alicia).
    [Fact]
    public async Task NameReusedAfterLaterUserRename_NewFoldersChildrenStay()
    {
        await _p.RunAllAsync(_n.Create(InboxId, Inbox, 100, 0), _n.Create("a00000000000000000000001", "user/alice/A@example.org", 200, 1));
        var aToB = _n.Rename("user/alice/A@example.org", "a00000000000000000000001", "user/alice/B@example.org", 200, 20);
        var userRename = _n.Rename(Inbox, InboxId, "user/alicia@example.org", 100, 30, user: "cyrus");
        var newA = _n.Create("a20000000000000000000001", "user/alicia/A@example.org", 500, 40, user: "alicia@example.org");
        var kid = _n.Create("k00000000000000000000001", "user/alicia/A/kid@example.org", 501, 41, user: "alicia@example.org");
        await _p.RunAllAsync(userRename, newA, kid, aToB);
        Assert.Equal("user/alicia/B@example.org", (await F("a00000000000000000000001")).Name);
        Assert.Equal("user/alicia/A@example.org", (await F("a20000000000000000000001")).Name);
        Assert.Equal("user/alicia/A/kid@example.org", (await F("k00000000000000000000001")).Name);
    }

    // The admin creates user/alice/X (lane alice) and moves it to bob (lane bob); bob's lane first.
    [Fact]
    public async Task CreateProcessedAfterLaterRename_DoesNotUndoIt()
    {
        var create = _n.Create("x00000000000000000000001", "user/alice/X@example.org", 200, 10, user: "cyrus");
        var move = _n.Rename("user/alice/X@example.org", "x00000000000000000000001", "user/bob/X@example.org", 200, 20, user: "cyrus");
        await _p.RunAllAsync(move, create);
        Assert.Equal(("user/bob/X@example.org", "bob@example.org"), await F("x00000000000000000000001"));
    }

    // In order, equal timestamps: A->B, B->C, parent rename, child below, all in one second.
    [Fact]
    public async Task InOrder_EqualTimestamps()
    {
        await _p.RunAllAsync(_n.Create("p00000000000000000000001", "user/alice/A@example.org", 200, 10),
            _n.Create("c00000000000000000000001", "user/alice/A/c@example.org", 201, 10),
            _n.Rename("user/alice/A@example.org", "p00000000000000000000001", "user/alice/B@example.org", 200, 10),
            _n.Rename("user/alice/B/c@example.org", "c00000000000000000000001", "user/alice/B/d@example.org", 201, 10),
            _n.Rename("user/alice/B@example.org", "p00000000000000000000001", "user/alice/C@example.org", 200, 10));
        Assert.Equal("user/alice/C@example.org", (await F("p00000000000000000000001")).Name);
        Assert.Equal("user/alice/C/d@example.org", (await F("c00000000000000000000001")).Name);
    }


    // Two shared folders swap names (A to tmp, B to A, tmp to B), processed out of order: each folder's children
    // follow their own parent, not the folder that had the name when the rename was processed; replays change nothing.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task SharedFoldersSwapNames_ProcessedOutOfOrder_EachChildFollowsItsOwnParent(bool oneBatch)
    {
        await _p.RunAllAsync(_n.Create("sa0000000000000000000001", "shared/A@example.org", 100, 0, user: "cyrus"),
            _n.Create("sax000000000000000000001", "shared/A/x@example.org", 101, 1, user: "cyrus"),
            _n.Create("sb0000000000000000000001", "shared/B@example.org", 102, 2, user: "cyrus"),
            _n.Create("sby000000000000000000001", "shared/B/y@example.org", 103, 3, user: "cyrus"));
        var r1 = _n.Rename("shared/A@example.org", "sa0000000000000000000001", "shared/tmp@example.org", 100, 20, "cyrus");
        var r2 = _n.Rename("shared/B@example.org", "sb0000000000000000000001", "shared/A@example.org", 102, 21, "cyrus");
        var r3 = _n.Rename("shared/tmp@example.org", "sa0000000000000000000001", "shared/B@example.org", 100, 22, "cyrus");
        if (oneBatch)
        {
            await _p.RunAllAsync(r2, r1, r3);
        }
        else
        {
            await _p.RunAllAsync(r2);
            await _p.RunAllAsync(r1);
            await _p.RunAllAsync(r3);
        }
        await _p.RunAllAsync(r2, r1, r3);

        Assert.Equal("shared/B@example.org", (await F("sa0000000000000000000001")).Name);
        Assert.Equal("shared/A@example.org", (await F("sb0000000000000000000001")).Name);
        Assert.Equal("shared/B/x@example.org", (await F("sax000000000000000000001")).Name);
        Assert.Equal("shared/A/y@example.org", (await F("sby000000000000000000001")).Name);
    }

    // Modseq discovering a folder (NameSince null) then out-of-order renames: behaves as before.
    [Fact]
    public async Task DiscoveredFolder_NullNameSince_UserRenameThenEarlierFolderRename()
    {
        await _p.RunAllAsync(_n.Create(InboxId, Inbox, 100, 0),
            _n.Uids("MessageRead", "proj000000000000000000001", "user/alice/Projects@example.org", 200, "1", "", 5));
        var folderRename = _n.Rename("user/alice/Projects@example.org", "proj000000000000000000001", "user/alice/Work@example.org", 200, 20);
        var userRename = _n.Rename(Inbox, InboxId, "user/alicia@example.org", 100, 30, user: "cyrus");
        await _p.RunAllAsync(userRename, folderRename);
        Assert.Equal(("user/alicia/Work@example.org", "alicia@example.org"), await F("proj000000000000000000001"));
    }


    // Admin moves alice@example.org's P to alice@example.net (another user, lane alice@example.net) before renaming
    // alice@example.org to alicia@example.org (lane alicia@example.org); alicia's lane first.
    [Fact]
    public async Task MovedToSameLocalUserInOtherDomain_AfterLaterUserRename()
    {
        await _p.RunAllAsync(_n.Create(InboxId, Inbox, 100, 0), _n.Create("p00000000000000000000001", "user/alice/P@example.org", 200, 1));
        var move = _n.Rename("user/alice/P@example.org", "p00000000000000000000001", "user/alice/Q@example.net", 200, 20, user: "cyrus");
        var userRename = _n.Rename(Inbox, InboxId, "user/alicia@example.org", 100, 30, user: "cyrus");
        await _p.RunAllAsync(userRename, move);
        Assert.Equal(("user/alice/Q@example.net", "alice@example.net"), await F("p00000000000000000000001"));
    }
}
