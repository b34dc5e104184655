using Bonnie.Shared.Search;
using Bonnie.Web.Components.Pages;
using Bonnie.Web.Security;
using Bonnie.Web.Tests.Infrastructure;
using Bunit;
using Microsoft.Extensions.DependencyInjection;

namespace Bonnie.Web.Tests.Items;

/// <summary>
/// The message, event and user pages as a browser review read them at 1024 px over a million events: what breaks where,
/// how an event's type is named, and when Restore can be pressed. Widths themselves are the browser's: these tests hold
/// the markup and classes that bonnie.css keeps whole or lets break.
/// </summary>
public sealed class ItemPagesAsReadTests : IAsyncLifetime
{
    // A message delivered without its bytes (no payload collected): only its history is known.
    private const string WithoutBytes = "M00000000000000000000b1d2";

    private PageTestContext _page = default!;

    public async Task InitializeAsync() => _page = await PageTestContext.CreateAsync();

    public async Task DisposeAsync() => await _page.DisposeAsync();

    private async Task DeliverWithoutBytesAsync()
    {
        var json = TestStore.Fixture("MessageNew").Replace("M743974037cbef97becd11ce5", WithoutBytes, StringComparison.Ordinal)
            .Replace("UID=1\"", "UID=270\"", StringComparison.Ordinal);
        await _page.Store.ProcessAsync(TestStore.Raw(System.Text.Encoding.UTF8.GetBytes(json)));
    }

    private IRenderedComponent<MessageHistory> RenderMessage(string key)
    {
        var page = _page.Render<MessageHistory>(p => p.Add(x => x.Key, key));
        page.WaitForAssertion(() => page.Find("[aria-label='Message actions']"), PageTestContext.Timeout);
        return page;
    }

    private async Task<string> EventIdAsync(string query)
    {
        var found = await _page.Store.Store.SearchEventsAsync(new EventSearch { Query = QueryParser.Parse(query), Limit = 1 });
        return found.Items[0].Id;
    }

    [Fact]
    public void MessagePage_Locations_UidsAndTimesKeptWhole_FolderNamesBreakOnlyAfterTheirSeparators()
    {
        // A review at 1024 px: UID 270 as "27" / "0", user/user370@example.org as "user/user370@example.o" / "rg".
        var page = RenderMessage(TestStore.DeliveredMessage);

        var row = page.FindAll("[aria-label='Locations'] tbody tr")[0];
        var cells = row.Children;
        Assert.Equal("user/alice@example.org", cells[0].TextContent.Trim());
        Assert.Contains("bonnie-pieces-whole", cells[0].ClassList);
        Assert.Equal(3, cells[0].QuerySelectorAll("wbr").Length);
        Assert.Contains("bonnie-nowrap", cells[1].ClassList);
        Assert.Equal("1", cells[1].TextContent);
        Assert.Contains("bonnie-nowrap", cells[2].ClassList);
    }

    [Fact]
    public async Task MessagePage_NoLocationHasAFlag_NoFlagsColumn()
    {
        // An empty Flags column kept its width beside the squeezed ones (a review).
        await DeliverWithoutBytesAsync();

        var page = RenderMessage(WithoutBytes);

        var headers = page.FindAll("[aria-label='Locations'] thead th").Select(h => h.TextContent).ToList();
        Assert.Equal(["Folder", "UID", "Since", "Until"], headers);
        Assert.Equal(4, page.Find("[aria-label='Locations'] tbody tr").Children.Length);
        Assert.Equal("270", page.Find("[aria-label='Locations'] tbody td.bonnie-nowrap").TextContent);
    }

