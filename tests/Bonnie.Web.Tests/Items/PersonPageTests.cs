using AngleSharp.Dom;
using Bonnie.Shared.Search;
using Bonnie.Web.Audit;
using Bonnie.Web.Components.Pages;
using Bonnie.Web.Tests.Infrastructure;
using Bunit;

namespace Bonnie.Web.Tests.Items;

/// <summary>The person page and the links to it, over Jane's story: renamed, moved from finance to legal.</summary>
public sealed class PersonPageTests : IAsyncLifetime
{
    private PageTestContext _page = default!;
    private FakeDirectory _directory = default!;

    public async Task InitializeAsync()
    {
        _page = await PageTestContext.CreateAsync();
        _directory = await JaneStory.TellAsync(_page.Store);
    }

    public async Task DisposeAsync() => await _page.DisposeAsync();

    private static string Row(IElement row) => string.Join(" | ", row.Children.Select(c => c.TextContent.Trim()));

    [Fact]
    public async Task PersonPage_Jane_ShowsBothNamesHerGroupsOverTimeAndHerTrail()
    {
        var page = _page.Render<PersonHistory>(p => p.Add(x => x.Id, JaneStory.Jane));

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[aria-label='Audit trail'] tbody tr.mud-table-row")), PageTestContext.Timeout);
        Assert.Equal("Jane <b>Doe</b>", page.Find("[aria-label='Person'] h2").TextContent);
        Assert.Contains("2 events", page.Find("[aria-label='Person']").TextContent, StringComparison.Ordinal);
        Assert.Equal(
            [
                $"{JaneStory.JaneGi} | 2026-11-29 11:20:41 | 2026-11-29 11:20:41",
                // Her new name was also seen in the ACL alice gave her, later.
                $"{JaneStory.JaneDoe} | 2026-11-29 11:20:42 | 2026-11-29 11:20:51",
            ],
            page.FindAll("[aria-label='Names'] tbody tr").Select(Row));
        Assert.Equal(
            [
                "2026-11-29 11:20:41 | 2026-11-29 11:20:41 | Jane Gi | finance | clerk | 1",
                "2026-11-29 11:20:42 | 2026-11-29 11:20:42 | Jane <b>Doe</b> | legal | officer | 1",
            ],
            page.FindAll("[aria-label='Groups and roles over time'] tbody tr").Select(Row));
        var trail = page.FindAll("[aria-label='Audit trail'] tbody tr.mud-table-row");
        Assert.Equal([JaneStory.JaneDoe, JaneStory.JaneGi], trail.Select(r => r.Children[2].TextContent.Trim()));
        Assert.Empty(page.FindAll("b")); // directory data is text, never markup
        var search = Assert.Single(await _page.AuditRecordsAsync(), r => r.Action == OfficerActions.Search);
        Assert.Equal(($"user:{JaneStory.JaneDoe}", PageTestContext.Officer), (search.Target, search.Officer));
    }

    [Fact]
    public async Task PersonPage_NameTakenOverByAnotherPerson_TheirEventIsLeftOutOfJanesTrailAndSaidSo()
    {
        // The trail is a search by Jane's last name; a review found by reading the code that another person who took the
        // name would show in her trail.
        await JaneStory.NameTakenOverAsync(_page.Store, _directory);

        var page = _page.Render<PersonHistory>(p => p.Add(x => x.Id, JaneStory.Jane));

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[aria-label='Audit trail'] tbody tr.mud-table-row")), PageTestContext.Timeout);
        var trail = page.FindAll("[aria-label='Audit trail'] tbody tr.mud-table-row");
        Assert.DoesNotContain(trail, r => r.Children[1].TextContent.Trim() == "MessageRead");
        Assert.Contains("another person's", page.Find("[aria-label='Audit trail'] [role='note']").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void PersonPage_UnknownId_SaysSo()
    {
        var page = _page.Render<PersonHistory>(p => p.Add(x => x.Id, "no-such-person"));

        page.WaitForAssertion(() =>
            Assert.Equal("No person is stored under this id.", page.Find("[role=alert]").TextContent.Trim()), PageTestContext.Timeout);
    }

    [Fact]
    public async Task EventPage_ResolvedUser_LinksToThePersonWithTheGroupsOfThatMoment()
    {
        var events = await _page.Store.Store.SearchEventsAsync(new EventSearch { Query = QueryParser.Parse($"user:{JaneStory.JaneGi} event:FlagsSet") });
        var first = Assert.Single(events.Items, e => e.User == JaneStory.JaneGi);

        var page = _page.Render<EventDetail>(p => p.Add(x => x.Id, first.Id));

        page.WaitForAssertion(() =>
        {
            var person = page.Find("td[aria-label='Person']");
            Assert.Equal("Jane Gi", person.QuerySelector("a")!.TextContent);
            Assert.EndsWith("people/" + JaneStory.Jane, person.QuerySelector("a")!.GetAttribute("href"), StringComparison.Ordinal);
            Assert.Contains("Groups then: finance · roles then: clerk", person.TextContent, StringComparison.Ordinal);
        }, PageTestContext.Timeout);
    }

    [Fact]
    public async Task EventPage_StoredWithoutDirectory_SaysSoInsteadOfAPerson()
    {
        var events = await _page.Store.Store.SearchEventsAsync(new EventSearch { Query = QueryParser.Parse("event:MessageRead") });

        var page = _page.Render<EventDetail>(p => p.Add(x => x.Id, Assert.Single(events.Items).Id));

        page.WaitForAssertion(() =>
        {
            var person = page.Find("td[aria-label='Person']");
            Assert.Equal("no directory configured", person.TextContent.Trim());
            Assert.Null(person.QuerySelector("a"));
        }, PageTestContext.Timeout);
    }

    [Fact]
    public void UserPage_NameNeverResolved_NamesNoPerson()
    {
        var page = _page.Render<UserHistory>(p => p.Add(x => x.Login, "cyrus"));

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[aria-label='Actions'] tbody tr.mud-table-row")), PageTestContext.Timeout);
        Assert.Empty(page.FindAll("[aria-label='Carried by']"));
    }

    [Fact]
    public void UserPage_OldName_SaysWhoCarriedIt()
    {
        var page = _page.Render<UserHistory>(p => p.Add(x => x.Login, JaneStory.JaneGi));

        page.WaitForAssertion(() =>
        {
            var link = page.Find("[aria-label='Carried by'] a");
            Assert.Equal(("Jane Gi", true), (link.TextContent, link.GetAttribute("href")!.EndsWith("people/" + JaneStory.Jane, StringComparison.Ordinal)));
        }, PageTestContext.Timeout);
    }

    [Fact]
    public void SearchResults_ResolvedEvents_LinkToThePerson()
    {
        var page = _page.Render<Bonnie.Web.Components.Pages.Search>();

        page.Find("#search-query").Input($"user:{JaneStory.JaneGi}");
        page.Find("form[role=search]").Submit();

        page.WaitForAssertion(() =>
        {
            var people = page.FindAll("[aria-label^='Person ']");
            Assert.Equal(["Jane <b>Doe</b>", "Jane Gi"], people.Select(a => a.TextContent));
            Assert.All(people, a => Assert.EndsWith("people/" + JaneStory.Jane, a.GetAttribute("href"), StringComparison.Ordinal));
        }, PageTestContext.Timeout);
    }
}
