using Bonnie.Shared.Storage;

namespace Bonnie.Shared.Tests.Events;

public sealed class FolderNamesTests
{
    [Theory]
    [InlineData("user/alice/Projects/Acme@example.org", "user/alice/Projects@example.org", true)]
    [InlineData("USER/alice/projects/Acme/2026@example.org", "user/alice/Projects@example.org", true)]
    [InlineData("user/alice/Projects@example.org", "user/alice/Projects@example.org", false)]
    [InlineData("user/alice/Projects2@example.org", "user/alice/Projects@example.org", false)]
    [InlineData("user/alice/Projects/Acme@example.net", "user/alice/Projects@example.org", false)]
    [InlineData("user/alice/Archive@example.org", "user/alice@example.org", true)]
    [InlineData("user/alicia/Archive@example.org", "user/alice@example.org", false)]
    [InlineData("shared/Team/Minutes", "shared/Team", true)]
    // An '@' inside a folder's name (a '/' follows it) is not a domain.
    [InlineData("shared/a@b/x/c", "shared/a@b/x", true)]
    public void IsBelow(string name, string ancestor, bool below) => Assert.Equal(below, FolderNames.IsBelow(name, ancestor));

    [Fact]
    public void Rebase_KeepsWhatIsBelowAndTheDomainOfTheNewName()
    {
        Assert.Equal("user/alice/Clients/Acme/2026@example.org",
            FolderNames.Rebase("user/alice/Projects/Acme/2026@example.org", "user/alice/Projects@example.org", "user/alice/Clients@example.org"));
        // A user renamed (RENAME user/alice user/alicia): the whole tree follows.
        Assert.Equal("user/alicia/Archive@example.org", FolderNames.Rebase("user/alice/Archive@example.org", "user/alice@example.org", "user/alicia@example.org"));
    }

    [Theory]
    [InlineData("user/alice@example.org", true)]
    [InlineData("user/alice", true)]
    [InlineData("user/alice/Archive@example.org", false)]
    [InlineData("shared/Team@example.org", false)]
    [InlineData("user/@example.org", false)]
    public void IsUserInbox(string name, bool inbox) => Assert.Equal(inbox, FolderNames.IsUserInbox(name));
}
