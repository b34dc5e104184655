using System.Text;
using Bonnie.Shared.Storage;
using Bonnie.Web.Components.Pages;
using Bonnie.Web.Search;
using Bonnie.Web.Tests.Infrastructure;
using Bunit;

namespace Bonnie.Web.Tests.Items;

/// <summary>The user, quarantine and event pages, saved searches and paging, over the same real store.</summary>
public sealed class ItemPagesTests : IAsyncLifetime
{
    private PageTestContext _page = default!;

    public async Task InitializeAsync() => _page = await PageTestContext.CreateAsync();

    public async Task DisposeAsync() => await _page.DisposeAsync();

    [Fact]
    public async Task UserPage_Cyrus_ShowsTheSessionLoginsByAddressAndActions()
    {
        // A session of which only the logout was seen counts as a session from its address, not as a login (a review
        // found 47 "logins" from an address with none).
        var logoutOnly = TestStore.Fixture("Logout").Replace("14971745235264492537", "1", StringComparison.Ordinal)
            .Replace("\"clientIP\":\"127.0.0.1\"", "\"clientIP\":\"192.0.2.9\"", StringComparison.Ordinal);
        await _page.Store.ProcessAsync(TestStore.Raw(System.Text.Encoding.UTF8.GetBytes(logoutOnly)));

        var page = _page.Render<UserHistory>(p => p.Add(x => x.Login, "cyrus"));

        page.WaitForAssertion(() =>
        {
            var sessions = page.FindAll("[aria-label='Sessions'] tbody tr.mud-table-row");
            Assert.Equal(2, sessions.Count);
            var session = Assert.Single(sessions, r => r.TextContent.Contains("127.0.0.1", StringComparison.Ordinal));
            Assert.Contains("00:00:00", session.TextContent, StringComparison.Ordinal);
            var addresses = page.FindAll("[aria-label='Sessions by address'] tbody tr")
                .Select(r => string.Join(" | ", r.Children.Take(3).Select(c => c.TextContent.Trim()))).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(["127.0.0.1 | 1 | 1", "192.0.2.9 | 1 | 0"], addresses);
            Assert.Empty(page.FindAll("[aria-label='Sessions'] [role='note']"));
            Assert.NotEmpty(page.FindAll("[aria-label='Actions'] tbody tr.mud-table-row"));
        }, PageTestContext.Timeout);
    }

    [Fact]
    public void UserPage_LoginNeverSeen_SaysSo_InsteadOfEmptyTables()
    {
        // A review opened a login Bonnie had never seen and read "No session recorded", "All 0 in search" as a user who
        // had done nothing.
        var unknown = _page.Render<UserHistory>(p => p.Add(x => x.Login, ItemLinks.Encode("nobody \"quoted\"@example.org")));
        var known = _page.Render<UserHistory>(p => p.Add(x => x.Login, "cyrus"));

        unknown.WaitForAssertion(() =>
        {
            var notice = unknown.Find("[aria-label='User not seen']");
            Assert.Contains("no session and no event of this user", notice.TextContent, StringComparison.Ordinal);
            Assert.Equal("search?q=" + Uri.EscapeDataString("\"nobody \\\"quoted\\\"@example.org\""), notice.QuerySelector("a")!.GetAttribute("href"));
            Assert.Empty(unknown.FindAll("[aria-label='Sessions']"));
        }, PageTestContext.Timeout);
        known.WaitForAssertion(() =>
        {
            Assert.NotEmpty(known.FindAll("[aria-label='Sessions'] tbody tr.mud-table-row"));
            Assert.Empty(known.FindAll("[aria-label='User not seen']"));
        }, PageTestContext.Timeout);
        // The text search it offers is one phrase, whatever the login holds.
        var phrase = Assert.IsType<Bonnie.Shared.Search.TextNode>(Bonnie.Shared.Search.QueryParser.Parse(QueryTerms.Phrase("nobody \"quoted\"@example.org")).Root);
        Assert.True(phrase.IsPhrase);
    }

