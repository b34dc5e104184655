using Microsoft.Playwright;

namespace Bonnie.Web.Tests.Journeys;

/// <summary>Debian's Chromium, headless, as every journey drives it.</summary>
internal static class JourneyBrowser
{
    /// <summary>
    /// How long a journey waits for the browser and for each expectation: Playwright's default 5 s ran out on a loaded
    /// machine before Blazor put a filter in the address (seen once, with a browser review beside the run).
    /// </summary>
    public const float Timeout = 15_000;

    public static async Task<(IPlaywright Playwright, IBrowser Browser)> LaunchAsync()
    {
        Assertions.SetDefaultExpectTimeout(Timeout);
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Timeout = Timeout,
        });
        return (playwright, browser);
    }
}
