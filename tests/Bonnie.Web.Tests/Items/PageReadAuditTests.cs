using System.Text;
using Bonnie.Pipeline.Status;
using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;
using Bonnie.Web.Audit;
using Bonnie.Web.Components.Pages;
using Bonnie.Web.Search;
using Bonnie.Web.Tests.Infrastructure;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using SearchPage = Bonnie.Web.Components.Pages.Search;

namespace Bonnie.Web.Tests.Items;

/// <summary>
/// The pages' reads of evidence in the officers' audit, under the API's action names: one record per load of the
/// data (never per render), the signed-in officer as actor, what was read as target, nothing for what does not exist.
/// </summary>
public sealed class PageReadAuditTests : IAsyncLifetime
{
    private const string Client = "192.0.2.7";
    private PageTestContext _page = default!;

    public async Task InitializeAsync() => _page = await PageTestContext.CreateAsync();

    public async Task DisposeAsync() => await _page.DisposeAsync();

    private async Task<List<OfficerAuditRecord>> RecordsAsync(string action) =>
        (await _page.AuditRecordsAsync()).Where(r => r.Action == action).OrderBy(r => r.Sequence).ToList();

    private static void AssertRecord(OfficerAuditRecord record, string? target, string details)
    {
        Assert.Equal((PageTestContext.Officer, target, Client), (record.Officer, record.Target, record.ClientAddress));
        Assert.Equal(details, record.Details);
    }

    private async Task<string> EventIdAsync(string query) =>
        Assert.Single((await _page.Store.Store.SearchEventsAsync(new EventSearch { Query = QueryParser.Parse(query) })).Items).Id;

    [Fact]
    public async Task EventPage_ViewedThenRenderedAgain_OneEventViewedRecord()
    {
        var id = await EventIdAsync("event:MessageNew");
        var page = _page.Render<EventDetail>(p => p.Add(x => x.Id, id));
        page.WaitForAssertion(() => page.Find("pre.bonnie-raw"), PageTestContext.Timeout);

        page.Render(p => p.Add(x => x.Id, id));
        page.Render(_ => { });

        page.WaitForAssertion(() => page.Find("pre.bonnie-raw"), PageTestContext.Timeout);
        AssertRecord(Assert.Single(await RecordsAsync(OfficerActions.EventViewed)), id, "{}");
    }

    [Fact]
    public async Task EventPage_UnknownIdThenAnEvent_OnlyTheEventShownIsRecorded()
    {
        var id = await EventIdAsync("event:MessageRead");
        var page = _page.Render<EventDetail>(p => p.Add(x => x.Id, new string('0', 64)));
        page.WaitForAssertion(() => Assert.Contains("No event is stored", page.Find("[role=alert]").TextContent, StringComparison.Ordinal),
            PageTestContext.Timeout);

        page.Render(p => p.Add(x => x.Id, id));

        page.WaitForAssertion(() => page.Find("pre.bonnie-raw"), PageTestContext.Timeout);
        AssertRecord(Assert.Single(await RecordsAsync(OfficerActions.EventViewed)), id, "{}");
    }

    [Fact]
    public async Task FolderPage_ViewedThenRenderedAgain_OneFolderViewedRecord()
    {
        var page = _page.Render<FolderHistory>(p => p.Add(x => x.Id, TestStore.Archive));
        page.WaitForAssertion(() => page.Find("[aria-label='Names over time']"), PageTestContext.Timeout);

        page.Render(p => p.Add(x => x.Id, TestStore.Archive));
        page.Render(_ => { });

        page.WaitForAssertion(() => page.Find("[aria-label='Names over time']"), PageTestContext.Timeout);
        AssertRecord(Assert.Single(await RecordsAsync(OfficerActions.FolderViewed)), TestStore.Archive, "{}");
    }

