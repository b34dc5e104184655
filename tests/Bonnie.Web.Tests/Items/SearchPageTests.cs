using Bonnie.Web.Audit;
using Bonnie.Web.Tests.Infrastructure;
using Bunit;
using SearchPage = Bonnie.Web.Components.Pages.Search;

namespace Bonnie.Web.Tests.Items;

public sealed class SearchPageTests : IAsyncLifetime
{
    private PageTestContext _page = default!;

    public async Task InitializeAsync() => _page = await PageTestContext.CreateAsync();

    public async Task DisposeAsync() => await _page.DisposeAsync();

    private static void Search(IRenderedComponent<SearchPage> page, string query)
    {
        page.Find("#search-query").Input(query);
        page.Find("form[role=search]").Submit();
    }

    private static string Total(IRenderedComponent<SearchPage> page) => page.Find(".bonnie-total").TextContent.Trim();

    [Fact]
    public async Task Search_EventQuery_ShowsTheMatchingRowAndTotalAndIsAudited()
    {
        var page = _page.Render<SearchPage>();

        Search(page, "event:MessageRead");

        page.WaitForAssertion(() =>
        {
            Assert.Equal("1 event matches", Total(page));
            var rows = page.FindAll("tbody tr.mud-table-row");
            var row = Assert.Single(rows);
            Assert.Contains("MessageRead", row.TextContent, StringComparison.Ordinal);
            Assert.Contains("alice@example.org", row.TextContent, StringComparison.Ordinal);
        }, PageTestContext.Timeout);
        var audit = await _page.AuditRecordsAsync();
        var search = Assert.Single(audit, r => r.Action == OfficerActions.Search);
        Assert.Equal(("event:MessageRead", PageTestContext.Officer, "192.0.2.7"), (search.Target, search.Officer, search.ClientAddress));
    }

    [Fact]
    public void Search_AliceEverything_ShowsAllHerEventsWithLinksToHistories()
    {
        var page = _page.Render<SearchPage>();

        Search(page, "user:alice@example.org sort:oldest");

        page.WaitForAssertion(() =>
        {
            var rows = page.FindAll("tbody tr.mud-table-row");
            Assert.True(rows.Count >= 5, $"only {rows.Count} rows");
            Assert.Equal($"{rows.Count} events match", Total(page));
            Assert.Contains("MessageNew", rows[0].TextContent, StringComparison.Ordinal);
            Assert.NotEmpty(page.FindAll($"a[href='messages/{TestStore.DeliveredMessage}']"));
            Assert.NotEmpty(page.FindAll($"a[href='folders/{TestStore.Inbox}']"));
            Assert.NotEmpty(page.FindAll("a[href='users/alice@example.org']"));
        }, PageTestContext.Timeout);
    }

    [Fact]
    public void Search_UnclosedParenthesis_ShowsTheErrorAtItsPosition()
    {
        var page = _page.Render<SearchPage>();

        Search(page, "user:alice@example.org (subject:report");

        page.WaitForAssertion(() =>
        {
            var alert = page.Find("[role=alert]");
            Assert.Contains("position", alert.TextContent, StringComparison.Ordinal);
            var caret = page.Find(".bonnie-query-caret").TextContent.Split('\n');
            Assert.Equal("user:alice@example.org (subject:report", caret[0]);
            Assert.EndsWith("^", caret[1], StringComparison.Ordinal);
            Assert.Empty(page.FindAll("tbody tr.mud-table-row"));
        }, PageTestContext.Timeout);
    }

    [Fact]
    public void FacetChip_Click_AddsItsTermAndNarrowsTheResults()
    {
        var page = _page.Render<SearchPage>();
        Search(page, "user:alice@example.org");
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[aria-label^='Add event:FlagsSet']")), PageTestContext.Timeout);

        page.Find("[aria-label^='Add event:FlagsSet']").Click();

        page.WaitForAssertion(() =>
        {
            Assert.Equal("user:alice@example.org event:FlagsSet", page.Find("#search-query").GetAttribute("value"));
            Assert.Equal("1 event matches", Total(page));
        }, PageTestContext.Timeout);
    }

    [Fact]
    public void FacetChip_ClickAfterAnOrQuery_FindsWhatTheChipCounted()
    {
        var page = _page.Render<SearchPage>();
        Search(page, "event:Login OR event:MessageRead");
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[aria-label='Add event:MessageRead (1)']")), PageTestContext.Timeout);

        page.Find("[aria-label='Add event:MessageRead (1)']").Click();

        page.WaitForAssertion(() =>
        {
            Assert.Equal("(event:Login OR event:MessageRead) event:MessageRead", page.Find("#search-query").GetAttribute("value"));
            Assert.Equal("1 event matches", Total(page));
        }, PageTestContext.Timeout);
    }

    [Fact]
    public void Chart_Search_PlotsMatchesPerDay()
    {
        var page = _page.Render<SearchPage>();

        Search(page, "user:alice@example.org");

        page.WaitForAssertion(() =>
            Assert.Contains("1 day(s)", page.Find("figure[role=img]").GetAttribute("aria-label"), StringComparison.Ordinal), PageTestContext.Timeout);
    }
}
