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
    public void Render_Archive_ShowsItsAclChanges()
    {
        var page = _page.Render<FolderHistory>(p => p.Add(x => x.Id, TestStore.Archive));

        page.WaitForAssertion(() =>
            Assert.NotEmpty(page.Find("[aria-label='Access control over time'] tbody").Children), PageTestContext.Timeout);
    }
}