    [Fact]
    public async Task FolderPage_UnknownIdThenAFolder_OnlyTheFolderShownIsRecorded()
    {
        var page = _page.Render<FolderHistory>(p => p.Add(x => x.Id, "no-such-folder"));
        page.WaitForAssertion(() => Assert.Contains("No folder is stored", page.Find("[role=alert]").TextContent, StringComparison.Ordinal),
            PageTestContext.Timeout);

        page.Render(p => p.Add(x => x.Id, TestStore.Inbox));

        page.WaitForAssertion(() => page.Find("[aria-label='Names over time']"), PageTestContext.Timeout);
        AssertRecord(Assert.Single(await RecordsAsync(OfficerActions.FolderViewed)), TestStore.Inbox, "{}");
    }

    [Fact]
    public async Task FolderPage_ShowContents_RecordsTheMomentWhoseMessagesWereRead()
    {
        _page.Clock.SetUtcNow(new DateTimeOffset(2026, 11, 29, 11, 20, 44, TimeSpan.Zero));
        var page = _page.Render<FolderHistory>(p => p.Add(x => x.Id, TestStore.Archive));
        page.WaitForAssertion(() => page.Find("button:contains('Show contents')"), PageTestContext.Timeout);

        page.Find("button:contains('Show contents')").Click();

        page.WaitForAssertion(() => page.Find("[role=status]"), PageTestContext.Timeout);
        var records = await RecordsAsync(OfficerActions.FolderViewed);
        Assert.Equal(2, records.Count);
        AssertRecord(records[0], TestStore.Archive, "{}");
        AssertRecord(records[1], TestStore.Archive, """{"contentsAt":"2026-11-29T11:20:44.9999999Z"}""");
    }