    [Fact]
    public async Task UserPage_SessionOverADay_AndOneWithoutALogout_SaidInWords()
    {
        // A review read "1.07:03:10" and, weeks later, "open" for a session whose logout never came.
        await _page.Store.ProcessAsync(
            TestStore.Session("Login", "long-session", new DateTimeOffset(2026, 11, 20, 8, 0, 0, TimeSpan.Zero)),
            TestStore.Session("Logout", "long-session", new DateTimeOffset(2026, 11, 21, 15, 3, 10, TimeSpan.Zero)),
            TestStore.Session("Login", "never-closed", new DateTimeOffset(2026, 11, 22, 9, 0, 0, TimeSpan.Zero)));

        var page = _page.Render<UserHistory>(p => p.Add(x => x.Login, "cyrus"));

        page.WaitForAssertion(() =>
        {
            var sessions = page.FindAll("[aria-label='Sessions'] tbody tr.mud-table-row");
            Assert.Contains("1 d 07:03:10", Assert.Single(sessions, r => r.TextContent.Contains("2026-11-20", StringComparison.Ordinal)).TextContent, StringComparison.Ordinal);
            var open = Assert.Single(sessions, r => r.TextContent.Contains("2026-11-22", StringComparison.Ordinal)).TextContent;
            Assert.Contains("no logout seen", open, StringComparison.Ordinal);
            Assert.DoesNotContain("open", open, StringComparison.Ordinal);
        }, PageTestContext.Timeout);
    }

    [Fact]
    public async Task EventPage_CopysOldFolder_LinksToThatFolder_AsItsFolderDoes()
    {
        // A review: the folder a copy came from was plain text beside a linked folder.
        var copy = Assert.Single((await _page.Store.Store.SearchEventsAsync(new Bonnie.Shared.Search.EventSearch { Query = Bonnie.Shared.Search.QueryParser.Parse("event:MessageCopy") })).Items);
        Assert.NotNull(copy.OldFolderId);

        var page = _page.Render<EventDetail>(p => p.Add(x => x.Id, copy.Id));

        page.WaitForAssertion(() =>
        {
            var row = Assert.Single(page.FindAll("tr"), r => r.QuerySelector("th")?.TextContent.Trim() == "Old folder");
            Assert.Equal(ItemLinks.Folder(copy.OldFolderId!), row.QuerySelector("a")!.GetAttribute("href"));
        }, PageTestContext.Timeout);
    }

    [Fact]
    public async Task EventPage_JobIdIsTheNotificationsHash_SaidOnce()
    {
        // A review read "Job id" and "SHA-256 of the notification", the same 64 hex digits, as two ids.
        var copy = Assert.Single((await _page.Store.Store.SearchEventsAsync(new Bonnie.Shared.Search.EventSearch { Query = Bonnie.Shared.Search.QueryParser.Parse("event:MessageCopy") })).Items);
        Assert.Equal(copy.Id, copy.RawSha256, ignoreCase: true);

        var page = _page.Render<EventDetail>(p => p.Add(x => x.Id, copy.Id));

        page.WaitForAssertion(() =>
        {
            var rows = page.FindAll("tr").Where(r => r.TextContent.Contains(copy.Id, StringComparison.OrdinalIgnoreCase)).ToList();
            var row = Assert.Single(rows);
            Assert.Equal("Job id, the notification's SHA-256", row.QuerySelector("th")!.TextContent.Trim());
        }, PageTestContext.Timeout);
    }

    [Fact]
    public async Task EventPage_SessionAndClientAddress_LinkToTheSessionsTrailAndTheAddressesEvents()
    {
        // Found by a review: plain text here, links everywhere else.
        var id = Assert.Single((await _page.Store.Store.SearchEventsAsync(new Bonnie.Shared.Search.EventSearch { Query = Bonnie.Shared.Search.QueryParser.Parse("event:Login") })).Items).Id;

        var page = _page.Render<EventDetail>(p => p.Add(x => x.Id, id));

        page.WaitForAssertion(() =>
        {
            var links = page.FindAll("a").Select(a => a.GetAttribute("href")).ToList();
            Assert.Contains(Bonnie.Web.Search.ItemLinks.Search("session:cyrus-1795951187-11381-2-14971745235264492537"), links);
            Assert.Contains(Bonnie.Web.Search.ItemLinks.Search("ip:127.0.0.1"), links);
        }, PageTestContext.Timeout);
    }

