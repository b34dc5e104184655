using System.Globalization;
using System.Text.Json;
using Bonnie.Pipeline.Tests.Storage;
using Bonnie.Pipeline.Worker;
using Bonnie.Shared.Storage;

namespace Bonnie.Pipeline.Tests.Worker;

/// <summary>
/// Every Cyrus 2.5/Kolab notification in events-2.5 through the handlers, alone and in the sequences a mailbox lives
/// through: the histories an officer reads. 2.5 gives folders no unique id, so a folder's key is its first name,
/// lower-cased (<c>name:…</c>), and the owner's view (<c>INBOX</c>, <c>Sent</c>) becomes the admin name.
/// </summary>
public sealed class Handler25HistoryTests : IAsyncLifetime
{
    private const string Sam = "sam.park@example.org";
    private const string Session = "imap.example.org-3990-1425370800-1";
    private const string InboxName = "user/sam.park@example.org";
    private const string Inbox = "name:user/sam.park@example.org";
    private const string ContractsName = "user/sam.park/Projects/Contracts@example.org";
    private const string Contracts = "name:user/sam.park/projects/contracts@example.org";
    private const string SignedName = "user/sam.park/Projects/Signed@example.org";
    private const string Delivered = "mid:<c0ffee01.4411@example.net>:507";
    private TestPipeline _p = null!;

    public async Task InitializeAsync() => _p = await TestPipeline.CreateAsync();

    public async Task DisposeAsync() => await _p.DisposeAsync();

    private static string Ev(string name) => Fixture.Load("events-2.5/" + name + ".json");

    private async Task<List<string>> HistoryAsync(ObjectKind kind, string id)
        => (await _p.Store.GetChangesAsync(kind, id)).Select(c => $"{Fixture.Describe(c)} [in {c.FolderName}]").ToList();

    private static string Uri(string folder, string uidValidity) => $"imap://{Sam}@imap.example.org/{folder};UIDVALIDITY={uidValidity}";

    private static string Flags25(string folder, string uid, string ts)
        => $"{{\"event\": \"FlagsSet\", \"flagNames\": \"\\\\Flagged\", \"modseq\": 12, \"pid\": 3990, \"service\": \"imap\", \"timestamp\": \"{ts}\", \"uidset\": \"{uid}\", \"uri\": \"{Uri(folder, "1424000009")}\", \"user\": \"{Sam}\", \"vnd.cmu.midset\": [\"<c0ffee01.4411@example.net>\"], \"vnd.cmu.sessionId\": \"{Session}\"}}";

    private static string Expunge25(string folder, string uidValidity, string uidset, string ts)
        => $"{{\"event\": \"MessageExpunge\", \"modseq\": 90, \"pid\": 3990, \"service\": \"imap\", \"timestamp\": \"{ts}\", \"uidset\": \"{uidset}\", \"uri\": \"{Uri(folder, uidValidity)}\", \"user\": \"{Sam}\", \"vnd.cmu.sessionId\": \"{Session}\"}}";

    private static string Create25(string folder, string ts)
        => $"{{\"event\": \"MailboxCreate\", \"user\": \"{Sam}\", \"service\": \"imap\", \"timestamp\": \"{ts}\", \"uri\": \"{Uri(folder, "1424000009")}\", \"vnd.cmu.sessionId\": \"{Session}\"}}";

    private static string Rename25(string from, string to, string ts)
        => $"{{\"event\": \"MailboxRename\", \"user\": \"{Sam}\", \"service\": \"imap\", \"timestamp\": \"{ts}\", \"oldMailboxID\": \"{Uri(from, "1424000009")}\", \"uri\": \"{Uri(to, "1424000009")}\", \"vnd.cmu.sessionId\": \"{Session}\"}}";

    private static string Delete25(string folder, string ts)
        => $"{{\"event\": \"MailboxDelete\", \"user\": \"{Sam}\", \"service\": \"imap\", \"timestamp\": \"{ts}\", \"uri\": \"{Uri(folder, "1424000009")}\", \"vnd.cmu.sessionId\": \"{Session}\"}}";

    private static string New25(uint uid, string mid, string ts)
        => $"{{\"event\": \"MessageNew\", \"messageSize\": 600, \"modseq\": 89, \"pid\": 4102, \"service\": \"lmtpunix\", \"timestamp\": \"{ts}\", \"uidset\": \"{uid}\", \"uri\": \"{Uri("INBOX", "1424000001")}/;UID={uid}\", \"user\": \"{Sam}\", \"vnd.cmu.midset\": [\"{mid}\"], \"vnd.cmu.sessionId\": \"imap.example.org-4102-1425370360-{uid}\"}}";

