using System.Text;
using System.Text.Json;
using Bonnie.Pipeline.Backfill;
using Bonnie.Pipeline.Restore;
using Bonnie.Pipeline.Tests.Restore;
using Bonnie.Shared.Events;
using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;
using Microsoft.Extensions.Time.Testing;

namespace Bonnie.Pipeline.Tests.Backfill;

/// <summary>
/// What the backfill writes for mail that was on the server before Bonnie listened: one MessageFound event per place,
/// so that the officers' search (and export and restore by query) reach it, dated by the server's INTERNALDATE.
/// Found by a review: a custodian whose mail had been backfilled got a verified, empty bundle for <c>user:</c>.
/// </summary>
public sealed class BackfillWriterTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 9, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Arrived = new(2026, 3, 14, 15, 9, 26, TimeSpan.Zero);
    private static readonly FoundFolder Archive = new("arch-1", "user/carol/Archive@example.org", "carol@example.org", 7,
        new Dictionary<string, string>(), new Dictionary<string, string>());
    private ArchiveBuilder _a = null!;
    private BackfillWriter _writer = null!;

    public async Task InitializeAsync()
    {
        _a = await ArchiveBuilder.CreateAsync();
        _writer = new BackfillWriter(_a.Store, new FakeTimeProvider(Now), payloads: _a.Payloads);
        await _writer.RecordFolderAsync(Archive, CancellationToken.None);
    }

    public async Task DisposeAsync() => await _a.DisposeAsync();

    private async Task<FoundMessage> FoundAsync(uint uid, string subject, string body, bool withBodyText = true)
    {
        var bytes = Encoding.UTF8.GetBytes(
            $"From: Dana Quist <dana@example.net>\r\nTo: carol@example.org\r\nCc: eve@example.net\r\nSubject: {subject}\r\n"
            + $"Message-ID: <{uid}.{Guid.NewGuid():N}@test>\r\n\r\n{body}\r\n");
        var sha = await _a.Payloads.PutAsync(bytes);
        var key = ImapRestorer.EmailIdOf(bytes);
        return new FoundMessage(key, key, $"<{uid}@test>", bytes.Length, subject, "dana@example.net", uid, ["\\Flagged"], PayloadStatus.Stored, sha,
            Arrived, ["Dana Quist <dana@example.net>"], ["carol@example.org", "eve@example.net"],
            withBodyText ? Bonnie.Pipeline.Worker.Payloads.PayloadFetcher.BodyText(bytes) : null);
    }

    private Task<EventPage> SearchAsync(string q) =>
        _a.Store.SearchEventsAsync(new EventSearch { Query = QueryParser.Parse(q), Limit = 50, Facets = Facets.EventType });

    [Fact]
    public async Task RecordMessages_MailOnTheServerBeforeBonnie_OneFoundEvent_TheSearchFindsItByItsFieldsTextAndDate()
    {
        var found = await FoundAsync(3, "Quarterly merger terms", "The zanzibar clause stays confidential.");

        Assert.Equal(1, await _writer.RecordMessagesAsync(Archive, [found], CancellationToken.None));

        foreach (var q in new[]
        {
            "user:carol@example.org", "subject:\"merger terms\"", "from:dana@example.net", "to:eve@example.net", "zanzibar",
            "folder:user/carol/Archive@example.org", "event:MessageFound", "event:vnd.bonnie.MessageFound", "flag:\\Flagged",
            "on:2026-03-14", $"messageid:\"<3@test>\"",
        })
        {
            var page = await SearchAsync(q);
            var e = Assert.Single(page.Items);
            Assert.Equal(EventType.MessageFound, e.Type);
        }
        Assert.Empty((await SearchAsync("after:2026-12-01")).Items);
        var hit = Assert.Single((await SearchAsync("zanzibar")).Items);
        var stored = await _a.Store.GetEventAsync(hit.Id);
        Assert.NotNull(stored);
        // Dated by the server's INTERNALDATE; when Bonnie found it is its received time.
        Assert.Equal((Arrived, Now), (stored.Timestamp, stored.ReceivedAt));
        Assert.Equal(("vnd.bonnie.MessageFound", "backfill", "carol@example.org", "3"), (stored.Name, stored.Service, stored.User, stored.Uids));
        Assert.Equal([found.Key], stored.MessageKeys);
        // Its record says it is Bonnie's, not a notification, and what was found where.
        using var raw = JsonDocument.Parse(stored.Raw);
        Assert.Contains("not a notification", raw.RootElement.GetProperty("recordedBy").GetString(), StringComparison.Ordinal);
        Assert.Equal(("user/carol/Archive@example.org", 7u, 3u), (raw.RootElement.GetProperty("mailbox").GetString(),
            raw.RootElement.GetProperty("uidValidity").GetUInt32(), raw.RootElement.GetProperty("uid").GetUInt32()));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stored.Raw.Span)), stored.RawSha256);
        // The message's history names it; no change record, as nothing was seen to change.
        var events = await _a.Store.GetEventsForObjectAsync(ObjectKind.Message, found.Key, 10);
        Assert.Equal([stored.Id], events.Select(e => e.Id));
        Assert.Empty(await _a.Store.GetChangesAsync(ObjectKind.Message, found.Key));
    }

    [Fact]
    public async Task RecordMessages_SecondRun_NothingWrittenAndStillOneEvent()
    {
        var found = await FoundAsync(4, "Once only", "body");
        await _writer.RecordMessagesAsync(Archive, [found], CancellationToken.None);

        Assert.Equal(0, await _writer.RecordMessagesAsync(Archive, [found], CancellationToken.None));

        Assert.Single((await SearchAsync("event:MessageFound")).Items);
        Assert.Equal(1, (await _a.Store.GetCountsAsync()).Events);
    }

    [Fact]
    public async Task RecordMessages_PlaceAnEarlierVersionBackfilledWithoutAnEvent_GetsItsEventWithTheBodyFromThePayloadStore()
    {
        // An earlier version recorded the place and its payload, and no event: the next run adds the event, reading the
        // body's text from the payload it kept (the run does not fetch a message it already holds).
        var found = await FoundAsync(5, "Backfilled before", "The walrus ledger.", withBodyText: false);
        var message = new MessageObject { Key = found.Key, EmailId = found.Key, PayloadStatus = PayloadStatus.Stored, PayloadSha256 = found.PayloadSha256, Subject = found.Subject };
        // Versions before 818c44f dated a backfilled place by the backfill's own time; the event takes the INTERNALDATE read now.
        message.Locations.Add(new MessageLocation { FolderId = Archive.Id, Uid = 5, FolderName = Archive.Name, Origin = LocationOrigin.Backfill, Since = Now.AddDays(-2) });
        var batch = new StoreBatch();
        batch.Messages[message.Key] = message;
        await _a.Store.CommitAsync(batch);
        Assert.Empty((await SearchAsync("walrus")).Items);

        Assert.Equal(0, await _writer.RecordMessagesAsync(Archive, [found], CancellationToken.None));

        var e = Assert.Single((await SearchAsync("walrus")).Items);
        Assert.Equal((EventType.MessageFound, Arrived), (e.Type, e.Timestamp));
    }

    [Fact]
    public async Task RecordMessages_PlaceEventsRecorded_NoFoundEvent()
    {
        // Delivered while Bonnie listened: its delivery event already finds it; the backfill adds nothing.
        var folder = await _a.FolderAsync("inbox-1", "user/carol@example.org", Arrived.AddDays(-1));
        var (delivered, _) = await _a.MessageAsync(folder, 8, "Delivered while listening", Arrived);
        var inbox = new FoundFolder(folder.Id, folder.Name, "carol@example.org", 7, new Dictionary<string, string>(), new Dictionary<string, string>());
        var before = (await _a.Store.GetCountsAsync()).Events;

        await _writer.RecordMessagesAsync(inbox, [(await FoundAsync(8, "Delivered while listening", "b")) with { Key = delivered.Key }], CancellationToken.None);

        Assert.Equal(before, (await _a.Store.GetCountsAsync()).Events);
        Assert.Empty((await SearchAsync("event:MessageFound")).Items);
    }

    [Fact]
    public async Task RecordMessages_DeliveryKeptWithoutItsBytes_TheBackfillsBytesComeWithAFoundEventInItsHistory()
    {
        // A live review found the bytes of such a message filled in by the backfill with no trace of when or where.
        var folder = await _a.FolderAsync("inbox-2", "user/carol@example.org", Arrived.AddDays(-1));
        var (delivered, _) = await _a.MessageAsync(folder, 9, "Bytes lost at delivery", Arrived, keepPayload: false);
        var inbox = new FoundFolder(folder.Id, folder.Name, "carol@example.org", 7, new Dictionary<string, string>(), new Dictionary<string, string>());
        var found = (await FoundAsync(9, "Bytes lost at delivery", "the kumquat ledger")) with { Key = delivered.Key };

        await _writer.RecordMessagesAsync(inbox, [found], CancellationToken.None);

        var message = await _a.Store.GetMessageAsync(delivered.Key);
        Assert.Equal(PayloadStatus.Stored, message!.PayloadStatus);
        Assert.Equal(found.PayloadSha256, message.PayloadSha256);
        var e = Assert.Single((await SearchAsync("event:MessageFound")).Items);
        Assert.Equal([delivered.Key], e.MessageKeys);
        Assert.Equal(found.PayloadSha256, e.PayloadSha256);
        Assert.Equal(Now, e.ReceivedAt);
        Assert.Contains(await MessageHistory.EventsAsync(_a.Store, message, 10), x => x.Id == e.Id);
        // A second run finds nothing more to say.
        await _writer.RecordMessagesAsync(inbox, [found], CancellationToken.None);
        Assert.Single((await SearchAsync("event:MessageFound")).Items);
    }
}