    [Fact]
    public async Task QuarantinePage_ViewedThenRenderedAgainByTheLiveStatus_OneQuarantineViewedRecord()
    {
        var page = _page.Render<Quarantine>();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("tbody tr.mud-table-row")), PageTestContext.Timeout);

        _page.Context.Services.GetRequiredService<SystemStatus>().Update(s => s with { Quarantined = 1 });
        page.WaitForAssertion(() => Assert.Contains("1 kept now.", page.Markup, StringComparison.Ordinal), PageTestContext.Timeout);
        page.Render(_ => { });

        AssertRecord(Assert.Single(await RecordsAsync(OfficerActions.QuarantineViewed)), null, """{"cursor":null,"limit":"25"}""");
    }

    [Fact]
    public async Task QuarantinePage_NextThenPreviousPage_EachPageReadIsRecordedWithItsCursor()
    {
        var batch = new StoreBatch();
        for (var i = 0; i < 30; i++)
        {
            batch.Quarantine.Add(new QuarantineItem
            {
                JobId = $"{i:x2}" + new string('0', 62), At = DateTimeOffset.UtcNow.AddSeconds(i), Stage = QuarantineStages.Broker,
                Reason = "the broker gave up", RawSha256 = "", Raw = "{}"u8.ToArray(),
            });
        }
        await _page.Store.Store.CommitAsync(batch);
        var second = (await _page.Store.Store.GetQuarantineAsync(25, null)).Next;
        Assert.NotNull(second);
        var page = _page.Render<Quarantine>();
        page.WaitForAssertion(() => Assert.Equal(25, page.FindAll("tbody tr.mud-table-row").Count), PageTestContext.Timeout);

        page.Find("button:contains('Next page')").Click();
        page.WaitForAssertion(() => Assert.Equal(6, page.FindAll("tbody tr.mud-table-row").Count), PageTestContext.Timeout);
        page.Find("button:contains('Previous page')").Click();
        page.WaitForAssertion(() => Assert.Equal(25, page.FindAll("tbody tr.mud-table-row").Count), PageTestContext.Timeout);

        var records = await RecordsAsync(OfficerActions.QuarantineViewed);
        Assert.Equal(3, records.Count);
        AssertRecord(records[0], null, """{"cursor":null,"limit":"25"}""");
        AssertRecord(records[1], null, $$"""{"cursor":"{{second}}","limit":"25"}""");
        AssertRecord(records[2], null, """{"cursor":null,"limit":"25"}""");
    }

    [Fact]
    public async Task SearchPage_NextThenPreviousPage_EachPageIsASearchRecordWithTheQueryThatRanAndItsCursor()
    {
        const string query = "session:paging-session-*";
        await _page.Store.ProcessAsync(Enumerable.Range(0, 60)
            .Select(i => TestStore.Session("Login", $"paging-session-{i:D2}", new DateTimeOffset(2026, 11, 29, 11, 30, 0, TimeSpan.Zero).AddSeconds(i))).ToArray());
        var second = (await _page.Store.Store.SearchEventsAsync(new EventSearch { Query = QueryParser.Parse(query), Limit = SearchViewModel.PageSize })).Next;
        Assert.NotNull(second);
        var page = _page.Render<SearchPage>();
        page.Find("#search-query").Input(query);
        page.Find("form[role=search]").Submit();
        // The counts come after the rows and re-render the page: a button found before they come is gone after.
        page.WaitForAssertion(() =>
        {
            Assert.Contains("Page 1:", page.Find("nav[aria-label='Result pages']").TextContent, StringComparison.Ordinal);
            Assert.Empty(page.FindAll(".bonnie-facets-counting"));
        }, PageTestContext.Timeout);

        // What the box holds is not what the pages read: paging follows the query that ran.
        page.Find("#search-query").Input("user:someone-else");
        page.Find("button:contains('Next page')").Click();
        page.WaitForAssertion(() => Assert.Contains("Page 2:", page.Find("nav[aria-label='Result pages']").TextContent, StringComparison.Ordinal),
            PageTestContext.Timeout);
        page.Find("button:contains('Previous page')").Click();
        page.WaitForAssertion(() => Assert.Contains("Page 1:", page.Find("nav[aria-label='Result pages']").TextContent, StringComparison.Ordinal),
            PageTestContext.Timeout);
        page.Render(_ => { });

        var records = await RecordsAsync(OfficerActions.Search);
        Assert.Equal(3, records.Count);
        AssertRecord(records[0], query, """{"cursor":null,"limit":"50","page":"1"}""");
        AssertRecord(records[1], query, $$"""{"cursor":"{{second}}","limit":"50","page":"2"}""");
        AssertRecord(records[2], query, """{"cursor":null,"limit":"50","page":"1"}""");
    }

    [Fact]
    public async Task UserPage_ViewedThenRenderedAgain_OneSessionsViewedRecordForTheLogin()
    {
        var page = _page.Render<UserHistory>(p => p.Add(x => x.Login, "cyrus"));
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[aria-label='Sessions'] tbody tr.mud-table-row")), PageTestContext.Timeout);

        page.Render(p => p.Add(x => x.Login, "cyrus"));
        page.Render(_ => { });

        AssertRecord(Assert.Single(await RecordsAsync(OfficerActions.SessionsViewed)), "cyrus", """{"limit":"1000"}""");
        Assert.Equal("user:cyrus", Assert.Single(await RecordsAsync(OfficerActions.Search)).Target);
    }

    [Fact]
    public async Task PersonPage_ViewedThenRenderedAgain_OnePersonViewedRecord()
    {
        await JaneStory.TellAsync(_page.Store);
        var page = _page.Render<PersonHistory>(p => p.Add(x => x.Id, JaneStory.Jane));
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[aria-label='Names'] tbody tr")), PageTestContext.Timeout);

        page.Render(p => p.Add(x => x.Id, JaneStory.Jane));
        page.Render(_ => { });

        AssertRecord(Assert.Single(await RecordsAsync(OfficerActions.PersonViewed)), JaneStory.Jane, "{}");
    }

    [Fact]
    public async Task PersonPage_UnknownIdThenAPerson_OnlyThePersonShownIsRecorded()
    {
        await JaneStory.TellAsync(_page.Store);
        var page = _page.Render<PersonHistory>(p => p.Add(x => x.Id, "no-such-person"));
        page.WaitForAssertion(() => Assert.Equal("No person is stored under this id.", page.Find("[role=alert]").TextContent.Trim()),
            PageTestContext.Timeout);

        page.Render(p => p.Add(x => x.Id, JaneStory.Jane));

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[aria-label='Names'] tbody tr")), PageTestContext.Timeout);
        AssertRecord(Assert.Single(await RecordsAsync(OfficerActions.PersonViewed)), JaneStory.Jane, "{}");
    }
}