    [Fact]
    public async Task Delivery_SubjectAndAddressesFromKolabHeaders_SearchedAndOnTheMessage()
    {
        // 2.5 sends no vnd.cmu.envelope: subject:, from: and to: must still find its deliveries.
        await _p.RunAllAsync(Ev("MessageNew"));

        foreach (var query in new[] { "subject:\"contract draft\"", "from:erin@example.net", "to:sam.park@example.org", "from:Müller" })
        {
            var page = await _p.Store.SearchEventsAsync(new Bonnie.Shared.Search.EventSearch { Query = Bonnie.Shared.Search.QueryParser.Parse(query) });
            Assert.True(page.Total == 1, $"{query} found {page.Total}");
        }
        var stored = Assert.Single((await _p.Store.SearchEventsAsync(new Bonnie.Shared.Search.EventSearch
        {
            Query = Bonnie.Shared.Search.QueryParser.Parse("event:MessageNew"),
        })).Items);
        Assert.Equal("Contract draft v2", stored.Subject);
        Assert.Equal(["Erin Müller <erin@example.net>"], stored.From);
        Assert.Equal(["Park, Sam <sam.park@example.org>"], stored.To);
        var message = (await _p.Store.GetMessageAsync(Delivered))!;
        Assert.Equal(("Contract draft v2", "erin@example.net"), (message.Subject, message.From));
    }

    public static TheoryData<string, ObjectKind, string, string[]> EachAlone() => new()
    {
        { "MailboxCreate", ObjectKind.Folder, "name:user/sam.park/calendar/team@example.org",
            ["Existence absent -> present [in user/sam.park/Calendar/Team@example.org]"] },
        { "MessageNew", ObjectKind.Message, Delivered,
            ["Existence absent -> present [in ]", $"Location delivered - -> {Inbox}/12 [in {InboxName}]"] },
        { "MessageAppend", ObjectKind.Message, "mid:<reply-77.sam@example.org>:431",
            [
                "Existence absent -> present [in ]", "Location appended - -> name:user/sam.park/sent@example.org/40 [in user/sam.park/Sent@example.org]",
                "Flag \\Seen unset -> set [in user/sam.park/Sent@example.org]",
            ] },
        // A copy out of a message Bonnie never saw arrive: the copy is what happened, the source place only seen.
        { "MessageCopy", ObjectKind.Message, "mid:<c0ffee01.4411@example.net>",
            [$"Location copied - -> {Contracts}/3 [in {ContractsName}]"] },
        { "QuotaExceeded", ObjectKind.Folder, Inbox,
            [
                $"Quota messages-limit - -> 0 [in {InboxName}]", $"Quota messages-used - -> 1210 [in {InboxName}]",
                $"Quota storage-limit - -> 1048576 [in {InboxName}]", $"Quota storage-used - -> 1049000 [in {InboxName}]",
                $"Quota state - -> exceeded [in {InboxName}]",
            ] },
    };

    [Theory]
    [MemberData(nameof(EachAlone))]
    public async Task EachNotification_Alone_TheHistoryItMakes(string name, ObjectKind kind, string id, string[] expected)
    {
        var json = Ev(name);
        await _p.RunAllAsync(json);

        Assert.Equal(expected, await HistoryAsync(kind, id));
        // Each record is the event's: sam's, at the moment the event gives (a local time with its offset), under its id.
        var sent = DateTimeOffset.Parse(JsonDocument.Parse(json).RootElement.GetProperty("timestamp").GetString()!, CultureInfo.InvariantCulture);
        Assert.All(await _p.Store.GetChangesAsync(kind, id), c =>
        {
            Assert.Equal(Sam, c.Actor.User);
            Assert.Equal(sent, c.At);
            Assert.Equal(TestPipeline.JobFor(json).Id, c.EventId);
        });
    }

    [Fact]
    public async Task Login_Alone_OpensSamsSession_OnNoFolder()
    {
        await _p.RunAllAsync(Ev("Login"));

        var session = Assert.Single(await _p.Store.GetSessionsForUserAsync(Sam, 10));
        Assert.Equal((Session, "2001:db8::17", "imap"), (session.Id, session.ClientIp, session.Service));
        Assert.Equal(DateTimeOffset.Parse("2015-03-03T08:20:00.001Z", CultureInfo.InvariantCulture), session.LoginAt);
        Assert.Null(session.LogoutAt);
        var stored = await _p.Store.GetEventAsync(TestPipeline.JobFor(Ev("Login")).Id);
        Assert.Equal((Sam, "2001:db8::17", (string?)null), (stored!.User, stored.ClientIp, stored.FolderId));
    }

