using Microsoft.Extensions.DependencyInjection;
using Bonnie.Web.Audit;
using Bonnie.Web.Security;
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

    private async Task SixtyLoginsAsync()
    {
        await _page.Store.ProcessAsync(Enumerable.Range(0, 60)
            .Select(i => TestStore.Session("Login", $"paging-session-{i:D2}", new DateTimeOffset(2026, 11, 29, 11, 30, 0, TimeSpan.Zero).AddSeconds(i))).ToArray());
    }

    private static string PageLabel(IRenderedComponent<SearchPage> page) => page.Find("nav[aria-label='Result pages'] p").TextContent.Trim();

    /// <summary>Sixty logins searched: their first page, with its counts.</summary>
    private async Task<IRenderedComponent<SearchPage>> OnFirstPageAsync()
    {
        await SixtyLoginsAsync();
        var page = _page.Render<SearchPage>();
        Search(page, "session:paging-session-*");
        // The counts come after the rows and re-render the page: a button found before they come is gone after.
        page.WaitForAssertion(() =>
        {
            Assert.Equal("Page 1: rows 1–50 of 60", PageLabel(page));
            Assert.Empty(page.FindAll(".bonnie-facets-counting"));
        }, PageTestContext.Timeout);
        return page;
    }

    /// <summary>Sixty logins searched, and the second page of them opened with Next: its address names the page.</summary>
    private async Task<(IRenderedComponent<SearchPage> Page, Microsoft.AspNetCore.Components.NavigationManager Nav)> OnSecondPageAsync()
    {
        var page = await OnFirstPageAsync();
        var nav = _page.Context.Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>();
        page.Find("button:contains('Next page')").Click();
        page.WaitForAssertion(() => Assert.True(nav.Uri.Contains("&page=2&at=", StringComparison.Ordinal), nav.Uri), PageTestContext.Timeout);
        return (page, nav);
    }

    [Fact]
    public void Grid_ReadsAsTheFacetsDo_AddressesAndTimesWhole_LoginsBrokenAfterTheirAt()
    {
        var page = _page.Render<SearchPage>();

        Search(page, "event:MessageCopy OR event:Login");

        page.WaitForAssertion(() => Assert.True(page.FindAll("tbody tr.mud-table-row").Count >= 2), PageTestContext.Timeout);
        var rows = page.FindAll("tbody tr.mud-table-row");
        // The type, as the facet's chip and event: say it (a review counted "vnd.cmu.MessageMove" rows against
        // "MessageMove" chips); Cyrus's own name in the title.
        var copy = Assert.Single(rows, r => r.Children[1].TextContent.Trim() == "MessageCopy");
        Assert.Equal("Cyrus named it vnd.cmu.MessageCopy", copy.Children[1].QuerySelector("span")!.GetAttribute("title"));
        var login = Assert.Single(rows, r => r.Children[1].TextContent.Trim() == "Login");
        // A client address and a time are never broken inside ("192.0.2.1" over "60" reads as another address).
        // The time's date and time of day are each whole, and may go one above the other on a narrow screen.
        Assert.Contains("bonnie-time", login.Children[0].ClassName, StringComparison.Ordinal);
        var whole = login.Children[0].QuerySelectorAll("a span.bonnie-nowrap").Select(s => s.TextContent).ToList();
        Assert.Equal(2, whole.Count);
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}$", whole[0]);
        Assert.Matches(@"^\d{2}:\d{2}:\d{2}\.\d{3}$", whole[1]);
        Assert.Contains("bonnie-nowrap", login.Children[5].ClassName, StringComparison.Ordinal);
        Assert.Matches(@"\d+\.\d+\.\d+\.\d+", login.Children[5].TextContent);
        // A login and a folder name may break after their separators only ("user12@" / "example.org"), and still read
        // as they are.
        Assert.Contains("bonnie-pieces-whole", copy.Children[2].ClassName, StringComparison.Ordinal);
        var user = copy.Children[2].QuerySelector("a")!;
        Assert.Contains("@<wbr>", user.InnerHtml, StringComparison.Ordinal);
        Assert.Contains("@", user.TextContent, StringComparison.Ordinal);
        Assert.Contains("bonnie-pieces-whole", copy.Children[3].ClassName, StringComparison.Ordinal);
        var folder = copy.Children[3].QuerySelector("a")!;
        Assert.Contains("/<wbr>", folder.InnerHtml, StringComparison.Ordinal);
        Assert.Equal(copy.Children[3].TextContent.Trim(), folder.TextContent.Trim());
        // A subject breaks between its words, not inside them.
        Assert.Contains("bonnie-pieces-whole", copy.Children[4].ClassName, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Grid_LoginOfALongPiece_BreaksAnywhere_RatherThanWidenTheGrid()
    {
        var hostile = new string('x', 400) + "@example.org";
        var login = TestStore.Fixture("Login").Replace("\"user\":\"cyrus\"", $"\"user\":\"{hostile}\"", StringComparison.Ordinal);
        Assert.Contains(hostile, login, StringComparison.Ordinal);
        await _page.Store.ProcessAsync(TestStore.Raw(System.Text.Encoding.UTF8.GetBytes(login)));
        var page = _page.Render<SearchPage>();

        Search(page, "user:" + hostile);

        page.WaitForAssertion(() =>
        {
            var row = Assert.Single(page.FindAll("tbody tr.mud-table-row"));
            Assert.DoesNotContain("bonnie-pieces-whole", row.Children[2].ClassName ?? "", StringComparison.Ordinal);
        }, PageTestContext.Timeout);
    }

    [Fact]
    public void Query_FolderByItsId_TheFolderIsNamedUnderTheBox_ANameIsNot()
    {
        // A folder's chip adds folder:<id>: a review could no longer read its own query, nor tell a colleague what it meant.
        var page = _page.Render<SearchPage>();

        Search(page, $"folder:{TestStore.Archive} OR folder:INBOX");

        page.WaitForAssertion(() =>
        {
            var note = page.Find("[role=note][aria-label='Folders in the query']");
            Assert.Contains($"folder:{TestStore.Archive} is", note.TextContent, StringComparison.Ordinal);
            var link = Assert.Single(note.QuerySelectorAll("a"));
            Assert.Equal($"folders/{TestStore.Archive}", link.GetAttribute("href"));
            Assert.Equal("user/alice/Archive@example.org", link.TextContent.Trim());
            Assert.DoesNotContain("folder:inbox", note.TextContent, StringComparison.OrdinalIgnoreCase);
        }, PageTestContext.Timeout);

        // Typing another query: the line no longer names folders of the query in the box.
        page.Find("#search-query").Input("event:Login");
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[aria-label='Folders in the query']")), PageTestContext.Timeout);

        Search(page, "event:Login");

        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[aria-label='Folders in the query']")), PageTestContext.Timeout);
    }

    [Fact]
    public void Query_AnAddressAsFreeText_SaysWhatItFinds_AndLinksToWhatThatUserDid()
    {
        // Free text finds the messages that hold the address; a review compared its count with user:'s and could not
        // tell why they differ.
        var page = _page.Render<SearchPage>();

        Search(page, "alice@example.org");

        page.WaitForAssertion(() =>
        {
            var note = page.Find("[role=note][aria-label='Free text in the query']");
            Assert.Contains("Free text finds “alice@example.org” in subjects, senders, recipients and message bodies", note.TextContent, StringComparison.Ordinal);
            var link = Assert.Single(note.QuerySelectorAll("a"));
            Assert.Equal("search?q=user%3Aalice%40example.org", link.GetAttribute("href"));
            Assert.Equal("user:alice@example.org", link.TextContent.Trim());
        }, PageTestContext.Timeout);

    }

    [Fact]
    public async Task Query_MatchingNothing_NamesTheTermThatMatchesNothingAlone_AndRecordsTheCounts()
    {
        // "0 events match" could not tell a misspelt folder from a real absence (a review).
        var page = _page.Render<SearchPage>();

        Search(page, "event:MessageNew folder:Archve");

        page.WaitForAssertion(() =>
        {
            Assert.Equal("0 events match", Total(page));
            var note = page.Find("[role=note][aria-label='Why nothing matches']");
            // As typed (the search itself is in lower case).
            Assert.Contains("folder:Archve: No event in a folder called “Archve” is stored: folder: takes", note.TextContent, StringComparison.Ordinal);
            // The folder it was probably meant to be, linked to the query with it in the misspelt one's place.
            Assert.Contains("is stored: folder: takes", note.TextContent, StringComparison.Ordinal);
            Assert.Contains("or its unique id. Did you mean", note.TextContent, StringComparison.Ordinal);
            var near = note.QuerySelector(".bonnie-near")!;
            Assert.Equal("Did you mean folder:Archive?", string.Join(' ', near.TextContent.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)));
            Assert.Equal("search?q=event%3AMessageNew%20folder%3AArchive", near.QuerySelector("a")!.GetAttribute("href"));
            // The other term matches alone: it is not blamed.
            Assert.DoesNotContain("event:MessageNew", note.TextContent, StringComparison.Ordinal);
        }, PageTestContext.Timeout);
        // A term's count alone says whether it is anywhere in the store: a read, recorded as a search only counted.
        var counted = Assert.Single(await _page.AuditRecordsAsync(), r => r.Details.Contains("each term alone", StringComparison.Ordinal));
        Assert.Equal(("search", "event:MessageNew folder:Archve"), (counted.Action, counted.Target));
        Assert.Contains("event:MessageNew | folder:Archve", counted.Details, StringComparison.Ordinal);
        // So is the look for names near it: the folders whose names start as it does.
        var near = Assert.Single(await _page.AuditRecordsAsync(), r => r.Details.Contains("names near a term", StringComparison.Ordinal));
        Assert.Equal("folder:arc*", near.Target);
    }

    [Theory]
    [InlineData("user:alice@exmple.org", "user:alice@example.org")]
    [InlineData("folder:Inbx event:MessageNew", "folder:INBOX")]
    [InlineData("folder:Zzzzzz", null)]
    [InlineData("folder:Arc", null)]
    // A login typed without its domain: the login of that name at a domain (a review met a dead end).
    [InlineData("user:alice", "user:alice@example.org")]
    [InlineData("user:Alice event:Login", "user:alice@example.org")]
    [InlineData("user:ali", null)]
    // Found at no domain, it may still be a slip of a login (a Cyrus without virtual domains names alice, not alice@…).
    [InlineData("user:cyrrus", "user:cyrus")]
    public void Query_MatchingNothing_AMisspeltUserOrFolder_SuggestsTheNearName(string query, string? suggested)
    {
        var page = _page.Render<SearchPage>();

        Search(page, query);

        page.WaitForAssertion(() => Assert.Contains("No event", page.Find("[role=note][aria-label='Why nothing matches']").TextContent, StringComparison.Ordinal),
            PageTestContext.Timeout);
        var near = page.FindAll(".bonnie-near");
        if (suggested is null)
        {
            // Nothing near enough (a name of its own), or too short to tell a slip from another name.
            Assert.Empty(near);
        }
        else
        {
            Assert.Contains($"Did you mean {suggested}?", string.Join(' ', Assert.Single(near).TextContent.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Query_MatchingNothing_AMisspeltFolderTypedTwice_TheLinkMendsBoth()
    {
        // Only the first place was mended, and the link still found nothing (a review).
        var page = _page.Render<SearchPage>();

        Search(page, "(folder:Archve event:MessageNew) OR (event:Login folder:archve)");

        page.WaitForAssertion(() => Assert.Equal("search?q=" + Uri.EscapeDataString("(folder:Archive event:MessageNew) OR (event:Login folder:Archive)"),
            page.Find(".bonnie-near a").GetAttribute("href")), PageTestContext.Timeout);
    }

    [Fact]
    public async Task Query_MatchingNothing_ATermTooShortToTellASlip_NoLookForNearNames()
    {
        var page = _page.Render<SearchPage>();

        Search(page, "folder:Arc");

        page.WaitForAssertion(() => Assert.Contains("folder:Arc: No event in a folder called “Arc”", page.Find("[aria-label='Why nothing matches']").TextContent, StringComparison.Ordinal),
            PageTestContext.Timeout);
        // Nothing looked for, so nothing read and nothing recorded beyond the terms' counts.
        Assert.DoesNotContain(await _page.AuditRecordsAsync(), r => r.Details.Contains("names near a term", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("event:Login -event:Login", "What the query excludes (event:Login) leaves none of them.")]
    [InlineData("event:MessageNew subject:appended", "No event matches them all together.")]
    [InlineData("user:cyrus user:Alice@Example.org event:Login", "An event has one user: user:cyrus and user:Alice@Example.org cannot all match the same event; for any of them, write (user:cyrus OR user:Alice@Example.org).")]
    [InlineData("(event:Login OR event:Logout) event:MessageNew", "No event matches them as the query combines them.")]
    [InlineData("event:Login event:Logout event:MessageNew event:MessageRead event:FlagsSet event:FlagsClear event:MailboxCreate",
        "Only the first 6 terms were counted; one of the others may match nothing.")]
    public void Query_MatchingNothing_EachTermMatchingAlone_SaysWhatLeavesNothing_AsTheQueryCombinesThem(string query, string said)
    {
        // "No event matches them all together; join them with OR" is wrong for a query that already has an OR, for one whose
        // exclusion leaves nothing, and for terms left uncounted (a review).
        var page = _page.Render<SearchPage>();

        Search(page, query);

        page.WaitForAssertion(() =>
        {
            Assert.Equal("0 events match", Total(page));
            Assert.Contains(said, page.Find("[role=note][aria-label='Why nothing matches']").TextContent, StringComparison.Ordinal);
        }, PageTestContext.Timeout);
        Assert.DoesNotContain("join them with OR", page.Find("[role=note][aria-label='Why nothing matches']").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Query_MatchingNothing_EachTermMatchingAlone_SaysTheyDoNotMatchTogether_AndLinksEach()
    {
        var page = _page.Render<SearchPage>();

        Search(page, "event:Login event:Logout");

        page.WaitForAssertion(() =>
        {
            Assert.Equal("0 events match", Total(page));
            var note = page.Find("[role=note][aria-label='Why nothing matches']");
            Assert.Contains("Each of these terms matches events on its own", note.TextContent, StringComparison.Ordinal);
            // Two types: OR of the two, not of every term (a review saw "join them with OR" for user:a user:b event:Login).
            Assert.Contains("An event has one type: event:Login and event:Logout cannot all match the same event; for any of them, write (event:Login OR event:Logout).", note.TextContent, StringComparison.Ordinal);
            Assert.Equal(["search?q=event%3ALogin", "search?q=event%3ALogout"], note.QuerySelectorAll("a").Select(a => a.GetAttribute("href")));
        }, PageTestContext.Timeout);
    }

    [Fact]
    public void Query_MatchingSomething_HasNoExplanation()
    {
        var page = _page.Render<SearchPage>();

        Search(page, "event:Login");

        page.WaitForAssertion(() =>
        {
            Assert.NotEqual("0 events match", Total(page));
            Assert.Empty(page.FindAll(".bonnie-facets-counting"));
        }, PageTestContext.Timeout);
        Assert.Empty(page.FindAll("[aria-label='Why nothing matches']"));
    }

    [Theory]
    [InlineData("event:MessageNew", "event:MessageNew")]
    [InlineData("user:Alice@Example.org folder:\"My Folder\"", "user:alice@example.org|folder:\"my folder\"")]
    [InlineData("ip:10.0.* subject:\"contract draft\" from:bob", "ip:10.0.*|subject:\"contract draft\"|from:bob")]
    [InlineData("invoice* -user:bob (flag:\\Seen OR on:2026-11-29)", "invoice*|flag:\\seen|on:2026-11-29")]
    [InlineData("after:2026-11-01T10:30:00Z messageid:<a@b>", "after:2026-11-01T10:30:00Z|messageid:<a@b>")]
    // Accented: searched in both spellings, one term for the officer.
    [InlineData("folder:Müller event:Login", "folder:müller|event:Login")]
    // A '*' inside quotes is itself, outside them a prefix; a backslash needs no quotes.
    [InlineData("folder:\"abc*\" user:\"ab*\"* flag:\\Seen", "folder:\"abc*\"|user:\"ab*\"*|flag:\\seen")]
    public void NoMatchExplanation_WantedTerms_ReadAsTheyAreTyped_AndParseToTheSameTerm(string query, string expected)
    {
        // Excluded terms are left out: alone they match what the query keeps out.
        var terms = Bonnie.Web.Search.NoMatchExplanation.Wanted(Bonnie.Shared.Search.QueryParser.Parse(query).Root).ToList();
        Assert.Equal(expected, string.Join('|', terms.Select(t => t.Text)));
        foreach (var (text, node) in terms)
        {
            // Typed again, each is the same term (the page links it to its own search).
            Assert.True(Bonnie.Web.Search.NoMatchExplanation.SameTerm(node, Bonnie.Shared.Search.QueryParser.Parse(text).Root), text);
        }
    }

    [Theory]
    [InlineData("event:MessageNew folder:Archve", "event:MessageNew|folder:Archve")]
    [InlineData("(folder:\"My Folder\" OR user:Bob) flag:\\Seen -user:Eve", "folder:\"My Folder\"|user:Bob|flag:\\Seen")]
    [InlineData("folder:Müller \"Contract Draft\"*", "folder:Müller|\"Contract Draft\"*")]
    public void NoMatchExplanation_TermsOf_ShowsEachAsTyped(string query, string expected)
    {
        // The parser holds keywords in lower case; "folder:archve" under "folder:Archve" read as another term (a review).
        var (counted, _) = Bonnie.Web.Search.NoMatchExplanation.TermsOf(Bonnie.Shared.Search.QueryParser.Parse(query));
        Assert.Equal(expected, string.Join('|', counted.Select(t => t.Text)));
    }


    [Theory]
    [InlineData("alice@example.org", "alice@example.org")]
    [InlineData("event:MessageNew (alice@example.org OR Bob@Example.org)", "alice@example.org|Bob@Example.org")]
    [InlineData("user:alice@example.org", "")]
    [InlineData("event:Login -alice@example.org", "")]
    [InlineData("from:alice@example.org", "")]
    [InlineData("alice*", "")]
    [InlineData("\"alice example.org\"", "")]
    public void AddressesAsText_OnlyAddressesSearchedAsFreeText_NotExcludedOnesNorFields(string query, string expected)
    {
        // The user's own term, a field's, or an address excluded mean what they say: no note for them.
        Assert.Equal(expected, string.Join('|', SearchPage.AddressesAsText(Bonnie.Shared.Search.QueryParser.Parse(query).Root)));
    }

    [Fact]
    public async Task Facets_MoreUsersThanChips_SaysHowManyUsersMatch_InWords()
    {
        // "The 12 largest of 50 or more" read as 50 users in all to a review, beside a thousand.
        await _page.Store.ProcessAsync(Enumerable.Range(1, 14)
            .Select(n => TestStore.Raw(System.Text.Encoding.UTF8.GetBytes(TestStore.Fixture("Login")
                .Replace("\"user\":\"cyrus\"", $"\"user\":\"facet-user-{n:D2}\"", StringComparison.Ordinal)
                .Replace("cyrus-1795951187-11381-2-14971745235264492537", $"facet-session-{n:D2}", StringComparison.Ordinal))))
            .ToArray());
        var page = _page.Render<SearchPage>();

        Search(page, "session:facet-session-*");

        page.WaitForAssertion(() =>
        {
            Assert.Equal(12, page.FindAll("[role=group][aria-label=User] .mud-chip").Count);
            Assert.Contains("The 12 users with the most matches shown; 14 users match. Add a term to narrow the query and see the others.",
                page.Find(".bonnie-facets-more").TextContent, StringComparison.Ordinal);
        }, PageTestContext.Timeout);
    }

    [Fact]
    public async Task Facets_MoreBucketsThanChips_SaysWhatTheChipsLeaveOut()
    {
        // A review took the twelve days shown for all the days there were.
        await _page.Store.ProcessAsync(Enumerable.Range(1, 15)
            .Select(day => TestStore.Session("Login", $"day-session-{day:D2}", new DateTimeOffset(2026, 10, day, 8, 0, 0, TimeSpan.Zero))).ToArray());
        var page = _page.Render<SearchPage>();

        Search(page, "session:day-session-*");

        page.WaitForAssertion(() =>
        {
            Assert.Equal(12, page.FindAll("[role=group][aria-label=Day] .mud-chip").Count);
            Assert.Contains("The newest 12 of 15 days; the chart above has every day.", page.Markup, StringComparison.Ordinal);
            // One user: all there is is shown, and nothing is said.
            Assert.Single(page.FindAll("[role=group][aria-label=User] .mud-chip"));
            Assert.Single(page.FindAll(".bonnie-facets-more"));
        }, PageTestContext.Timeout);
    }

    [Fact]
    public void Facets_NothingMatches_NoEmptyNarrowDownBox()
    {
        var page = _page.Render<SearchPage>();

        Search(page, "user:nobody-at-all@example.org");

        page.WaitForAssertion(() =>
        {
            Assert.Contains("No event matches.", page.Markup, StringComparison.Ordinal);
            Assert.Empty(page.FindAll(".bonnie-facets-counting"));
            Assert.Empty(page.FindAll("[role=region][aria-label=Facets]"));
        }, PageTestContext.Timeout);
    }

    [Fact]
    public async Task Pages_NextPutsThePageInTheAddress_TheAddressOpensThatPage_FirstGoesBack()
    {
        // A page of results can be bookmarked or sent: the address named only the query, so it opened on page 1.
        var (page, nav) = await OnSecondPageAsync();
        var address = nav.Uri;

        var opened = _page.Render<SearchPage>();
        opened.WaitForAssertion(() =>
        {
            Assert.Equal("Page 2: rows 51–60 of 60", PageLabel(opened));
            Assert.Equal(10, opened.FindAll("tbody tr.mud-table-row").Count);
            Assert.Contains("11:30:09", opened.FindAll("tbody tr.mud-table-row")[0].TextContent, StringComparison.Ordinal);
            Assert.Empty(opened.FindAll(".bonnie-facets-counting"));
        }, PageTestContext.Timeout);
        Assert.Equal(address, nav.Uri);

        opened.Find("button:contains('First page')").Click();

        opened.WaitForAssertion(() => Assert.Equal("Page 1: rows 1–50 of 60", PageLabel(opened)), PageTestContext.Timeout);
        Assert.DoesNotContain("&at=", nav.Uri, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pages_Next_BringsTheNewPagesRowsIntoView_ASearchDoesNot()
    {
        // A review clicked Next at the foot of the page and was left looking at the new page's last rows; then, with the
        // total focused instead, at the top of the page, the chart and the counts between it and the rows.
        var page = await OnFirstPageAsync();
        Assert.Equal(0, Invoked(ShowRows));

        page.Find("button:contains('Next page')").Click();

        page.WaitForAssertion(() => Assert.Equal("Page 2: rows 51–60 of 60", PageLabel(page)), PageTestContext.Timeout);
        await InvokedMoreThanAsync(ShowRows, 0);
        var shown = Assert.Single(_page.Context.JSInterop.Invocations, i => i.Identifier == ShowRows);
        Assert.IsType<Microsoft.AspNetCore.Components.ElementReference>(shown.Arguments[0]);
        // What is brought into view is the grid of rows itself, focusable only by script.
        var rows = page.Find(".bonnie-results-rows");
        Assert.Equal("-1", rows.GetAttribute("tabindex"));
        Assert.Equal(10, rows.QuerySelectorAll("tbody tr.mud-table-row").Length);
    }

    private const string ShowRows = "bonnieScroll.showRows";

    private const string RestoreAfterReturn = "bonnieScroll.restoreAfterReturn";

    private int Invoked(string identifier) => _page.Context.JSInterop.Invocations.Count(i => i.Identifier == identifier);

    /// <summary>
    /// Waits until the page has called <paramref name="identifier"/> in the browser more than <paramref name="before"/>
    /// times. The call comes after the page's last render, which WaitForAssertion would not see again: waited for by
    /// the clock, up to the tests' timeout, then asserted.
    /// </summary>
    private async Task InvokedMoreThanAsync(string identifier, int before)
    {
        var deadline = DateTime.UtcNow + PageTestContext.Timeout;
        while (Invoked(identifier) <= before && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        Assert.True(Invoked(identifier) > before, $"the page did not call {identifier}");
    }

    [Theory]
    [InlineData("Query builder", "query-builder")]
    [InlineData("Saved searches", "saved-searches")]
    public async Task Panels_ButtonUnderTheBox_BringsThePanelIntoView(string button, string id)
    {
        // Below 1920 px the builder and the saved searches follow the fifty rows: a review scrolled 3,500 px to find them.
        var page = _page.Render<SearchPage>();

        await page.InvokeAsync(() => page.Find($"button:contains('{button}')").Click());

        page.WaitForAssertion(() => Assert.Single(_page.Context.JSInterop.Invocations, i => i.Identifier == "bonnieScroll.showPanel"), PageTestContext.Timeout);
        var shown = Assert.Single(_page.Context.JSInterop.Invocations, i => i.Identifier == "bonnieScroll.showPanel");
        Assert.Equal(id, shown.Arguments[0]);
        var panel = page.Find("#" + id);
        Assert.Equal(button, panel.GetAttribute("aria-label"));
        Assert.Equal("-1", panel.GetAttribute("tabindex"));
    }


    [Fact]
    public async Task Pages_OpenedByTheAddress_AskToReturnToWhereTheOfficerLeftThem_NotBroughtToTheirTop()
    {
        // A review opened an event from the results, pressed Back, and was at the top of the page: the rows come back
        // only after the search has run again, too late for the browser's own restoring of the position.
        var (page, nav) = await OnSecondPageAsync();
        page.WaitForAssertion(() => Assert.Equal("Page 2: rows 51–60 of 60", PageLabel(page)), PageTestContext.Timeout);
        // Whether the officer came back by Back or Forward is the script's to tell (bonnie.js): the page asks each time its
        // address changes. The page left is gone, as it is when the officer opens an event, so what follows is the new one's.
        await _page.Context.DisposeComponentsAsync();
        var before = Invoked(RestoreAfterReturn);
        var shown = Invoked(ShowRows);

        // Back from the event: the page is made anew from its address.
        var opened = _page.Render<SearchPage>();

        opened.WaitForAssertion(() =>
        {
            Assert.Equal("Page 2: rows 51–60 of 60", PageLabel(opened));
            Assert.Empty(opened.FindAll(".bonnie-facets-counting"));
        }, PageTestContext.Timeout);
        await InvokedMoreThanAsync(RestoreAfterReturn, before);
        // Not also brought to the results' top, as a page the officer turns to is.
        Assert.Equal(shown, Invoked(ShowRows));
        Assert.Contains("&page=2&at=", nav.Uri, StringComparison.Ordinal);
    }

    [Fact]
    public void Export_OfferedForMatches_NotForNoMatch()
    {
        // A review was offered an evidence export of "0 events match".
        _page.Authorization.SetPolicies(BonniePolicies.CanSearch, BonniePolicies.CanExport);
        var page = _page.Render<SearchPage>();

        Search(page, "event:MessageNew");
        page.WaitForAssertion(() => Assert.Contains("q=event%3AMessageNew", page.Find("a[aria-label='Export evidence bundle']").GetAttribute("href"),
            StringComparison.Ordinal), PageTestContext.Timeout);

        Search(page, "subject:nosuchwordanywhere");
        page.WaitForAssertion(() =>
        {
            Assert.Contains("0 events match", page.Find(".bonnie-total").TextContent, StringComparison.Ordinal);
            Assert.Empty(page.FindAll("[aria-label='Export evidence bundle']"));
        }, PageTestContext.Timeout);
    }

    [Fact]
    public async Task Pages_AnotherQuerysCursorInTheAddress_SaysSoAndShowsTheFirstPage()
    {
        await SixtyLoginsAsync();
        var other = await _page.Store.Store.SearchEventsAsync(new Bonnie.Shared.Search.EventSearch { Query = Bonnie.Shared.Search.QueryParser.Parse("event:Login"), Limit = 50 });
        var nav = _page.Context.Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>();
        nav.NavigateTo(Bonnie.Web.Search.ItemLinks.Search("session:paging-session-*", 2, other.Next!));

        var page = _page.Render<SearchPage>();

        page.WaitForAssertion(() =>
        {
            Assert.Contains("another query", page.Markup, StringComparison.Ordinal);
            Assert.Equal("Page 1: rows 1–50 of 60", PageLabel(page));
        }, PageTestContext.Timeout);
        // The address is wrong, not the query: no caret under the query's first character (a review).
        Assert.Empty(page.FindAll(".bonnie-query-caret"));
    }

    [Fact]
    public async Task Pages_TheSameQueryRunAgainFromPageTwo_FirstPageAndTheAddressSaysSo()
    {
        // A review: Enter on page 3 showed page 1 while the address kept page 3, so a reload or bookmark went back there.
        var (page, nav) = await OnSecondPageAsync();

        Search(page, "session:paging-session-*");

        page.WaitForAssertion(() =>
        {
            Assert.Equal("Page 1: rows 1–50 of 60", PageLabel(page));
            Assert.DoesNotContain("&at=", nav.Uri, StringComparison.Ordinal);
        }, PageTestContext.Timeout);
    }

    [Fact]
    public async Task Prerendered_AddressWithAQuery_ShowsTheQueryAndThatItIsSearchingNotAnEmptyBox_AndRunsNothing()
    {
        // A review saw a broad search's seconds as an empty box saying "Type a query" before the results came.
        _page.Context.SetRendererInfo(new Microsoft.AspNetCore.Components.RendererInfo("Static", isInteractive: false));
        var nav = _page.Context.Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>();
        nav.NavigateTo(Bonnie.Web.Search.ItemLinks.Search("event:MessageRead"));

        var page = _page.Render<SearchPage>();

        Assert.Equal("event:MessageRead", page.Find("#search-query").GetAttribute("value"));
        Assert.Contains("Searching…", page.Markup, StringComparison.Ordinal);
        Assert.DoesNotContain("Type a query", page.Markup, StringComparison.Ordinal);
        // Run and audited once, by the live circuit, not by the prerendering.
        Assert.DoesNotContain(await _page.AuditRecordsAsync(), r => r.Action == OfficerActions.Search);
    }

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
    public void FolderChip_ShowsTheFoldersNameAndItsClickSearchesTheFolderById()
    {
        // By name, a renamed folder made a chip per name, and a click found other counts (a review).
        var page = _page.Render<SearchPage>();
        Search(page, "user:alice@example.org");
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[aria-label^='Add folder:user/alice/Archive@example.org']")), PageTestContext.Timeout);
        var chip = page.Find("[aria-label^='Add folder:user/alice/Archive@example.org']");
        var counted = chip.GetAttribute("aria-label")!;

        chip.Click();

        page.WaitForAssertion(() =>
        {
            Assert.Equal($"user:alice@example.org folder:{TestStore.Archive}", page.Find("#search-query").GetAttribute("value"));
            Assert.EndsWith($"({Total(page).Split(' ')[0]})", counted, StringComparison.Ordinal);
        }, PageTestContext.Timeout);
    }

    [Fact]
    public void Chart_Search_PlotsMatchesPerDay()
    {
        var page = _page.Render<SearchPage>();

        Search(page, "user:alice@example.org");

        page.WaitForAssertion(() =>
            Assert.EndsWith(", 1 day", page.Find("figure[role=img]").GetAttribute("aria-label"), StringComparison.Ordinal), PageTestContext.Timeout);
    }
}
