using Bonnie.Web.Search;
using Bonnie.Web.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Bonnie.Web.Tests.Journeys;

/// <summary>
/// Where the search page leaves an officer in a real browser (Debian's Chromium) against the real host: Back from an
/// event returns to the rows they left, and another page of results opens at its rows. The bUnit tests only see that
/// the page calls bonnie.js; these see what the officer sees.
/// </summary>
public sealed class SearchJourneyTests : IAsyncLifetime
{
    private const float Timeout = JourneyBrowser.Timeout;

    // Six pages of 50: enough for a page of results to scroll well past one window, and for First to be two pages back.
    private const int Logins = 300;

    // Every captured Login comes from 127.0.0.1, so this query matches all of them; it is also where the event page's
    // "Client address" links, which gives a link to the very same results.
    private static readonly string Query = QueryTerms.Term("ip", "127.0.0.1");

    // Counts each call the page makes to restore a position, installed before bonnie.js runs: the call comes a round trip
    // after the counts are shown, and only after it may a test say where the page was left. Wrapping it later would not
    // do: Blazor keeps the function it found at its first call.
    private const string CountRestores = """
        (() => {
            let scroll;
            Object.defineProperty(window, "bonnieScroll", {
                configurable: true,
                get: () => scroll,
                set: (value) => {
                    const restore = value.restoreAfterReturn;
                    window.bonnieRestores = 0;
                    value.restoreAfterReturn = function () {
                        const restored = restore.apply(this, arguments);
                        window.bonnieRestores++;
                        return restored;
                    };
                    scroll = value;
                },
            });
        })();
        """;

    private readonly BonnieWebFactory _factory = new();
    private readonly List<string> _consoleErrors = [];
    private IPlaywright _playwright = default!;
    private IBrowser _browser = default!;
    private string _baseUrl = "";

    private string ResultsAddress => _baseUrl + "/" + ItemLinks.Search(Query);

    public async Task InitializeAsync()
    {
        _factory.UseKestrel(0);
        _factory.StartServer();
        _baseUrl = _factory.ClientOptions.BaseAddress.ToString().TrimEnd('/');
        var start = new DateTimeOffset(2026, 11, 29, 8, 0, 0, TimeSpan.Zero);
        await TestStore.ProcessInAsync(_factory.Services, [.. Enumerable.Range(0, Logins)
            .Select(i => TestStore.Session("Login", $"journey-session-{i:D3}", start.AddMinutes(i)))]);
        (_playwright, _browser) = await JourneyBrowser.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _factory.DisposeAsync();
    }

    // A laptop's window, and a phone's. On the phone the event's page is longer than the window, so on Back the browser
    // scrolls it (its own try at the results' position, cut short by the event's length) while the address is already
    // the results' again: the position kept for them must be the officer's, not that scroll's.
    [Theory]
    [InlineData(1440, 900)]
    [InlineData(390, 844)]
    public async Task Search_BackFromAnEvent_ReturnsToTheRowsTheOfficerLeft(int width, int height)
    {
        var page = await OpenResultsAsync(width, height);
        var (left, topRow) = await ReadDownToAsync(page, 1500);

        await OpenAnEventInTheMiddleOfTheWindowAsync(page);
        // Read once the event is open, so that the wait below can only be met by a call after leaving it.
        var restores = await RestoresAsync(page);
        await page.GoBackAsync();

        // The search runs again and shows its counts before the page may put the officer back: wait for that call.
        await WaitForRestoreAfterAsync(page, restores);
        await ScreenshotAsync(page, $"30-search-back-from-an-event-{width}");
        Assert.Equal(ResultsAddress, page.Url);
        var y = await ScrollYAsync(page);
        Assert.True(Math.Abs(y - left) <= 2, $"Back from the event left the results at {y} px, not at {left} px where the officer was");
        Assert.Equal(topRow, await TopRowAsync(page));
        Assert.Empty(_consoleErrors);
    }