    [Fact]
    public async Task LoginAppendLogout_OneSession_AndTheAppendAttributedToItsClientAddress()
    {
        var append = Ev("MessageAppend");
        var logout = Fixture.Edit(Ev("Login"), ("\"Login\"", "\"Logout\""), ("09:20:00.001+01:00", "09:40:00.000+01:00"));
        await _p.RunAllAsync(Ev("Login"), append, logout);

        var session = Assert.Single(await _p.Store.GetSessionsForUserAsync(Sam, 10));
        Assert.Equal(TimeSpan.FromMinutes(20) - TimeSpan.FromMilliseconds(1), session.Duration);
        Assert.Equal((TestPipeline.JobFor(Ev("Login")).Id, TestPipeline.JobFor(logout).Id), (session.LoginEventId, session.LogoutEventId));
        // The append carries no client address; its session's login does.
        var at = "2015-03-03T08:20:02.0040000Z";
        var where = "in user/sam.park/Sent@example.org uid 40";
        Assert.Equal(
            [
                $"Existence absent -> present | in - uid - | by {Sam} (imap) | at {at} | event {TestPipeline.JobFor(append).Id}",
                $"Location appended - -> name:user/sam.park/sent@example.org/40 | {where} | by {Sam} (imap) | at {at} | event {TestPipeline.JobFor(append).Id}",
                $"Flag \\Seen unset -> set | {where} | by {Sam} (imap) | at {at} | event {TestPipeline.JobFor(append).Id}",
            ],
            (await _p.Store.GetChangesAsync(ObjectKind.Message, "mid:<reply-77.sam@example.org>:431")).Select(Fixture.DescribeFully));
        Assert.All(await _p.Store.GetChangesAsync(ObjectKind.Message, "mid:<reply-77.sam@example.org>:431"),
            c => Assert.Equal(new Actor(Sam, Session, "2001:db8::17", "imap"), c.Actor));
    }

    [Fact]
    public async Task DeliveryCopyFlagExpunge_OneMessageHistory_TheCopyOutlivesTheExpunge()
    {
        var flag = Flags25("Projects/Contracts", "3", "2015-03-03T09:26:00.000+01:00");
        var expunge = Expunge25("INBOX", "1424000001", "12", "2015-03-03T09:27:00.000+01:00");
        await _p.RunAllAsync(Ev("MessageNew"), Ev("MessageCopy"), flag, expunge);

        Assert.Equal(
            [
                "Existence absent -> present [in ]",
                $"Location delivered - -> {Inbox}/12 [in {InboxName}]",
                $"Location copied - -> {Contracts}/3 [in {ContractsName}]",
                $"Flag \\Flagged unset -> set [in {ContractsName}]",
                $"Location expunged {Inbox}/12 -> - [in {InboxName}]",
            ],
            await HistoryAsync(ObjectKind.Message, Delivered));
        var changes = await _p.Store.GetChangesAsync(ObjectKind.Message, Delivered);
        Assert.Equal(
            [TestPipeline.JobFor(Ev("MessageNew")).Id, TestPipeline.JobFor(Ev("MessageNew")).Id, TestPipeline.JobFor(Ev("MessageCopy")).Id,
                TestPipeline.JobFor(flag).Id, TestPipeline.JobFor(expunge).Id],
            changes.Select(c => c.EventId));
        var message = await _p.Store.GetMessageAsync(Delivered);
        Assert.Equal([$"{Contracts}/3"], message!.Locations.Where(l => l.Until is null).Select(l => l.Address));
        // No second message made up from the copy's Message-ID; the folders, never created before Bonnie, did not change.
        Assert.Null(await _p.Store.GetMessageAsync("mid:<c0ffee01.4411@example.net>"));
        Assert.Empty(await _p.Store.GetChangesAsync(ObjectKind.Folder, Inbox));
        Assert.Empty(await _p.Store.GetChangesAsync(ObjectKind.Folder, Contracts));
    }

