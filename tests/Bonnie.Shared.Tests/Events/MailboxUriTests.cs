using Bonnie.Shared.Events;

namespace Bonnie.Shared.Tests.Events;

public sealed class MailboxUriTests
{
    [Theory]
    [InlineData("imap://imap.example.org/user/alice%40example.org", "user/alice@example.org", "alice@example.org", "INBOX")]
    [InlineData("imap://imap.example.org/user/alice/Archive%40example.org", "user/alice/Archive@example.org", "alice@example.org", "INBOX/Archive")]
    [InlineData("imap://imap.example.org/user/bob/Old@example.org", "user/bob/Old@example.org", "bob@example.org", "INBOX/Old")]
    [InlineData("imap://imap.example.org/user/bob/Old%2FNew%40example.org", "user/bob/Old/New@example.org", "bob@example.org", "INBOX/Old/New")]
    [InlineData("imap://imap.example.org/user/cyrus", "user/cyrus", "cyrus", "INBOX")]
    [InlineData("imap://imap.example.org/user/alice/a%40b%40example.org", "user/alice/a@b@example.org", "alice@example.org", "INBOX/a@b")]
    [InlineData("imap://imap.example.org/user.sam^park.Sent@example.org", "user.sam^park.Sent@example.org", "sam.park@example.org", "INBOX.Sent")]
    [InlineData("imap://imap.example.org/user/alice/Tom%20%26%20Jerry%40example.org", "user/alice/Tom & Jerry@example.org", "alice@example.org", "INBOX/Tom & Jerry")]
    [InlineData("imap://imap.example.org/user/alice/%26ZeVnLIqe-%40example.org", "user/alice/&ZeVnLIqe-@example.org", "alice@example.org", "INBOX/日本語")]
    [InlineData("imap://imap.example.org/user/alice/M%C3%A4rz%40example.org", "user/alice/März@example.org", "alice@example.org", "INBOX/März")]
    [InlineData("imap://imap.example.org/user/alice/März@example.org", "user/alice/März@example.org", "alice@example.org", "INBOX/März")]
    public void Parse_AdminForm_OwnerAndOwnersView(string uri, string name, string owner, string folder)
    {
        var mailbox = MailboxUri.Parse(uri);

        Assert.Equal(name, mailbox.Name);
        Assert.Equal(owner, mailbox.Owner);
        Assert.Equal(folder, mailbox.FolderPath);
        Assert.Equal("imap.example.org", mailbox.Server);
        Assert.Equal(uri, mailbox.Original);
    }

    [Theory]
    [InlineData("imap://imap.example.org/shared/Team%40example.org", "shared/Team@example.org", "shared/Team")]
    [InlineData("imap://imap.example.org/Public/Lists/cyrus-devel", "Public/Lists/cyrus-devel", "Public/Lists/cyrus-devel")]
    [InlineData("imap://imap.example.org/shared/K&APY-ln%40example.org", "shared/K&APY-ln@example.org", "shared/Köln")]
    public void Parse_SharedFolder_NoOwner(string uri, string name, string folder)
    {
        var mailbox = MailboxUri.Parse(uri);

        Assert.True(mailbox.IsShared);
        Assert.Null(mailbox.Owner);
        Assert.Equal(name, mailbox.Name);
        Assert.Equal(folder, mailbox.FolderPath);
    }