    [Fact]
    public async Task Search_ALinkToTheSameResults_OpensThemAtTheirTop()
    {
        var page = await OpenResultsAsync();
        await ReadDownToAsync(page, 1500);

        // The event's client address links to these very results; followed (not Back), it is a new visit, read from the top.
        await OpenAnEventInTheMiddleOfTheWindowAsync(page);
        // Read once the event is open, so that the wait below can only be met by a call after leaving it.
        var restores = await RestoresAsync(page);
        await page.GetByRole(AriaRole.Region, new() { Name = "Event fields" })
            .GetByRole(AriaRole.Link, new() { Name = "127.0.0.1", Exact = true }).ClickAsync();

        await WaitForRestoreAfterAsync(page, restores);
        Assert.Equal(ResultsAddress, page.Url);
        Assert.Equal(0, await ScrollYAsync(page));
        Assert.Empty(_consoleErrors);
    }

    [Fact]
    public async Task Search_NextPreviousAndFirstFromTheFootOfThePage_ShowTheNewRowsBelowTheAppBarAndFocusThem()
    {
        var page = await OpenResultsAsync();

        await TurnFromTheFootAsync(page, "Next page", $"Page 2: rows 51–100 of {Logins}");
        await ScreenshotAsync(page, "31-search-next-page");
        await TurnFromTheFootAsync(page, "Next page", $"Page 3: rows 101–150 of {Logins}");
        await TurnFromTheFootAsync(page, "Previous page", $"Page 2: rows 51–100 of {Logins}");
        await TurnFromTheFootAsync(page, "First page", $"Page 1: rows 1–50 of {Logins}");
        Assert.Empty(_consoleErrors);
    }

    [Fact]
    public async Task Search_OnAPhone_TheTotalReadsOnOneLine()
    {
        // Seen on the phone's screenshots of the Back journey: the export button and the order squeezed the total to a
        // letter a line, the height of a screen.
        var page = await OpenResultsAsync(390, 844);

        var total = page.GetByRole(AriaRole.Status).Filter(new() { HasText = $"{Logins} events match" });
        var sizes = await total.EvaluateAsync<double[]>("e => [e.getBoundingClientRect().height, parseFloat(getComputedStyle(e).lineHeight)]");
        var (height, line) = (sizes[0], sizes[1]);
        Assert.True(height < 1.5 * line, $"the total is {height} px high, lines of {line} px");
        var widths = await page.EvaluateAsync<int[]>("() => [document.documentElement.scrollWidth, window.innerWidth]");
        Assert.True(widths[0] <= widths[1], $"the page is {widths[0]} px wide in a window of {widths[1]} px");
    }

