using Bonnie.Pipeline.Restore;
using Bonnie.Web.Audit;
using Bonnie.Web.Components.Pages;
using Bonnie.Web.Security;
using Bonnie.Web.Tests.Infrastructure;
using Bunit;

namespace Bonnie.Web.Tests.Items;

public sealed class MessagePageTests : IAsyncLifetime
{
    private PageTestContext _page = default!;

    public async Task InitializeAsync() => _page = await PageTestContext.CreateAsync(HostileMessage.Bytes);

    public async Task DisposeAsync() => await _page.DisposeAsync();

    private IRenderedComponent<MessageHistory> RenderDelivered()
    {
        var page = _page.Render<MessageHistory>(p => p.Add(x => x.Key, TestStore.DeliveredMessage));
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll(".bonnie-timeline-what")), PageTestContext.Timeout);
        return page;
    }

    [Fact]
    public async Task Timeline_DeliveredMessage_ShowsItsLifeInOrderAndTheViewIsAudited()
    {
        var page = RenderDelivered();

        var what = page.FindAll(".bonnie-timeline-what").Select(e => e.TextContent).ToList();
        Assert.Equal(["Delivered", "Read", "Flag set", "Flagged", "Unflagged", "Copied"], what);
        var entries = page.FindAll(".bonnie-timeline-entry");
        Assert.Contains("to user/alice@example.org", entries[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("$Important", entries[2].TextContent, StringComparison.Ordinal);
        Assert.Contains("lmtp", entries[0].TextContent, StringComparison.Ordinal);
        // The delivery's user is its recipient, not someone who did something (found by a review: "by alice").
        Assert.Contains("for alice@example.org", entries[0].TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain("by alice", entries[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("to user/alice/Archive@example.org", entries[5].TextContent, StringComparison.Ordinal);
        Assert.Contains("by alice@example.org", entries[5].TextContent, StringComparison.Ordinal);
        var view = Assert.Single(await _page.AuditRecordsAsync(), r => r.Action == OfficerActions.MessageViewed);
        Assert.Equal(TestStore.DeliveredMessage, view.Target);
    }

    [Fact]
    public async Task Locations_FolderRenamedSinceTheCopy_ShowTheNameNowAndTheNameThen()
    {
        // Archive renamed to Contracts after the message was copied there.
        var rename = TestStore.ArchiveRenamedToContracts();
        await _page.Store.ProcessAsync(TestStore.Raw(System.Text.Encoding.UTF8.GetBytes(rename)));

        var page = RenderDelivered();

        var rows = page.FindAll("[aria-label='Locations'] tbody tr").Select(r => r.Children[0].TextContent.Trim()).ToList();
        Assert.Equal("user/alice@example.org", rows[0]);
        Assert.Contains("user/alice/Contracts@example.org", rows[1], StringComparison.Ordinal);
        Assert.Contains("(called user/alice/Archive@example.org when the message arrived)", rows[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Locations_APlaceNotLeft_SaysStillThere_AndTheFlagsAreTheLastKnown()
    {
        // "now" beside a place whose last event was weeks old, and "Flags" read as the flags it had all along (\Seen from
        // its delivery on), misled a review: the column holds the last flags learnt there, the history each change.
        var page = RenderDelivered();

        var table = page.Find("[aria-label='Locations']");
        Assert.Contains("Flags last known", table.QuerySelector("thead")!.TextContent, StringComparison.Ordinal);
        Assert.All(table.QuerySelectorAll("tbody tr"), r => Assert.Equal("still there", r.Children[3].TextContent.Trim()));
    }

    [Fact]
    public void HtmlPart_HostileMessage_IsSanitizedIntoASandboxedFrame()
    {
        var page = RenderDelivered();

        var frame = page.Find("iframe");
        Assert.Equal("", frame.GetAttribute("sandbox"));
        var srcdoc = frame.GetAttribute("srcdoc") ?? "";
        Assert.Contains("The report <b>body</b> in HTML.", srcdoc, StringComparison.Ordinal);
        Assert.Contains("default-src 'none'; style-src 'unsafe-inline'; img-src data:", srcdoc, StringComparison.Ordinal);
        Assert.Contains("report link", srcdoc, StringComparison.Ordinal);
        Assert.DoesNotContain("href=", srcdoc, StringComparison.OrdinalIgnoreCase);
        Assert.All(HostileMessage.Forbidden, f => Assert.DoesNotContain(f, srcdoc, StringComparison.OrdinalIgnoreCase));
        // Nothing of the message's HTML is part of the application's own DOM: it exists only inside the srcdoc attribute.
        Assert.Empty(page.FindAll("script, form, input, img[src], [onerror], [onload]"));
        Assert.DoesNotContain(page.FindAll("p, b, div, a"), e => e.TextContent.Contains("The report", StringComparison.Ordinal)
            || e.TextContent.Contains("report link", StringComparison.Ordinal));
    }

    [Fact]
    public void Payload_HostileMessage_ShowsTextHeadersAndASafeAttachmentName()
    {
        var page = RenderDelivered();

        Assert.Contains("The plain text part of the report.", page.Find(".bonnie-message-text").TextContent, StringComparison.Ordinal);
        Assert.Contains(page.FindAll(".bonnie-header-value"), h => h.TextContent == "Quarterly report");
        var attachment = page.Find("a[download][href*='/attachments/0']");
        Assert.Equal("report.pdf", attachment.TextContent);
        Assert.Equal($"messages/{TestStore.DeliveredMessage}/raw", page.Find("[aria-label='Message actions'] a[download]").GetAttribute("href"));
    }

    [Fact]
    public async Task Timeline_MessageTheBackfillFound_FoundAtItsInternalDate_AndItsEventPageSaysTheRecordIsBonniesOwn()
    {
        var arrived = new DateTimeOffset(2026, 3, 14, 15, 9, 26, TimeSpan.Zero);
        var folder = new Bonnie.Pipeline.Backfill.FoundFolder("old-1", "user/carol/Old@example.org", "carol@example.org", 3,
            new Dictionary<string, string>(), new Dictionary<string, string>());
        var writer = new Bonnie.Pipeline.Backfill.BackfillWriter(_page.Store.Store, _page.Clock);
        await writer.RecordFolderAsync(folder, CancellationToken.None);
        await writer.RecordMessagesAsync(folder, [new Bonnie.Pipeline.Backfill.FoundMessage("Mfound1", "Mfound1", "<found@test>", 10, "Old news", "dana@example.net",
            12, ["\\Seen"], Bonnie.Shared.Storage.PayloadStatus.None, null, arrived)], CancellationToken.None);

        var page = _page.Render<MessageHistory>(p => p.Add(x => x.Key, "Mfound1"));

        page.WaitForAssertion(() =>
        {
            var entry = Assert.Single(page.FindAll(".bonnie-timeline-entry"));
            Assert.Equal("Found by the backfill", entry.QuerySelector(".bonnie-timeline-what")!.TextContent);
            Assert.Contains("in user/carol/Old@example.org (UID 12)", entry.TextContent, StringComparison.Ordinal);
            Assert.Contains("2026-03-14", entry.TextContent, StringComparison.Ordinal);
            // Nobody acted: not "by carol", whose mailbox it is.
            Assert.DoesNotContain("by carol", entry.TextContent, StringComparison.Ordinal);
        }, PageTestContext.Timeout);
        var id = Bonnie.Pipeline.Backfill.BackfillWriter.FoundEventId(folder, 12);

        var detail = _page.Render<EventDetail>(p => p.Add(x => x.Id, id));

        detail.WaitForAssertion(() =>
        {
            Assert.Equal("Backfill record", detail.Find("[role=region][aria-label='Backfill record'] h2").TextContent);
            Assert.Contains("Cyrus sent no notification for it", detail.Markup, StringComparison.Ordinal);
            var fields = detail.Find("[aria-label='Event fields']").TextContent;
            Assert.Contains("2026-03-14 15:09:26.000 UTC (the server's INTERNALDATE", fields, StringComparison.Ordinal);
            Assert.Contains("Found by Bonnie", fields, StringComparison.Ordinal);
            Assert.Contains("SHA-256 of the backfill record", fields, StringComparison.Ordinal);
            Assert.DoesNotContain("notification", fields, StringComparison.Ordinal);
            Assert.Contains("\"recordedBy\"", detail.Find("pre.bonnie-raw").TextContent, StringComparison.Ordinal);
        }, PageTestContext.Timeout);
    }

    [Fact]
    public async Task Subject_WithARightToLeftOverride_ShownInTheOrderItWasWrittenWithTheControlVisible()
    {
        // Found by a review: "invoice" + U+202E + "gnp.exe" read "invoiceexe.png" in the title and the search grid.
        var spoof = TestStore.Fixture("MessageNew").Replace("lmtp one", "invoice\u202Egnp.exe", StringComparison.Ordinal)
            .Replace("M743974037cbef97becd11ce5", "M00000000000000000000b1d1", StringComparison.Ordinal)
            .Replace("UID=1\"", "UID=9\"", StringComparison.Ordinal);
        await _page.Store.ProcessAsync(TestStore.Raw(System.Text.Encoding.UTF8.GetBytes(spoof)));

        var page = _page.Render<MessageHistory>(p => p.Add(x => x.Key, "M00000000000000000000b1d1"));
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("h2")), PageTestContext.Timeout);

        var title = page.FindAll("h2")[0].TextContent;
        Assert.Equal("invoice[U+202E]gnp.exe", title);
        Assert.DoesNotContain("\u202E", page.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Timeline_MovedOutOfAFolderRenamedSinceTheCopy_SaysTheNameTheFolderHadAtTheMove()
    {
        // Archive renamed to Contracts, then the copy there moved back to INBOX: a review read "moved from Archive".
        var rename = TestStore.ArchiveRenamedToContracts();
        var move = TestStore.Fixture("vnd.cmu.MessageMove")
            .Replace("imap://imap.example.org/user/alice%40example.org;UIDVALIDITY=1795951197", "imap://imap.example.org/user/alice/Contracts%40example.org;UIDVALIDITY=1795951233", StringComparison.Ordinal)
            .Replace("\"vnd.cmu.oldUidset\":\"2\"", "\"vnd.cmu.oldUidset\":\"2\"", StringComparison.Ordinal)
            .Replace("\"mailboxID\":\"oe16bupldlr2b7ax2w5twkwq\"", "\"mailboxID\":\"sufr9a0wrxwpaaifzy6ge6cu\"", StringComparison.Ordinal)
            .Replace("imap://imap.example.org/user/alice/Archive%40example.org;UIDVALIDITY=1795951233", "imap://imap.example.org/user/alice%40example.org;UIDVALIDITY=1795951197", StringComparison.Ordinal)
            .Replace("\"uidset\":\"3\"", "\"uidset\":\"5\"", StringComparison.Ordinal)
            .Replace("179595122895.12822.14042202990968850809", "179595122889.12822.11728137019898957721", StringComparison.Ordinal)
            .Replace("11:20:47.299Z", "11:40:00.000Z", StringComparison.Ordinal);
        await _page.Store.ProcessAsync(TestStore.Raw(System.Text.Encoding.UTF8.GetBytes(rename)));
        await _page.Store.ProcessAsync(TestStore.Raw(System.Text.Encoding.UTF8.GetBytes(move)));

        var page = _page.Render<MessageHistory>(p => p.Add(x => x.Key, TestStore.DeliveredMessage));
        page.WaitForAssertion(() => Assert.Contains(page.FindAll(".bonnie-timeline-what"), e => e.TextContent == "Moved"), PageTestContext.Timeout);

        var moved = page.FindAll(".bonnie-timeline-entry").Single(e => e.QuerySelector(".bonnie-timeline-what")!.TextContent == "Moved");
        Assert.Contains("from user/alice/Contracts@example.org to user/alice@example.org", moved.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Timeline_EventThatChangedNothing_SaysWhatItWasInWords()
    {
        // A review found bare event names ("MessageRead", "FlagsSet") beside readable entries, with no word of what they did.
        var again = TestStore.Fixture("MessageRead").Replace("\"timestamp\":\"2026-11-29T", "\"timestamp\":\"2026-11-30T", StringComparison.Ordinal);
        await _page.Store.ProcessAsync(TestStore.Raw(System.Text.Encoding.UTF8.GetBytes(again)));

        var page = RenderDelivered();

        var entries = page.FindAll(".bonnie-timeline-entry");
        var entry = entries[^1];
        Assert.Equal("Read", entry.QuerySelector(".bonnie-timeline-what")!.TextContent);
        Assert.Contains("nothing changed (read already", entry.TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain(page.FindAll(".bonnie-timeline-what"), e => e.TextContent == "MessageRead");
    }

    [Fact]
    public async Task Timeline_MessageFlaggedHundredsOfTimes_AFirstPartShownAndMoreOnRequest()
    {
        // A review: 2,000 flag changes made one page 268,735 px tall that took seconds to draw.
        for (var i = 0; i < 150; i++)
        {
            var day = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(i * 2);
            string At(DateTimeOffset t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
            foreach (var (name, at) in new[] { ("FlagsSet", day), ("FlagsClear", day.AddMinutes(1)) })
            {
                var json = System.Text.RegularExpressions.Regex.Replace(TestStore.Fixture(name), "\"timestamp\":\"[^\"]*\"", $"\"timestamp\":\"{At(at)}\"");
                await _page.Store.ProcessAsync(TestStore.Raw(System.Text.Encoding.UTF8.GetBytes(json)));
            }
        }

        // Awaited rather than waited for: hundreds of entries take a while to draw, and a blocked thread beside other tests
        // can starve the renderer (seen once in the whole suite).
        var page = _page.Render<MessageHistory>(p => p.Add(x => x.Key, TestStore.DeliveredMessage));
        await page.WaitForAssertionAsync(() => Assert.Equal(250, page.FindAll(".bonnie-timeline-entry").Count), PageTestContext.Timeout * 3);

        Assert.Contains("250 of ", page.Find("[aria-label='Timeline'] [role='status']").TextContent, StringComparison.Ordinal);
        await page.Find("[aria-label='Timeline'] button:contains('Show more')").ClickAsync(new Microsoft.AspNetCore.Components.Web.MouseEventArgs());
        await page.WaitForAssertionAsync(() => Assert.True(page.FindAll(".bonnie-timeline-entry").Count > 250), PageTestContext.Timeout * 3);
        Assert.Empty(page.FindAll("[aria-label='Timeline'] button:contains('Show more')"));
    }

    [Fact]
    public void Render_UnknownKey_SaysSo()
    {
        var page = _page.Render<MessageHistory>(p => p.Add(x => x.Key, "Mdoesnotexist"));

        page.WaitForAssertion(() => Assert.Contains("No message is stored", page.Find("[role=alert]").TextContent, StringComparison.Ordinal),
            PageTestContext.Timeout);
    }

    [Fact]
    public async Task RestoredByBonnie_TheAuditsRecordOfTheRestore_SaysWhichArrivalWasBonniesAndForWhom()
    {
        // Cyrus reports the restore's APPEND as alice's own; the audit's record of how the restore ended lists the message.
        await RecordRestoreAsync(new RestoredMessage(TestStore.DeliveredMessage, "user/alice/Restored items@example.org", TestStore.DeliveredMessage, 42),
            new RestoredMessage("Mffffffffffffffffffffffff", "user/bob@example.org", "Mffffffffffffffffffffffff", 7));

        _page.Authorization.SetPolicies(BonniePolicies.CanAdminister);

        var page = RenderDelivered();

        var notice = Assert.Single(page.FindAll("[aria-label='Restored by Bonnie']"));
        Assert.Contains("into user/alice/Restored items@example.org as UID 42", notice.TextContent, StringComparison.Ordinal);
        Assert.Contains("for officer-rest (restore job job0123)", notice.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RestoredByBonnie_AnOfficerWhoMayNotReadTheAuditLog_ToldThatBonnieRestoredItNotByWhom()
    {
        await RecordRestoreAsync(new RestoredMessage(TestStore.DeliveredMessage, "user/alice@example.org", TestStore.DeliveredMessage, 9));

        var page = RenderDelivered();

        var notice = Assert.Single(page.FindAll("[aria-label='Restored by Bonnie']"));
        Assert.Contains("into user/alice@example.org as UID 9", notice.TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain("officer-rest", notice.TextContent, StringComparison.Ordinal);
    }

    /// <summary>
    /// What the restore records as it ends, written by the code that writes it (<see cref="Bonnie.Web.Api.RestoreStarter.Outcome"/>),
    /// so the page is tested against the record's real form.
    /// </summary>
    private async Task RecordRestoreAsync(params RestoredMessage[] stored)
    {
        using var cancel = new CancellationTokenSource();
        var job = new RestoreJob("job0123", "officer-rest", new RestoreRequest { Scope = RestoreScope.Messages, MessageKeys = [TestStore.DeliveredMessage] },
            new RestorePlan(null, [], []), DateTimeOffset.UtcNow, cancel) { State = RestoreJobState.Completed };
        foreach (var message in stored)
        {
            job.AddRestored(message);
        }
        await _page.Audit.RecordAsync(new OfficerAuditEntry("officer-rest", OfficerActions.Restore, "messages " + TestStore.DeliveredMessage,
            Bonnie.Web.Api.RestoreStarter.Outcome(job)));
    }

    [Fact]
    public void RestoredByBonnie_NoRestoreOfIt_NoNotice()
    {
        var page = RenderDelivered();

        Assert.Empty(page.FindAll("[aria-label='Restored by Bonnie']"));
    }
}
