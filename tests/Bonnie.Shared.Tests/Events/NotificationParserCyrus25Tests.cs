using Bonnie.Shared.Events;

namespace Bonnie.Shared.Tests.Events;

/// <summary>The Cyrus 2.5 / Kolab dialect: old names, owner's-view URIs, zoned timestamps, inline payloads.</summary>
public sealed class NotificationParserCyrus25Tests
{
    private static CyrusEvent Old(string file) => Fixtures.Parse("events-2.5", file);

    [Fact]
    public void Parse_Login_ZonedTimestampConvertedToUtcAndNoMailbox()
    {
        var login = Old("Login.json");

        Assert.Equal(EventType.Login, login.Type);
        Assert.Equal(new DateTimeOffset(2015, 3, 3, 8, 20, 0, 1, TimeSpan.Zero), login.Timestamp);
        Assert.Equal(TimeSpan.Zero, login.Timestamp.Offset);
        Assert.Equal("2001:db8::17", login.ClientIP);
        Assert.Equal("sam.park@example.org", login.User);
        Assert.Null(login.Mailbox);
    }

    [Fact]
    public void Parse_MessageNew_InboxFromOwnerViewPlusHeadersAndContent()
    {
        var message = Old("MessageNew.json");

        Assert.Equal("user/sam.park@example.org", message.Mailbox!.Name);
        Assert.Equal("sam.park@example.org", message.Mailbox.Owner);
        Assert.Equal("INBOX", message.Mailbox.FolderPath);
        Assert.Equal("imap.example.org", message.Mailbox.Server);
        Assert.Equal(12u, message.Mailbox.Uid);
        Assert.Equal([12u], message.UidSet!.Uids);
        Assert.Equal("lmtpunix", message.Service);
        Assert.StartsWith("Return-Path: <erin@example.net>\r\n", message.MessageContent[12], StringComparison.Ordinal);
        Assert.EndsWith("Please find the revised terms below.\r\n", message.MessageContent[12], StringComparison.Ordinal);
        Assert.Equal("Contract draft v2", message.MessageHeaders[12].GetProperty("Subject").GetString());
        Assert.Empty(message.Extra);
    }

    [Fact]
    public void Parse_MessageCopy_OldNameOwnerViewFolderInAdminForm()
    {
        var copy = Old("MessageCopy.json");

        Assert.Equal(EventType.MessageCopy, copy.Type);
        Assert.Equal("MessageCopy", copy.Name);
        Assert.Equal("user/sam.park/Projects/Contracts@example.org", copy.Mailbox!.Name);
        Assert.Equal("Projects/Contracts", copy.Mailbox.FolderPath);
        Assert.Equal("sam.park@example.org", copy.Mailbox.Owner);
        Assert.Equal(1424000009u, copy.Mailbox.UidValidity);
        Assert.Equal("INBOX", copy.OldMailbox!.FolderPath);
        Assert.Equal([12u], copy.OldUidSet!.Uids);
        Assert.Equal([3u], copy.UidSet!.Uids);
    }

    [Fact]
    public void Parse_MessageAppend_SentFolder()
    {
        var append = Old("MessageAppend.json");

        Assert.Equal("user/sam.park/Sent@example.org", append.Mailbox!.Name);
        Assert.Equal("Sent", append.Mailbox.FolderPath);
        Assert.Equal(40u, append.Mailbox.Uid);
        Assert.Equal(["\\Seen"], append.Flags);
    }

    [Fact]
    public void Parse_MailboxCreate_NestedFolder()
    {
        var create = Old("MailboxCreate.json");

        Assert.Equal("user/sam.park/Calendar/Team@example.org", create.Mailbox!.Name);
        Assert.Equal("Calendar/Team", create.Mailbox.FolderPath);
    }

    [Fact]
    public void Parse_QuotaExceeded_FoldedOntoQuotaExceed()
    {
        var quota = Old("QuotaExceeded.json");

        Assert.Equal(EventType.QuotaExceed, quota.Type);
        Assert.Equal("QuotaExceeded", quota.Name);
        Assert.Equal(1048576, quota.DiskQuota);
        Assert.Equal(1049000, quota.DiskUsed);
        Assert.Equal(0, quota.MaxMessages);
        Assert.Equal(1210, quota.Messages);
        Assert.Null(quota.Mailbox!.UidValidity);
    }

    [Fact]
    public void Parse_MessageMove_MailboxIdUriMutf7SubfolderAndReversedOldUids()
    {
        var move = Fixtures.Parse("fixtures", "2.5-MessageMove.json");

        Assert.Equal(EventType.MessageMove, move.Type);
        Assert.Equal(new DateTimeOffset(2015, 3, 3, 14, 26, 0, 250, TimeSpan.Zero), move.Timestamp);
        Assert.Equal("user/sam.park/Entw&APw-rfe@example.org", move.Mailbox!.Name);
        Assert.Equal("INBOX/Entwürfe", move.Mailbox.FolderPath);
        Assert.Null(move.MailboxId);
        Assert.Equal(move.Mailbox, move.MailboxIdUri);
        Assert.Equal([14u, 13u], move.OldUidSet!.Uids);
        Assert.Equal([4u, 5u], move.UidSet!.Uids);
    }

    [Fact]
    public void Parse_MailboxIdUriWithoutUri_SharedFolderBecomesTheMailbox()
    {
        var create = Fixtures.Parse("fixtures", "2.5-MailboxCreate-shared.json");

        Assert.True(create.Mailbox!.IsShared);
        Assert.Equal("Projekte/Gr&APY-sse@example.org", create.Mailbox.Name);
        Assert.Equal("Projekte/Grösse", create.Mailbox.FolderPath);
    }
}