    [Fact]
    public void QuarantinePage_UnreadableNotification_ShowsReasonAndHexWhenExpanded()
    {
        var page = _page.Render<Quarantine>();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("tbody tr.mud-table-row")), PageTestContext.Timeout);
        Assert.Contains("parse", page.Find("tbody tr.mud-table-row").TextContent, StringComparison.Ordinal);
        // One page holds it: no page buttons to turn (they said "Page 1" under a single row, a review).
        Assert.Empty(page.FindAll("nav[aria-label='Quarantine pages']"));

        page.Find("tbody tr.mud-table-row button").Click();

        page.WaitForAssertion(() =>
        {
            var raw = page.Find("pre.bonnie-raw").TextContent;
            Assert.StartsWith("00000000  7b ff fe 3c 73 63 72 69 70 74 3e", raw, StringComparison.Ordinal);
            Assert.Contains("Not valid UTF-8", page.Markup, StringComparison.Ordinal);
            Assert.Empty(page.FindAll("tbody script"));
        }, PageTestContext.Timeout);
    }

    [Fact]
    public async Task QuarantinePage_FailedJobsOneStoredSince_EachMarkedWhetherItsEventIsStoredNow()
    {
        var login = TestStore.Job("Login");
        var batch = new StoreBatch();
        batch.Quarantine.Add(new QuarantineItem
        {
            JobId = login.Id, At = DateTimeOffset.UtcNow, Stage = QuarantineStages.Failed, Reason = "processing Login failed: the store was closing",
            RawSha256 = "", Raw = login.Notification,
        });
        batch.Quarantine.Add(new QuarantineItem
        {
            JobId = "0f" + new string('0', 62), At = DateTimeOffset.UtcNow.AddSeconds(1), Stage = QuarantineStages.Broker,
            Reason = "the broker gave up after 8 attempts: deadline missed", RawSha256 = "", Raw = "{}"u8.ToArray(),
        });
        await _page.Store.Store.CommitAsync(batch);

        var page = _page.Render<Quarantine>();

        page.WaitForAssertion(() =>
        {
            var rows = page.FindAll("tbody tr.mud-table-row").Select(r => r.TextContent).ToList();
            Assert.Equal(3, rows.Count);
            Assert.Contains(rows, r => r.Contains("broker", StringComparison.Ordinal) && r.Contains("Not stored", StringComparison.Ordinal));
            Assert.Contains(rows, r => r.Contains("the store was closing", StringComparison.Ordinal) && r.Contains("Stored since", StringComparison.Ordinal));
            Assert.Contains(rows, r => r.Contains("parse", StringComparison.Ordinal) && r.Contains("Unreadable", StringComparison.Ordinal));
        }, PageTestContext.Timeout);
    }

    [Fact]
    public async Task EventPage_MessageNew_ShowsTheRawNotificationIndented()
    {
        var events = await _page.Store.Store.SearchEventsAsync(new Shared.Search.EventSearch { Query = Shared.Search.QueryParser.Parse("event:MessageNew") });
        var id = Assert.Single(events.Items).Id;

        var page = _page.Render<EventDetail>(p => p.Add(x => x.Id, id));

        page.WaitForAssertion(() =>
        {
            var raw = page.Find("pre.bonnie-raw").TextContent;
            Assert.StartsWith("{\n  \"event\": \"MessageNew\",", raw.ReplaceLineEndings("\n"), StringComparison.Ordinal);
            Assert.Contains("\"vnd.cmu.midset\": [\n    \"<179595122889", raw.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        }, PageTestContext.Timeout);
    }

    [Fact]
    public async Task SavedSearches_SaveListDelete_KeepsEachOfficersOwn()
    {
        var saved = new SavedSearches(TestData.DataDirectoryIn(_page.Directory.Path), TimeProvider.System);

        await saved.SaveAsync("ann", "alice moves", "user:alice@example.org event:MessageMove");
        await saved.SaveAsync("ann", "alice moves", "user:alice@example.org event:vnd.cmu.MessageMove");
        await saved.SaveAsync("bob", "mine", "user:bob@example.org");

        var ann = await saved.ListAsync("ann");
        Assert.Equal(("alice moves", "user:alice@example.org event:vnd.cmu.MessageMove"), (Assert.Single(ann).Name, ann[0].Query));
        Assert.True(await saved.DeleteAsync("ann", "alice moves"));
        Assert.Empty(await saved.ListAsync("ann"));
        Assert.Single(await saved.ListAsync("bob"));
    }

    [Fact]
    public async Task Paging_SixtyLogins_NextThenPreviousFollowTheCursorStack()
    {
        await _page.Store.ProcessAsync(Enumerable.Range(0, 60)
            .Select(i => TestStore.Session("Login", $"paging-session-{i:D2}", new DateTimeOffset(2026, 11, 29, 11, 30, 0, TimeSpan.Zero).AddSeconds(i))).ToArray());
        var vm = new SearchViewModel { Query = "session:paging-session-*" };

        Assert.True(await vm.SearchAsync(_page.Store.Store));
        var first = vm.Items.Select(e => e.SessionId).ToList();
        await vm.NextAsync(_page.Store.Store);
        var second = vm.Items.Select(e => e.SessionId).ToList();
        await vm.PreviousAsync(_page.Store.Store);

        Assert.Equal(60, vm.Page!.Total);
        Assert.Equal(50, first.Count);
        Assert.Equal("paging-session-59", first[0]);
        Assert.Equal(Enumerable.Range(0, 10).Reverse().Select(i => $"paging-session-{i:D2}"), second);
        Assert.Equal(first, vm.Items.Select(e => e.SessionId));
        Assert.Equal((1, false, true), (vm.PageNumber, vm.HasPrevious, vm.HasNext));
    }
}