    [Fact]
    public async Task CreateRenameDelete_ThenTheOldNameCreatedAgain_IsAnotherFolder_AndAReplayedDeleteLeavesItAlone()
    {
        var delete = Delete25("Projects/Signed", "2015-03-03T09:35:00.000+01:00");
        var recreate = Create25("Projects/Contracts", "2015-03-03T09:40:00.000+01:00");
        await _p.RunAllAsync(Ev("MessageNew"), Create25("Projects/Contracts", "2015-03-03T09:20:00.000+01:00"), Ev("MessageCopy"),
            Rename25("Projects/Contracts", "Projects/Signed", "2015-03-03T09:30:00.000+01:00"), delete, recreate);

        Assert.Equal(
            [
                $"Existence absent -> present [in {ContractsName}]",
                $"Name {ContractsName} -> {SignedName} [in {SignedName}]",
                $"Existence present -> absent [in {SignedName}]",
            ],
            await HistoryAsync(ObjectKind.Folder, Contracts));
        // The copy left with the deleted folder, recorded under the name it had then; the INBOX original stays.
        Assert.Equal(
            [
                "Existence absent -> present [in ]", $"Location delivered - -> {Inbox}/12 [in {InboxName}]",
                $"Location copied - -> {Contracts}/3 [in {ContractsName}]", $"Location folder-deleted {Contracts}/3 -> - [in {SignedName}]",
            ],
            await HistoryAsync(ObjectKind.Message, Delivered));
        var again = await _p.Store.FindFolderByNameAsync(ContractsName);
        Assert.NotNull(again);
        Assert.NotEqual(Contracts, again.Id);
        Assert.StartsWith(Contracts + ";", again.Id, StringComparison.Ordinal);
        var recreated = await HistoryAsync(ObjectKind.Folder, again.Id);
        Assert.Equal([$"Existence absent -> present [in {ContractsName}]"], recreated);

        // The old delete handed out again (its worker lost) must not find the new folder by the name.
        Assert.IsType<JobOutcome.Done>(await _p.RunAsync(delete, attempt: 2));
        Assert.IsType<JobOutcome.Done>(await _p.RunAsync(Delete25("Projects/Signed", "2015-03-03T09:35:00.000+01:00"), attempt: 3));
        Assert.True((await _p.Store.GetFolderAsync(again.Id))!.Exists);
        Assert.Equal(recreated, await HistoryAsync(ObjectKind.Folder, again.Id));
    }

    [Fact]
    public async Task DeliveryThenQuotaExceeded_OneInboxFolder()
    {
        await _p.RunAllAsync(Ev("MessageNew"), Ev("QuotaExceeded"));

        Assert.Equal(
            [
                $"Quota messages-limit - -> 0 [in {InboxName}]", $"Quota messages-used - -> 1210 [in {InboxName}]",
                $"Quota storage-limit - -> 1048576 [in {InboxName}]", $"Quota storage-used - -> 1049000 [in {InboxName}]",
                $"Quota state - -> exceeded [in {InboxName}]",
            ],
            await HistoryAsync(ObjectKind.Folder, Inbox));
        Assert.Equal(Inbox, (await _p.Store.FindFolderByNameAsync(InboxName))!.Id);
        Assert.Equal(Delivered, (await _p.Store.FindMessageAtAsync(Inbox, 12))!.Key);
    }

    [Fact]
    public async Task DeliveriesThenMoveThenItsExpunge_EachMessageMovedToTheUidListedOppositeIt()
    {
        // The move lists its source UIDs as 14,13 and the new ones as 4:5: 14 became 4 and 13 became 5.
        await _p.RunAllAsync(New25(13, "<a2@example.net>", "2015-03-03T09:10:00.000-05:00"), New25(14, "<a1@example.net>", "2015-03-03T09:11:00.000-05:00"),
            Fixture.Load("fixtures/2.5-MessageMove.json"), Expunge25("INBOX", "1424000001", "13:14", "2015-03-03T09:26:00.300-05:00"));

        // 2.5 names the folder in modified UTF-7, as on the wire (the decoded "Entwürfe" is the event's folder path).
        const string Drafts = "name:user/sam.park/entw&apw-rfe@example.org";
        const string DraftsName = "user/sam.park/Entw&APw-rfe@example.org";
        Assert.Equal(
            ["Existence absent -> present [in ]", $"Location delivered - -> {Inbox}/14 [in {InboxName}]", $"Location moved {Inbox}/14 -> {Drafts}/4 [in {DraftsName}]"],
            await HistoryAsync(ObjectKind.Message, "mid:<a1@example.net>:600"));
        Assert.Equal(
            ["Existence absent -> present [in ]", $"Location delivered - -> {Inbox}/13 [in {InboxName}]", $"Location moved {Inbox}/13 -> {Drafts}/5 [in {DraftsName}]"],
            await HistoryAsync(ObjectKind.Message, "mid:<a2@example.net>:600"));
        Assert.Null(await _p.Store.GetMessageAsync("mid:<a1@example.net>"));
        Assert.Null(await _p.Store.GetMessageAsync("mid:<a2@example.net>"));
    }
}
