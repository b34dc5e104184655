using Bonnie.Shared.Storage;

namespace Bonnie.Shared.Tests.Events;

public sealed class FolderNamesTests
{
    [Theory]
    [InlineData("user/alice/Projects/Acme@example.org", "user/alice/Projects@example.org", true)]
    [InlineData("user/alice/Projects/Acme/2026@EXAMPLE.org", "user/alice/Projects@example.org", true)]
    // Cyrus's names are case-sensitive: work is another folder than Work.
    [InlineData("user/alice/projects/Acme@example.org", "user/alice/Projects@example.org", false)]
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

    [Theory]
    [InlineData("user/alice/Projects@example.org", "user/alice/Clients@example.org", true)]
    [InlineData("user/alice@example.org", "user/alicia@example.org", true)]
    // RENAME INBOX Old: the INBOX's messages go to Old, the folders below INBOX stay (RFC 3501 6.3.5).
    [InlineData("user/alice@example.org", "user/alice/Old@example.org", false)]
    // Into its own subtree, or onto its parent's name: Cyrus renames that one folder only.
    [InlineData("user/alice/Work@example.org", "user/alice/Work/Sub@example.org", false)]
    [InlineData("user/alice/Work/Sub@example.org", "user/alice/Work@example.org", false)]
    public void RenameTakesChildren(string from, string to, bool takes) => Assert.Equal(takes, FolderNames.RenameTakesChildren(from, to));

    [Theory]
    [InlineData("user/alice/Projects@example.org", "user/alicia/Projects@example.org", "user/alice@example.org>user/alicia@example.org")]
    [InlineData("user/alice/Projects/Acme@example.org", "user/alice/Clients/Acme@example.org", "user/alice/Projects@example.org>user/alice/Clients@example.org")]
    // The same user in another domain: the INBOX moved, or (less deep) user/ itself, which is no folder.
    [InlineData("user/alice/Projects@example.org", "user/alice/Projects@example.net", "user/alice@example.org>user/alice@example.net",
        "user@example.org>user@example.net")]
    // The folder itself renamed: no ancestor explains it.
    [InlineData("user/alice/Projects@example.org", "user/alice/Done@example.org")]
    public void AncestorsRenamed(string from, string current, params string[] expected)
        => Assert.Equal(expected, FolderNames.AncestorsRenamed(from, current).Select(a => a.From + ">" + a.To));
}