    [Fact]
    public async Task EventPage_FieldsAndNotification_StackedBelowLarge_NamesBreakOnlyAfterTheirSeparators()
    {
        // A review at 1024 px: the fields had 296 px beside the notification, "user370@exa" / "mple.org".
        var id = await EventIdAsync("event:MessageCopy");

        var page = _page.Render<EventDetail>(p => p.Add(x => x.Id, id));
        page.WaitForAssertion(() => page.Find("[aria-label='Event fields']"), PageTestContext.Timeout);

        var items = page.FindAll(".mud-grid-item");
        Assert.Equal(2, items.Count);
        Assert.All(items, i => Assert.Contains("mud-grid-item-xs-12", i.ClassList));
        Assert.Contains("mud-grid-item-lg-5", items[0].ClassList);
        Assert.Contains("mud-grid-item-lg-7", items[1].ClassList);
        Assert.DoesNotContain(items, i => i.ClassList.Any(c => c.StartsWith("mud-grid-item-md-", StringComparison.Ordinal)));
        var user = Row(page, "User");
        Assert.Contains("bonnie-pieces-whole", user.ClassList);
        Assert.Equal("alice@example.org", user.TextContent.Trim());
        Assert.Equal(2, user.QuerySelectorAll("wbr").Length);
        Assert.Contains("bonnie-pieces-whole", Row(page, "Folder").ClassList);
        Assert.NotNull(Row(page, "Time").QuerySelector(".bonnie-nowrap"));
    }

    private static AngleSharp.Dom.IElement Row(IRenderedComponent<EventDetail> page, string field) =>
        page.FindAll("[aria-label='Event fields'] tr").Single(r => r.Children[0].TextContent == field).Children[1];

