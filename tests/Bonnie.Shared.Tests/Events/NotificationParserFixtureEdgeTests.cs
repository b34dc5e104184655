using System.Text.Json;
using Bonnie.Shared.Events;

namespace Bonnie.Shared.Tests.Events;

/// <summary>Notifications written for what the test server cannot send: RFC 5423 quota events, names, envelopes.</summary>
public sealed class NotificationParserFixtureEdgeTests
{
    private static CyrusEvent Fixture(string file) => Fixtures.Parse("fixtures", file);

    [Fact]
    public void Parse_QuotaExceed_OverQuotaFigures()
    {
        var quota = Fixture("QuotaExceed.json");

        Assert.Equal(EventType.QuotaExceed, quota.Type);
        Assert.Equal("QuotaExceed", quota.Name);
        Assert.Equal(20, quota.DiskQuota);
        Assert.Equal(21, quota.DiskUsed);
        Assert.Equal(-1, quota.MaxMessages);
        Assert.Equal(4, quota.Messages);
        Assert.Equal("alice@example.org", quota.Mailbox!.Owner);
    }

    [Fact]
    public void Parse_QuotaWithin_BackUnderQuota()
    {
        var quota = Fixture("QuotaWithin.json");

        Assert.Equal(EventType.QuotaWithin, quota.Type);
        Assert.Equal(12, quota.DiskUsed);
        Assert.True(quota.DiskUsed < quota.DiskQuota);
    }

    [Fact]
    public void Parse_ModifiedUtf7FolderName_FolderPathDecodedNameAsSent()
    {
        var create = Fixture("MailboxCreate-mutf7.json");

        Assert.Equal("user/alice/M&AOQ-rz@example.org", create.Mailbox!.Name);
        Assert.Equal("INBOX/März", create.Mailbox.FolderPath);
        Assert.Equal("alice@example.org", create.Mailbox.Owner);
    }

    [Fact]
    public void Parse_PercentEncodedUtf8FolderName_Decoded()
    {
        var create = Fixture("MailboxCreate-utf8.json");

        Assert.Equal("user/alice/Entwürfe/日本@example.org", create.Mailbox!.Name);
        Assert.Equal("INBOX/Entwürfe/日本", create.Mailbox.FolderPath);
    }

    [Fact]
    public void Parse_EncodedEnvelope_Rfc2047GroupsEscapesAndZonedDate()
    {
        var message = Fixture("MessageNew-encoded-envelope.json");
        var envelope = message.Envelope!;

        Assert.Equal("Vertrag für Müller", envelope.Subject);
        Assert.Equal(new DateTimeOffset(2015, 3, 3, 9, 12, 31, TimeSpan.FromHours(1)), envelope.Date);
        Assert.Equal([new EmailAddress("Erin Müller", "erin@example.net")], envelope.From);
        Assert.Empty(envelope.Sender);
        Assert.Equal([new EmailAddress("He said \"hi\"", "reply@example.net")], envelope.ReplyTo);
        Assert.Equal(
            [new EmailAddress("Park, Sam", "sam.park@example.org"), new EmailAddress(null, "alice@example.org")],
            envelope.To);
        Assert.Equal([new EmailAddress(null, "bob@example.org")], envelope.Cc);
        Assert.Equal("<c0ffee01.4411@example.net>", envelope.InReplyTo);
        Assert.Equal("T0123456789abcdef", message.ThreadId);
    }

    [Fact]
    public void Parse_AnotherUsersFolder_OwnerIsTheFolderOwnerNotTheActor()
    {
        var read = Fixture("MessageRead-other-user.json");

        Assert.Equal("alice@example.org", read.User);
        Assert.Equal("bob@example.org", read.Mailbox!.Owner);
        Assert.Equal("user/bob/Old@example.org", read.Mailbox.Name);
        Assert.Equal("INBOX/Old", read.Mailbox.FolderPath);
        Assert.Equal([new UidRange(1, 2)], read.UidSet!.Ranges);
        Assert.Equal(["<m1@example.org>", "NIL"], read.MessageIds);
    }

    [Fact]
    public void Parse_SharedFolderWithLiteralSubject_SharedAndExtraKept()
    {
        var append = Fixture("MessageAppend-shared-literal.json");

        Assert.True(append.Mailbox!.IsShared);
        Assert.Null(append.Mailbox.Owner);
        Assert.Equal("shared/Team Inbox@example.org", append.Mailbox.Name);
        Assert.Equal("shared/Team Inbox", append.Mailbox.FolderPath);
        Assert.Equal(9u, append.Mailbox.Uid);
        Assert.Null(append.Envelope!.DateText);
        Assert.Null(append.Envelope.Date);
        Assert.Equal("Schön Tag", append.Envelope.Subject);
        Assert.Equal([new EmailAddress("Team", "team@example.org")], append.Envelope.To);
        Assert.Equal("x.eml", append.Extra["vnd.cmu.davFilename"].GetString());
    }

    [Fact]
    public void Parse_CalendarAlarm_UnknownFieldsKeptInExtra()
    {
        var alarm = Fixture("CalendarAlarm.json");

        Assert.Equal(EventType.CalendarAlarm, alarm.Type);
        Assert.Equal("user/alice/#calendars/Default@example.org", alarm.Mailbox!.Name);
        Assert.Equal("Stand-up", alarm.Extra["summary"].GetString());
        Assert.Equal(JsonValueKind.Array, alarm.Extra["alarmRecipients"].ValueKind);
        Assert.Null(alarm.User);
    }

    [Fact]
    public void Parse_ApplePushServiceAndUnscheduled_TypesAndExtras()
    {
        var push = Fixture("ApplePushService.json");
        var unscheduled = Fixture("MessagesUnscheduled.json");
        var calendar = Fixture("Calendar.json");

        Assert.Equal(EventType.ApplePushService, push.Type);
        Assert.Equal(2, push.Extra["apsVersion"].GetInt32());
        Assert.Equal(EventType.MessagesUnscheduled, unscheduled.Type);
        Assert.Equal(2, unscheduled.Extra["count"].GetInt32());
        Assert.Equal(EventType.Calendar, calendar.Type);
        Assert.Equal(3u, calendar.Mailbox!.Uid);
    }
}
