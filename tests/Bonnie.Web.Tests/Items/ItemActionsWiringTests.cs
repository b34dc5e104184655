using Bonnie.Web.Components.Pages;
using Bonnie.Web.Security;
using Bonnie.Web.Tests.Infrastructure;
using Bunit;
using SearchPage = Bonnie.Web.Components.Pages.Search;

namespace Bonnie.Web.Tests.Items;

/// <summary>Where the restore and export buttons appear on the item pages, and what they start.</summary>
public sealed class ItemActionsWiringTests : IAsyncLifetime
{
    private PageTestContext _page = default!;

    public async Task InitializeAsync() => _page = await PageTestContext.CreateAsync();

    public async Task DisposeAsync() => await _page.DisposeAsync();

    private IRenderedComponent<MessageHistory> RenderDelivered()
    {
        var page = _page.Render<MessageHistory>(p => p.Add(x => x.Key, TestStore.DeliveredMessage));
        page.WaitForAssertion(() => page.Find("[aria-label='Message actions']"), PageTestContext.Timeout);
        return page;
    }

    [Fact]
    public void MessageActions_Restorer_OfferRestoreAndExportOfThisMessage()
    {
        _page.Authorization.SetPolicies(BonniePolicies.CanSearch, BonniePolicies.CanExport, BonniePolicies.CanRestore);

        var page = RenderDelivered();

        var links = page.FindAll("[aria-label='Message actions'] a").Select(a => a.GetAttribute("href")).ToList();
        Assert.Equal([$"messages/{TestStore.DeliveredMessage}/raw", $"/restore?scope=messages&keys={TestStore.DeliveredMessage}",
            $"/api/export?keys={TestStore.DeliveredMessage}"], links);
    }

    [Fact]
    public void MessageActions_Auditor_OnlyTheDownload()
    {
        _page.Authorization.SetPolicies(BonniePolicies.CanSearch);

        var page = RenderDelivered();

        var links = page.FindAll("[aria-label='Message actions'] a").Select(a => a.GetAttribute("href")).ToList();
        Assert.Equal([$"messages/{TestStore.DeliveredMessage}/raw"], links);
    }

    [Fact]
    public void Search_Investigator_ExportsTheQueryThatRan()
    {
        _page.Authorization.SetPolicies(BonniePolicies.CanSearch, BonniePolicies.CanExport);
        var page = _page.Render<SearchPage>();

        page.Find("#search-query").Input("event:MessageRead");
        page.Find("form[role=search]").Submit();

        page.WaitForAssertion(() => Assert.Equal("/api/export?q=event%3AMessageRead",
            page.Find("a[aria-label='Export evidence bundle']").GetAttribute("href")), PageTestContext.Timeout);
    }

    [Fact]
    public void Folder_RestorerShowsContentsAtAMoment_OffersToRestoreThem()
    {
        _page.Authorization.SetPolicies(BonniePolicies.CanSearch, BonniePolicies.CanRestore);
        _page.Clock.SetUtcNow(new DateTimeOffset(2026, 11, 29, 11, 20, 44, TimeSpan.Zero));
        var page = _page.Render<FolderHistory>(p => p.Add(x => x.Id, TestStore.Archive));
        page.WaitForAssertion(() => page.Find("button:contains('Show contents')"), PageTestContext.Timeout);
        Assert.Empty(page.FindAll("a[href^='/restore']"));

        page.Find("button:contains('Show contents')").Click();

        page.WaitForAssertion(() => Assert.Equal($"/restore?scope=folder&folder={TestStore.Archive}&at=2026-11-29T11%3A20%3A44.9999999Z",
            page.Find("a[href^='/restore']").GetAttribute("href")), PageTestContext.Timeout);
    }
}
