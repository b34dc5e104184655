using Bonnie.Shared.Events;

namespace Bonnie.Shared.Tests.Events;

/// <summary>The notifications a real Cyrus 3.6.1 sent (tests/TestData/cyrus/events), field by field.</summary>
public sealed class NotificationParserCyrus3Tests
{
    private static CyrusEvent Real(string file) => Fixtures.Parse("events", file);

    [Fact]
    public void Parse_Login_SessionFieldsAndNoMailbox()
    {
        var login = Real("Login.json");

        Assert.Equal(EventType.Login, login.Type);
        Assert.Equal(new DateTimeOffset(2026, 11, 29, 11, 19, 47, 997, TimeSpan.Zero), login.Timestamp);
        Assert.Equal("imap", login.Service);
        Assert.Equal("cyrus", login.User);
        Assert.Equal("127.0.0.1", login.ServerDomain);
        Assert.Equal(1143, login.ServerPort);
        Assert.Equal("127.0.0.1", login.ClientIP);
        Assert.Equal(52348, login.ClientPort);
        Assert.Equal(11381, login.Pid);
        Assert.Equal("imap.example.org", login.ServerFqdn);
        Assert.Equal("cyrus-1795951187-11381-2-14971745235264492537", login.SessionId);
        Assert.Null(login.Mailbox);
        Assert.Empty(login.Extra);
    }

    [Fact]
    public void Parse_LoginAndLogout_ShareTheSession()
    {
        var login = Real("Login.json");
        var logout = Real("Logout.json");

        Assert.Equal(EventType.Logout, logout.Type);
        Assert.Equal(login.SessionId, logout.SessionId);
        Assert.True(logout.Timestamp > login.Timestamp);
    }

    [Fact]
    public void Parse_MessageNew_InboxUidEnvelopeAndIds()
    {
        var message = Real("MessageNew.json");

        Assert.Equal(EventType.MessageNew, message.Type);
        Assert.Equal("lmtp", message.Service);
        Assert.Equal("sufr9a0wrxwpaaifzy6ge6cu", message.MailboxId);
        var mailbox = message.Mailbox!;
        Assert.Equal("imap.example.org", mailbox.Server);
        Assert.Equal("user/alice@example.org", mailbox.Name);
        Assert.Equal("alice@example.org", mailbox.Owner);
        Assert.Equal("INBOX", mailbox.FolderPath);
        Assert.False(mailbox.IsShared);
        Assert.Equal(1795951197u, mailbox.UidValidity);
        Assert.Equal(1u, mailbox.Uid);
        Assert.Null(message.UidSet);
        Assert.Equal(2, message.Modseq);
        Assert.Equal(1, message.Messages);
        Assert.Equal(1, message.UnseenMessages);
        Assert.Equal(2, message.UidNext);
        Assert.Equal(567, message.MessageSize);
        Assert.Equal(["<179595122889.12822.11728137019898957721@probe.example.org>"], message.MessageIds);
        Assert.Equal("M743974037cbef97becd11ce5", message.EmailId);
        Assert.Null(message.ThreadId);
        Assert.Equal("e", message.MailboxType);
        Assert.Equal([new AclEntry("alice@example.org", "lrswipkxtecdan")], message.Acl);
        Assert.StartsWith("(\"TEXT\" \"PLAIN\"", message.BodyStructure, StringComparison.Ordinal);

        var envelope = message.Envelope!;
        Assert.Equal("Sun, 29 Nov 2026 11:20:28 -0000", envelope.DateText);
        Assert.Equal(new DateTimeOffset(2026, 11, 29, 11, 20, 28, TimeSpan.Zero), envelope.Date);
        Assert.Equal("lmtp one", envelope.Subject);
        Assert.Equal([new EmailAddress("Probe Sender", "sender@example.net")], envelope.From);
        Assert.Equal([new EmailAddress("Probe Sender", "sender@example.net")], envelope.Sender);
        Assert.Equal([new EmailAddress("Probe Sender", "sender@example.net")], envelope.ReplyTo);
        Assert.Equal([new EmailAddress(null, "alice@example.org")], envelope.To);
        Assert.Empty(envelope.Cc);
        Assert.Empty(envelope.Bcc);
        Assert.Null(envelope.InReplyTo);
        Assert.Equal("<179595122889.12822.11728137019898957721@probe.example.org>", envelope.MessageId);
    }

    [Fact]
    public void Parse_MessageAppend_SubfolderOfOwnerAndFlags()
    {
        var message = Real("MessageAppend.json");

        Assert.Equal(EventType.MessageAppend, message.Type);
        Assert.Equal("user/alice/Archive@example.org", message.Mailbox!.Name);
        Assert.Equal("alice@example.org", message.Mailbox.Owner);
        Assert.Equal("INBOX/Archive", message.Mailbox.FolderPath);
        Assert.Equal(1u, message.Mailbox.Uid);
        Assert.Equal(["\\seen", "$Label1"], message.Flags);
        Assert.Equal(291, message.MessageSize);
        Assert.Equal("appended via IMAP", message.Envelope!.Subject);
        Assert.Equal("M457461246f06a832b23a5a5c", message.EmailId);
    }

    [Theory]
    [InlineData("MessageRead.json", EventType.MessageRead, 1u, 5)]
    [InlineData("MessageTrash.json", EventType.MessageTrash, 3u, 10)]
    [InlineData("MessageExpunge.json", EventType.MessageExpunge, 2u, 9)]
    [InlineData("FlagsSet.json", EventType.FlagsSet, 1u, 6)]
    [InlineData("FlagsClear.json", EventType.FlagsClear, 1u, 7)]
    public void Parse_MessageEventsWithUidset_OneUidInInbox(string file, EventType type, uint uid, long modseq)
    {
        var message = Real(file);

        Assert.Equal(type, message.Type);
        Assert.Equal([uid], message.UidSet!.Uids);
        Assert.Equal(modseq, message.Modseq);
        Assert.Equal("INBOX", message.Mailbox!.FolderPath);
        Assert.Null(message.Mailbox.Uid);
        Assert.Single(message.MessageIds);
        Assert.Equal("alice@example.org", message.User);
    }

