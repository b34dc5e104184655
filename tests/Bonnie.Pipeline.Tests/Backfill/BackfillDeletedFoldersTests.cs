using Bonnie.Pipeline.Backfill;

namespace Bonnie.Pipeline.Tests.Backfill;

/// <summary>
/// Which folders the backfill leaves out (found by a review against the real Cyrus: with delayed delete, 121 of 596
/// walked folders were deleted ones, recorded as existing and ownerless).
/// </summary>
public sealed class BackfillDeletedFoldersTests
{
    [Theory]
    [InlineData("DELETED/user/leaver/Archive/6B15D99A@example.org", true)]
    [InlineData("DELETED", true)]
    [InlineData("user/alice/DELETED@example.org", false)]
    [InlineData("user/alice/DELETED/old@example.org", false)]
    [InlineData("DELETEDstuff/x", false)]
    [InlineData("shared/DELETED", false)]
    public void IsDeletedFolder_CyrusDefaultPrefix(string name, bool deleted)
        => Assert.Equal(deleted, BackfillRunner.IsDeletedFolder(name, '/', new BackfillOptions().DeletedPrefix));

    [Fact]
    public void IsDeletedFolder_NoPrefixConfigured_NothingLeftOut()
        => Assert.False(BackfillRunner.IsDeletedFolder("DELETED/user/leaver", '/', ""));
}