    [Fact]
    public async Task EventType_NamedOnTheUserAndEventPagesAsTheSearchNamesIt()
    {
        // A review: "MessageCopy" in the search grid, "vnd.cmu.MessageCopy" for the same event on the user and event pages.
        var user = _page.Render<UserHistory>(p => p.Add(x => x.Login, "alice@example.org"));
        user.WaitForAssertion(() => Assert.NotEmpty(user.FindAll("[aria-label='Actions'] tbody tr.mud-table-row")), PageTestContext.Timeout);

        var types = user.FindAll("[aria-label='Actions'] tbody tr.mud-table-row").Select(r => r.Children[1].TextContent.Trim()).ToList();
        Assert.Contains("MessageCopy", types);
        Assert.DoesNotContain(types, t => t.StartsWith("vnd.cmu.", StringComparison.Ordinal));
        var copy = user.Find("[aria-label='Actions'] .bonnie-event-type[title]");
        Assert.Equal("Cyrus named it vnd.cmu.MessageCopy", copy.GetAttribute("title"));

        var id = await EventIdAsync("event:MessageCopy");
        var detail = _page.Render<EventDetail>(p => p.Add(x => x.Id, id));
        detail.WaitForAssertion(() => Assert.Equal("MessageCopy", detail.Find("[aria-label='Event fields'] h2").TextContent.Trim()),
            PageTestContext.Timeout);
        Assert.Equal("Cyrus named it vnd.cmu.MessageCopy", detail.Find("[aria-label='Event fields'] h2 span").GetAttribute("title"));
        // The notification itself is shown as stored.
        Assert.Contains("\"vnd.cmu.MessageCopy\"", detail.Find("pre.bonnie-raw").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UserPage_Sessions_DatesOverTimes_ShortCellsWhole_SessionIdShortenedWithTheWholeInItsTitle()
    {
        // A review at 1024 px: the grid 853 px wide in 702, the session id as "cy" / "1" / "3…", "no logout seen" on three lines.
        await _page.Store.ProcessAsync(
            TestStore.Session("Login", "never-closed", new DateTimeOffset(2026, 11, 22, 9, 0, 0, TimeSpan.Zero)));

        var page = _page.Render<UserHistory>(p => p.Add(x => x.Login, "cyrus"));
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[aria-label='Sessions'] tbody tr.mud-table-row").Count), PageTestContext.Timeout);

        var rows = page.FindAll("[aria-label='Sessions'] tbody tr.mud-table-row");
        var open = rows.Single(r => r.TextContent.Contains("never-closed", StringComparison.Ordinal));
        Assert.Equal("2026-11-22<br>09:00:00", open.Children[0].InnerHtml.Trim());
        Assert.All(open.Children, c => Assert.Contains("bonnie-nowrap", c.ClassList));
        Assert.Equal("no logout seen", open.Children[2].TextContent.Trim());
        var captured = rows.Single(r => !r.TextContent.Contains("never-closed", StringComparison.Ordinal)).QuerySelector("a[title]")!;
        Assert.Equal("cyrus-1795951187-11381-2-14971745235264492537", captured.GetAttribute("title"));
        Assert.Equal("cyrus-17…4492537", captured.TextContent.Trim());
        Assert.Contains("session%3Acyrus-1795951187-11381-2-14971745235264492537", captured.GetAttribute("href"), StringComparison.Ordinal);
        // The column options icon took 30 px of each column; sorting stays on the titles.
        Assert.Empty(page.FindAll("[aria-label='Sessions'] thead [aria-label='Column options']"));
        Assert.Equal(5, page.FindAll("[aria-label='Sessions'] thead .sortable-column-header").Count);
    }

    [Fact]
    public void UserPage_Actions_TimesAndAddressesWhole_FoldersBreakOnlyAfterTheirSeparators()
    {
        // A Chromium check at 1024 px: "2026-10-" / "30" / "23:59:44", "192.0.2.1" / "99", "user/user370@e" / "xample.org".
        var page = _page.Render<UserHistory>(p => p.Add(x => x.Login, "alice@example.org"));
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[aria-label='Actions'] tbody tr.mud-table-row")), PageTestContext.Timeout);

        var row = page.FindAll("[aria-label='Actions'] tbody tr.mud-table-row")
            .First(r => r.Children[2].TextContent.Trim() == "user/alice@example.org").Children;
        Assert.Contains("bonnie-nowrap", row[0].ClassList);
        Assert.Contains("bonnie-pieces-whole", row[2].ClassList);
        Assert.Equal(3, row[2].QuerySelectorAll("wbr").Length);
        Assert.Contains("bonnie-nowrap", row[4].ClassList);
    }

    [Fact]
    public async Task MessagePage_BytesNotKept_RestoreDisabledWithWhyInWords_ExportStillOffered()
    {
        // A review pressed an active Restore for such a message and reached a page naming configuration keys.
        _page.Authorization.SetPolicies(BonniePolicies.CanSearch, BonniePolicies.CanExport, BonniePolicies.CanRestore);
        await DeliverWithoutBytesAsync();

        var page = RenderMessage(WithoutBytes);

        var actions = page.Find("[aria-label='Message actions']");
        var restore = actions.QuerySelector("[aria-label='Restore to the mailbox']")!;
        Assert.True(restore.HasAttribute("disabled"));
        Assert.Null(restore.GetAttribute("href"));
        var why = page.Find("#" + restore.GetAttribute("aria-describedby")).TextContent;
        Assert.Contains("bytes were not kept", why, StringComparison.Ordinal);
        Assert.Empty(actions.QuerySelectorAll("a[href^='/restore']"));
        Assert.Equal($"/api/export?keys={WithoutBytes}", actions.QuerySelector("a[aria-label='Export evidence bundle']")!.GetAttribute("href"));
    }

    [Fact]
    public async Task MessagePage_RestoreNotSetUp_RestoreDisabledWithWhyInWordsAnOfficerReads()
    {
        await using var page = await PageTestContext.CreateAsync(moreServices: (_, services) =>
            services.AddSingleton(Microsoft.Extensions.Options.Options.Create(new Bonnie.Pipeline.Restore.RestoreOptions())));
        page.Authorization.SetPolicies(BonniePolicies.CanSearch, BonniePolicies.CanRestore);

        var rendered = page.Render<MessageHistory>(p => p.Add(x => x.Key, TestStore.DeliveredMessage));
        rendered.WaitForAssertion(() => rendered.Find("[aria-label='Message actions']"), PageTestContext.Timeout);

        var restore = rendered.Find("[aria-label='Message actions'] [aria-label='Restore to the mailbox']");
        Assert.True(restore.HasAttribute("disabled"));
        var why = rendered.Find("#" + restore.GetAttribute("aria-describedby")).TextContent;
        Assert.Contains("Restore is not set up", why, StringComparison.Ordinal);
        Assert.Contains("administrator", why, StringComparison.Ordinal);
        Assert.DoesNotContain("Bonnie:", why, StringComparison.Ordinal);
        Assert.Equal(why, restore.GetAttribute("title"));
    }
}
