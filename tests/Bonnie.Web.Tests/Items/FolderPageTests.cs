using AngleSharp.Dom;
using Bonnie.Web.Components.Pages;
using Bonnie.Web.Tests.Infrastructure;
using Bunit;
using Contents = Bonnie.Web.Folders.FolderHistory;

namespace Bonnie.Web.Tests.Items;

public sealed class FolderPageTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Day = new(2026, 11, 29, 0, 0, 0, TimeSpan.Zero);
    private PageTestContext _page = default!;

    public async Task InitializeAsync() => _page = await PageTestContext.CreateAsync();

    public async Task DisposeAsync() => await _page.DisposeAsync();

    [Theory]
    [InlineData(TestStore.Inbox, "11:20:00", new uint[0])]
    [InlineData(TestStore.Inbox, "11:20:30", new uint[] { 1 })]
    [InlineData(TestStore.Archive, "11:20:40", new uint[] { 1 })]
    [InlineData(TestStore.Archive, "11:20:46", new uint[] { 1, 2 })]
    public async Task ContentsAt_Moment_ReplaysLocationChanges(string folder, string time, uint[] uids)
    {
        var at = Day + TimeSpan.Parse(time, System.Globalization.CultureInfo.InvariantCulture);

        var rows = await Contents.ContentsAtAsync(_page.Store.Store, folder, at);

        Assert.Equal(uids, rows.Select(r => r.Uid));
    }

    [Fact]
    public void ShowContents_ChosenMomentBeforeTheCopy_ListsOnlyTheAppendedMessage()
    {
        _page.Clock.SetUtcNow(Day + new TimeSpan(11, 20, 44));
        var page = _page.Render<FolderHistory>(p => p.Add(x => x.Id, TestStore.Archive));
        page.WaitForAssertion(() => page.Find("button:contains('Show contents')"), PageTestContext.Timeout);

        page.Find("button:contains('Show contents')").Click();

        page.WaitForAssertion(() =>
        {
            Assert.StartsWith("1 message at 2026-11-29 11:20:44", page.Find("[role=status]").TextContent.Trim(), StringComparison.Ordinal);
            var row = Assert.Single(page.FindAll("tbody tr.mud-table-row"));
            Assert.Contains("appended", row.TextContent, StringComparison.Ordinal);
        }, PageTestContext.Timeout);
    }

    [Fact]
    public async Task Render_Folder_SaysHowManyEventsItHadAndItsBusiestDay_LinkedToThem()
    {
        // A review found no count on the folder page, only a link; and the link searched the folder's name, which another
        // folder may have had.
        var page = _page.Render<FolderHistory>(p => p.Add(x => x.Id, TestStore.Archive));
        page.WaitForAssertion(() => page.Find("[aria-label='Its events']"), PageTestContext.Timeout);

        var expected = (await _page.Store.Store.SearchEventsAsync(new Bonnie.Shared.Search.EventSearch
        {
            Query = Bonnie.Shared.Search.QueryParser.Parse("folder:" + TestStore.Archive), Limit = 1,
        })).Total;
        var link = page.Find("[aria-label='Its events']");
        Assert.Equal($"its {expected} events", link.TextContent.Trim());
        Assert.Equal(Bonnie.Web.Search.ItemLinks.Search("folder:" + TestStore.Archive), link.GetAttribute("href"));
        var card = System.Text.RegularExpressions.Regex.Replace(page.Find("[aria-label='Folder']").TextContent, "\\s+", " ");
        Assert.Contains($"its {expected} events on 1 day; the busiest 2026-11-29 with {expected}", card, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_FolderNeverRenamed_SaysSo_WithoutAnEmptyTable()
    {
        // A review saw the sentence above a table of headings with no row.
        var page = _page.Render<FolderHistory>(p => p.Add(x => x.Id, TestStore.Archive));

        page.WaitForAssertion(() =>
        {
            var names = page.Find("[aria-label='Names over time']");
            Assert.Contains("No rename is recorded", names.TextContent, StringComparison.Ordinal);
            Assert.Empty(names.QuerySelectorAll("table"));
        }, PageTestContext.Timeout);
    }

    [Fact]
    public async Task Render_FolderWithMetadata_ShowsEntriesAndTheirChangesAsText()
    {
        const string hostile = "<script>alert('x')</script>";
        await TestStore.SetFolderMetadataAsync(_page.Store.Store, TestStore.Archive, "/shared/comment", hostile, Day.AddHours(12));

        var page = _page.Render<FolderHistory>(p => p.Add(x => x.Id, TestStore.Archive));

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[aria-label='Metadata now'] tbody tr")), PageTestContext.Timeout);
        var now = Assert.Single(page.FindAll("[aria-label='Metadata now'] tbody tr"));
        Assert.Equal("/shared/comment", now.Children[0].TextContent);
        Assert.Equal(hostile, now.Children[1].TextContent);
        var change = Assert.Single(page.FindAll("[aria-label='Metadata over time'] tbody tr"));
        Assert.Equal(["2026-11-29 12:00:00 UTC", "/shared/comment", "not set", hostile], change.Children.Select(c => c.TextContent));
        // Shown as text: no element came out of the value.
        Assert.Empty(page.FindAll("[aria-label='Metadata'] script"));
    }

    [Fact]
    public async Task Render_FolderKnownByNameOnly_SaysWhichFolderItIsAndLinksThere()
    {
        // carol's INBOX is first named by a copy out of it (by URI, as Cyrus 3.6 names a copy's source), then an event
        // gives its id: the name-keyed stand-in points to the real folder.
        const string realId = "carolinbox00000000000001";
        var copy = TestStore.Fixture("vnd.cmu.MessageCopy").Replace("user/alice%40example.org;", "user/carol%40example.org;", StringComparison.Ordinal)
            .Replace("\"uidset\":\"2\"", "\"uidset\":\"7\"", StringComparison.Ordinal);
        var read = TestStore.Fixture("MessageRead").Replace("sufr9a0wrxwpaaifzy6ge6cu", realId, StringComparison.Ordinal)
            .Replace("user/alice%40example.org;", "user/carol%40example.org;", StringComparison.Ordinal);
        await _page.Store.ProcessAsync(TestStore.Raw(System.Text.Encoding.UTF8.GetBytes(copy)), TestStore.Raw(System.Text.Encoding.UTF8.GetBytes(read)));

        var page = _page.Render<FolderHistory>(p => p.Add(x => x.Id, Bonnie.Web.Search.ItemLinks.Encode("name:user/carol@example.org")));

        page.WaitForAssertion(() => Assert.Contains("known by name only", page.Find("[aria-label='Folder']").TextContent, StringComparison.Ordinal),
            PageTestContext.Timeout);
        var note = page.Find("[aria-label='Folder'] [role=note]");
        Assert.Equal("folders/" + realId, note.QuerySelector("a")!.GetAttribute("href"));
        Assert.Contains(realId, note.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_Archive_ShowsItsAclChanges()
    {
        var page = _page.Render<FolderHistory>(p => p.Add(x => x.Id, TestStore.Archive));

        page.WaitForAssertion(() =>
            Assert.NotEmpty(page.Find("[aria-label='Access control over time'] tbody").Children), PageTestContext.Timeout);
    }

    [Fact]
    public void Render_Rights_LettersAsCyrusReportedThem_WithTheirMeaningInWords()
    {
        // A review read "lrswipkxtecdan" as noise.
        var page = _page.Render<FolderHistory>(p => p.Add(x => x.Id, TestStore.Archive));

        page.WaitForAssertion(() =>
        {
            var rights = page.FindAll("abbr.bonnie-rights");
            Assert.NotEmpty(rights);
            var full = Assert.Single(rights, r => r.TextContent == "lrswipkxtecdan");
            var title = full.GetAttribute("title")!;
            Assert.StartsWith("l: see the folder; r: read its messages; s: keep them seen or unseen", title, StringComparison.Ordinal);
            Assert.Contains("a: change who may do what", title, StringComparison.Ordinal);
            Assert.EndsWith("n: annotate messages", title, StringComparison.Ordinal);
        }, PageTestContext.Timeout);
        Assert.Equal("z: a right Bonnie does not know", Bonnie.Web.Components.Shared.ImapRights.Describe("z"));
        Assert.Equal("no rights", Bonnie.Web.Components.Shared.ImapRights.Describe(""));
    }
}

/// <summary>The folder page with a directory: the ACL and owner by person and group, the raw identifier beside them.</summary>
public sealed class FolderAccessPageTests : IAsyncLifetime
{
    private PageTestContext _page = default!;
    private FakeDirectory _directory = default!;

    public async Task InitializeAsync()
    {
        _page = await PageTestContext.CreateAsync();
        _directory = await JaneStory.TellAsync(_page.Store);
    }

    public async Task DisposeAsync() => await _page.DisposeAsync();

    // Each piece of text on its own (the name, the raw identifier, the status), as a reader sees them apart.
    private static string Text(AngleSharp.Dom.IElement e) => string.Join(" ", e.Descendants<IText>()
        .Select(t => t.Data.Trim()).Where(t => t.Length > 0));

    [Fact]
    public void Render_AclWithDirectory_ShowsPeopleAndGroupsWithRawIdentifiers()
    {
        var page = _page.Render<FolderHistory>(p => p.Add(x => x.Id, TestStore.Archive));

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[aria-label='Access now'] tbody tr")), PageTestContext.Timeout);
        var rows = page.FindAll("[aria-label='Access now'] tbody tr").Select(r => Text(r.Children[0]) + " | " + Text(r.Children[1])).ToList();
        Assert.Equal(
            [
                $"denied Jane <b>Doe</b> -{JaneStory.JaneDoe} | w",
                "Alice Example alice@example.org | lrswipkxtecdan",
                "anyone (every user) anyone | l",
                "ghost@example.org not in the directory | r",
                "group legal group:legal | lr",
                $"Jane <b>Doe</b> {JaneStory.JaneDoe} | lrs",
            ],
            rows);
        // The person links to their page; a display name from the directory is text, never markup.
        var jane = page.FindAll("[aria-label='Access now'] a").Where(a => a.TextContent == "Jane <b>Doe</b>").ToList();
        Assert.Equal(2, jane.Count);
        Assert.All(jane, a => Assert.EndsWith("people/" + JaneStory.Jane, a.GetAttribute("href"), StringComparison.Ordinal));
        Assert.Empty(page.FindAll("[aria-label='Access now'] b"));
        // When each entry was looked up in the directory, or that it was not: an empty cell under an unclear header read
        // as a value missing (a review).
        Assert.Contains("Looked up in the directory", page.Find("[aria-label='Access now'] thead").TextContent, StringComparison.Ordinal);
        var looked = page.FindAll("[aria-label='Access now'] tbody tr").Select(r => r.Children[2].TextContent.Trim()).ToList();
        Assert.All(looked, t => Assert.True(t == "not looked up" || t.EndsWith(" UTC", StringComparison.Ordinal), t));
        Assert.Contains(looked, t => t.EndsWith(" UTC", StringComparison.Ordinal));
        var owner = page.Find("[aria-label='Owner'] a");
        Assert.Equal(("Alice Example", true), (owner.TextContent, owner.GetAttribute("href")!.EndsWith("people/" + JaneStory.Alice, StringComparison.Ordinal)));
    }

    [Fact]
    public void Render_AclChanges_ShowWhoByPersonInTheHistory()
    {
        var page = _page.Render<FolderHistory>(p => p.Add(x => x.Id, TestStore.Archive));

        page.WaitForAssertion(() =>
        {
            var history = page.Find("[aria-label='Access control over time'] tbody");
            var group = Assert.Single(history.Children, r => r.Children[1].TextContent.Contains("group:legal", StringComparison.Ordinal));
            Assert.StartsWith("group legal", Text(group.Children[1]), StringComparison.Ordinal);
            Assert.Contains(history.QuerySelectorAll("a"), a => a.TextContent == "Jane <b>Doe</b>");
        }, PageTestContext.Timeout);
    }

    [Theory]
    [InlineData("11:21:00", "Jane <b>Doe</b>", "lrs")]
    [InlineData("11:22:00", "Jane Roe", "lrsw")]
    public async Task ShowContents_MomentBeforeAndAfterARename_AccessThenNamesThePersonAsTheyWereThen(string time, string name, string rights)
    {
        await JaneStory.RenameAndGiveMoreRightsAsync(_page.Store, _directory);
        _page.Clock.SetUtcNow(new DateTimeOffset(2026, 11, 29, 0, 0, 0, TimeSpan.Zero) + TimeSpan.Parse(time, System.Globalization.CultureInfo.InvariantCulture));
        var page = _page.Render<FolderHistory>(p => p.Add(x => x.Id, TestStore.Archive));
        page.WaitForAssertion(() => page.Find("button:contains('Show contents')"), PageTestContext.Timeout);

        page.Find("button:contains('Show contents')").Click();

        page.WaitForAssertion(() =>
        {
            Assert.Contains("6 access entries then", System.Text.RegularExpressions.Regex.Replace(page.Find("[role=status]").TextContent, @"\s+", " "), StringComparison.Ordinal);
            var jane = Assert.Single(page.FindAll("[aria-label='Access at that moment'] tbody tr"),
                r => r.Children[0].TextContent.Contains(JaneStory.JaneDoe, StringComparison.Ordinal) && !r.Children[0].TextContent.Contains("denied", StringComparison.Ordinal));
            Assert.Equal((name, rights), (jane.Children[0].QuerySelector("a")?.TextContent, jane.Children[1].TextContent));
            Assert.EndsWith("people/" + JaneStory.Jane, jane.Children[0].QuerySelector("a")!.GetAttribute("href"), StringComparison.Ordinal);
            // A display name from the directory is text, never markup.
            Assert.Empty(page.FindAll("[aria-label='Access at that moment'] b"));
            Assert.Contains(page.FindAll("[aria-label='Access at that moment'] tbody tr"), r => Text(r.Children[0]) == "group legal group:legal");
            // Known since the folder was first seen (its state then, not a change), so there at every later moment.
            Assert.Contains(page.FindAll("[aria-label='Access at that moment'] tbody tr"),
                r => Text(r.Children[0]) == "Alice Example alice@example.org" && r.Children[1].TextContent == "lrswipkxtecdan");
        }, PageTestContext.Timeout);
    }

    [Fact]
    public void ShowContents_MomentBeforeTheFolderWasFirstSeen_NoAccessEntriesKnown()
    {
        _page.Clock.SetUtcNow(new DateTimeOffset(2026, 11, 29, 9, 0, 0, TimeSpan.Zero));
        var page = _page.Render<FolderHistory>(p => p.Add(x => x.Id, TestStore.Archive));
        page.WaitForAssertion(() => page.Find("button:contains('Show contents')"), PageTestContext.Timeout);

        page.Find("button:contains('Show contents')").Click();

        page.WaitForAssertion(() =>
        {
            Assert.Contains("0 messages at 2026-11-29 09:00:00 UTC; no access entries known then",
                System.Text.RegularExpressions.Regex.Replace(page.Find("[role=status]").TextContent, @"\s+", " "), StringComparison.Ordinal);
            Assert.Empty(page.FindAll("[aria-label='Access at that moment']"));
        }, PageTestContext.Timeout);
    }

    [Fact]
    public async Task Render_RightsChangedAfterARename_EachChangeShowsWhoTheNameWasThen()
    {
        await JaneStory.RenameAndGiveMoreRightsAsync(_page.Store, _directory);

        var page = _page.Render<FolderHistory>(p => p.Add(x => x.Id, TestStore.Archive));

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[aria-label='Access control over time'] tbody tr")), PageTestContext.Timeout);
        var janes = page.FindAll("[aria-label='Access control over time'] tbody tr")
            .Where(r => r.Children[1].TextContent.Contains(JaneStory.JaneDoe, StringComparison.Ordinal) && !r.Children[1].TextContent.Contains("denied", StringComparison.Ordinal))
            .Select(r => $"{r.Children[2].TextContent}>{r.Children[3].TextContent}: {r.Children[1].QuerySelector("a")?.TextContent}")
            .ToList();
        Assert.Equal(["none>lrs: Jane <b>Doe</b>", "lrs>lrsw: Jane Roe"], janes);
        Assert.Contains(page.FindAll("[aria-label='Access now'] a"), a => a.TextContent == "Jane Roe");
    }
}