    [Fact]
    public void Parse_FlagsSetAndClear_FlagNamesSplitOnSpaces()
    {
        Assert.Equal(["\\Flagged", "$Important"], Real("FlagsSet.json").Flags);
        Assert.Equal(["\\Flagged"], Real("FlagsClear.json").Flags);
    }

    [Fact]
    public void Parse_MessageExpire_NoUserAnotherOwnersFolderTwoUidsTwoAclEntries()
    {
        var expire = Real("MessageExpire.json");

        Assert.Equal(EventType.MessageExpire, expire.Type);
        Assert.Equal("cyr_expire", expire.Service);
        Assert.Null(expire.User);
        Assert.Equal("user/bob/Old@example.org", expire.Mailbox!.Name);
        Assert.Equal("bob@example.org", expire.Mailbox.Owner);
        Assert.Equal("INBOX/Old", expire.Mailbox.FolderPath);
        Assert.Equal([1u, 2u], expire.UidSet!.Uids);
        Assert.Equal(2, expire.MessageIds.Count);
        Assert.Equal(
            [new AclEntry("bob@example.org", "lrswipkxtecdan"), new AclEntry("cyrus", "lrswipkxtecda")],
            expire.Acl);
    }

    [Theory]
    [InlineData("vnd.cmu.MessageCopy.json", EventType.MessageCopy, 1u, 2u)]
    [InlineData("vnd.cmu.MessageMove.json", EventType.MessageMove, 2u, 3u)]
    public void Parse_CopyAndMove_SourceMailboxAndUids(string file, EventType type, uint oldUid, uint newUid)
    {
        var message = Real(file);

        Assert.Equal(type, message.Type);
        Assert.Equal(file[..^5], message.Name);
        Assert.Equal("INBOX", message.OldMailbox!.FolderPath);
        Assert.Equal("alice@example.org", message.OldMailbox.Owner);
        Assert.Equal(1795951197u, message.OldMailbox.UidValidity);
        Assert.Equal([oldUid], message.OldUidSet!.Uids);
        Assert.Equal("INBOX/Archive", message.Mailbox!.FolderPath);
        Assert.Equal([newUid], message.UidSet!.Uids);
        Assert.Equal("oe16bupldlr2b7ax2w5twkwq", message.MailboxId);
    }

    [Fact]
    public void Parse_MailboxRename_OldAndNewNames()
    {
        var rename = Real("MailboxRename.json");

        Assert.Equal(EventType.MailboxRename, rename.Type);
        Assert.Equal("INBOX/Temp", rename.OldMailbox!.FolderPath);
        Assert.Equal("user/alice/Temp@example.org", rename.OldMailbox.Name);
        Assert.Equal("INBOX/Temp2", rename.Mailbox!.FolderPath);
        Assert.Equal("me1de6rfcjp143mbleivr07x", rename.MailboxId);
    }

    [Theory]
    [InlineData("MailboxCreate.json", EventType.MailboxCreate, "INBOX")]
    [InlineData("MailboxDelete.json", EventType.MailboxDelete, "INBOX/Temp2")]
    [InlineData("MailboxSubscribe.json", EventType.MailboxSubscribe, "INBOX/Archive")]
    [InlineData("MailboxUnSubscribe.json", EventType.MailboxUnSubscribe, "INBOX/Archive")]
    public void Parse_MailboxEvents_TypeAndFolder(string file, EventType type, string folder)
    {
        var mailboxEvent = Real(file);

        Assert.Equal(type, mailboxEvent.Type);
        Assert.Equal(folder, mailboxEvent.Mailbox!.FolderPath);
        Assert.Equal("alice@example.org", mailboxEvent.Mailbox.Owner);
    }

    [Fact]
    public void Parse_MailboxSubscribe_UriWithoutUidValidity()
    {
        Assert.Null(Real("MailboxSubscribe.json").Mailbox!.UidValidity);
    }

    [Fact]
    public void Parse_MailboxModseq_EmptyUserIsNull()
    {
        var modseq = Real("MailboxModseq.json");

        Assert.Equal(EventType.MailboxModseq, modseq.Type);
        Assert.Null(modseq.User);
        Assert.Equal("lmtp", modseq.Service);
    }

    [Fact]
    public void Parse_AclChange_SubjectRightsAndWholeAcl()
    {
        var change = Real("AclChange.json");

        Assert.Equal(EventType.AclChange, change.Type);
        Assert.Equal("bob@example.org", change.AclSubject);
        Assert.Equal("lrs", change.AclRights);
        Assert.Equal(
            [new AclEntry("alice@example.org", "lrswipkxtecdan"), new AclEntry("bob@example.org", "lrs")],
            change.Acl);
    }

    [Fact]
    public void Parse_QuotaChange_QuotaFieldsWithUnlimitedMessages()
    {
        var quota = Real("QuotaChange.json");

        Assert.Equal(EventType.QuotaChange, quota.Type);
        Assert.Equal(20, quota.DiskQuota);
        Assert.Equal(0, quota.DiskUsed);
        Assert.Equal(-1, quota.MaxMessages);
        Assert.Equal(0, quota.Messages);
        Assert.Equal("INBOX", quota.Mailbox!.FolderPath);
    }
}