    /// <summary>Signs in on the results' address and waits until the rows and their counts are shown.</summary>
    private async Task<IPage> OpenResultsAsync(int width = 1440, int height = 900)
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new() { Width = width, Height = height } });
        context.SetDefaultTimeout(Timeout);
        var page = await context.NewPageAsync();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                _consoleErrors.Add(message.Text);
            }
        };
        await page.AddInitScriptAsync(CountRestores);
        await page.GotoAsync(ResultsAddress);
        await OfficerJourneyTests.SignInAsync(page, BonnieWebFactory.AdminName, BonnieWebFactory.AdminPassword);
        await OfficerJourneyTests.WaitInteractiveAsync(page);
        await WaitForResultsAsync(page);
        return page;
    }

    // The counts come after the rows and push them down: only once they are shown is the page as long as it stays.
    private static async Task WaitForResultsAsync(IPage page)
    {
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = $"{Logins} events match" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Region, new() { Name = "Facets" })).ToBeVisibleAsync();
    }

    /// <summary>
    /// Scrolls the results to <paramref name="y"/> as an officer reading down them would, and returns where the page
    /// is and the row then first below the app bar.
    /// </summary>
    private static async Task<(int Y, string TopRow)> ReadDownToAsync(IPage page, int y)
    {
        await page.EvaluateAsync("y => window.scrollTo(0, y)", y);
        // bonnie.js keeps the position on the next frame after the scroll; an officer takes longer than that to click.
        await page.EvaluateAsync("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))");
        var at = await ScrollYAsync(page);
        // Far enough down that a page left at its top, or anywhere else, is told apart.
        Assert.Equal(y, at);
        var topRow = await TopRowAsync(page);
        Assert.NotNull(topRow);
        return (at, topRow);
    }

    private static async Task OpenAnEventInTheMiddleOfTheWindowAsync(IPage page)
    {
        var name = await page.EvaluateAsync<string>("""
            () => [...document.querySelectorAll('table[aria-label="Matching events"] a[aria-label^="Event detail"]')]
                .find(a => a.getBoundingClientRect().top >= innerHeight / 2).getAttribute("aria-label")
            """);
        await page.GetByRole(AriaRole.Link, new() { Name = name, Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Region, new() { Name = "Event fields" })).ToBeVisibleAsync();
    }

    /// <summary>
    /// From the foot of the results, where the page buttons are, turns the page with <paramref name="button"/>: the new
    /// rows must start just below the app bar, not above the window nor far down it, and have the focus.
    /// </summary>
    private static async Task TurnFromTheFootAsync(IPage page, string button, string label)
    {
        await page.EvaluateAsync("() => document.querySelector('nav[aria-label=\"Result pages\"]').scrollIntoView({ block: 'end' })");
        var rows = page.GetByLabel("Matching events, this page");
        // The officer has read down past the rows' top: a page left where it was would not show the new rows' start.
        var (before, _) = await RowsTopAsync(page);
        Assert.True(before < 0, $"the first row was still in the window ({before} px) before turning the page");

        await page.GetByRole(AriaRole.Button, new() { Name = button }).ClickAsync();
        await Expect(page.GetByText(label, new() { Exact = true })).ToBeVisibleAsync();
        // The focus comes with the scroll (bonnie.js does both at once): once on the rows, the page has been shown.
        await Expect(rows).ToBeFocusedAsync();

        var (firstRow, appBarBottom) = await RowsTopAsync(page);
        Assert.True(firstRow >= appBarBottom && firstRow < 200,
            $"after {button} the first row is at {firstRow} px from the window's top (the app bar ends at {appBarBottom} px)");
    }

    /// <summary>The top of the grid's first row and the bottom of the app bar, in px from the window's top.</summary>
    private static async Task<(double FirstRow, double AppBarBottom)> RowsTopAsync(IPage page)
    {
        var tops = await page.EvaluateAsync<double[]>("""
            () => [
                document.querySelector('table[aria-label="Matching events"] tbody tr').getBoundingClientRect().top,
                document.querySelector('header.mud-appbar').getBoundingClientRect().bottom,
            ]
            """);
        return (tops[0], tops[1]);
    }

    /// <summary>The event link of the first row wholly below the app bar: the row the officer reads first.</summary>
    private static Task<string?> TopRowAsync(IPage page) => page.EvaluateAsync<string?>("""
        () => {
            const bar = document.querySelector('header.mud-appbar').getBoundingClientRect().bottom;
            const first = [...document.querySelectorAll('table[aria-label="Matching events"] a[aria-label^="Event detail"]')]
                .find(a => a.closest("tr").getBoundingClientRect().top >= bar);
            return first ? first.getAttribute("aria-label") : null;
        }
        """);

    private static Task<int> ScrollYAsync(IPage page) => page.EvaluateAsync<int>("() => Math.round(scrollY)");

    private static Task<int> RestoresAsync(IPage page) => page.EvaluateAsync<int>("() => window.bonnieRestores");

    /// <summary>Waits for the page's next call to restore a position, and for the counts it waits for: the page as it stays.</summary>
    private static async Task WaitForRestoreAfterAsync(IPage page, int restores)
    {
        await page.WaitForFunctionAsync("before => window.bonnieRestores > before", restores);
        await WaitForResultsAsync(page);
    }

    private static async Task ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(Screenshots.Directory);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots.Directory, name + ".png") });
    }
}