    [Theory]
    [InlineData("imap://sam.park@example.org@imap.example.org/INBOX", "user/sam.park@example.org", "sam.park@example.org", "INBOX")]
    [InlineData("imap://sam.park@example.org@imap.example.org/INBOX/Drafts", "user/sam.park/Drafts@example.org", "sam.park@example.org", "INBOX/Drafts")]
    [InlineData("imap://sam.park@example.org@imap.example.org/Projects/Contracts", "user/sam.park/Projects/Contracts@example.org", "sam.park@example.org", "Projects/Contracts")]
    [InlineData("imap://sam.park%40example.org@imap.example.org/Sent", "user/sam.park/Sent@example.org", "sam.park@example.org", "Sent")]
    [InlineData("imap://sam.park@example.org;AUTH=*@imap.example.org/Sent", "user/sam.park/Sent@example.org", "sam.park@example.org", "Sent")]
    [InlineData("imap://sam.park@example.org@imap.example.org/Other%20Users/bob/Old", "user/bob/Old@example.org", "bob@example.org", "INBOX/Old")]
    [InlineData("imap://sam.park@example.org@imap.example.org/Other%20Users/bob", "user/bob@example.org", "bob@example.org", "INBOX")]
    [InlineData("imap://sam@imap.example.org/Entw&APw-rfe", "user/sam/Entw&APw-rfe", "sam", "Entwürfe")]
    public void Parse_OwnerInAuthority_AdminFormName(string uri, string name, string? owner, string folder)
    {
        var mailbox = MailboxUri.Parse(uri);

        Assert.Equal(name, mailbox.Name);
        Assert.Equal(owner, mailbox.Owner);
        Assert.Equal(folder, mailbox.FolderPath);
        Assert.Equal("imap.example.org", mailbox.Server);
    }

    [Fact]
    public void Parse_OwnerViewSharedFolders_Shared()
    {
        var mailbox = MailboxUri.Parse("imap://sam.park@example.org@imap.example.org/Shared%20Folders/Team");

        Assert.True(mailbox.IsShared);
        Assert.Equal("Team@example.org", mailbox.Name);
        Assert.Equal("Team", mailbox.FolderPath);
    }

    [Theory]
    [InlineData("imap://imap.example.org/user/alice%40example.org;UIDVALIDITY=1795951197/;UID=1", 1795951197u, 1u)]
    [InlineData("imap://imap.example.org/user/alice%40example.org;uidvalidity=7", 7u, null)]
    [InlineData("imap://imap.example.org/user/alice%40example.org/;UID=4294967295", null, 4294967295u)]
    [InlineData("imap://imap.example.org/user/alice%40example.org;UIDVALIDITY=3/;UID=9;SECTION=1.2", 3u, 9u)]
    public void Parse_Parameters_UidValidityAndUid(string uri, uint? uidValidity, uint? uid)
    {
        var mailbox = MailboxUri.Parse(uri);

        Assert.Equal("INBOX", mailbox.FolderPath);
        Assert.Equal(uidValidity, mailbox.UidValidity);
        Assert.Equal(uid, mailbox.Uid);
    }

    [Fact]
    public void Parse_ServerWithPort_KeptInServer()
    {
        Assert.Equal("imap.example.org:1143", MailboxUri.Parse("imap://imap.example.org:1143/user/cyrus").Server);
    }

    [Theory]
    [InlineData("imap://imap.example.org", "no mailbox")]
    [InlineData("imap://imap.example.org/", "no mailbox")]
    [InlineData("https://imap.example.org/user/alice", "not an imap://")]
    [InlineData("imap:///user/alice", "no server")]
    [InlineData("imap://imap.example.org/user/alice%zz", "percent-encoding at position 34")]
    [InlineData("imap://imap.example.org/user/%C3", "not UTF-8")]
    [InlineData("imap://imap.example.org/user/alice;UIDVALIDITY=0", "UIDVALIDITY")]
    [InlineData("imap://imap.example.org/user/alice;UID=-1", "UID")]
    [InlineData("imap://imap.example.org/user/alice;UIDVALIDITY", "no value")]
    [InlineData("imap://imap.example.org/user/%40example.org", "without a user")]
    public void Parse_Invalid_TypedFormatException(string uri, string expected)
    {
        var error = Assert.Throws<MailboxUriFormatException>(() => MailboxUri.Parse(uri));

        Assert.IsAssignableFrom<FormatException>(error);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.False(MailboxUri.TryParse(uri, out _));
    }
}
