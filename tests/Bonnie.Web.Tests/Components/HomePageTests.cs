using Bonnie.Pipeline.Status;
using Bonnie.Web.Components.Pages;
using Bonnie.Web.Hosting;
using Bonnie.Web.Security;
using Bonnie.Web.Tests.Infrastructure;
using Bunit;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using MudBlazor.Services;

namespace Bonnie.Web.Tests.Components;

public sealed class HomePageTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private readonly BunitContext _context = new();
    private readonly SystemStatus _status = new();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 29, 15, 0, 0, TimeSpan.Zero));
    private BunitAuthorizationContext _authorization = default!;
    private TestStore _store = default!;
    private bool _storeClosed;
    private bool _interactive;

    public async Task InitializeAsync()
    {
        // An empty store: the tests of the trail over time fill it with what they count.
        _store = await TestStore.CreateAsync();
        _context.Services.AddMudServices();
        _context.Services.AddSingleton(_status);
        _context.Services.AddSingleton(new StoredEventsTimeline(_store.Store, _clock));
        // A worker with a spool partition, unless a test says otherwise: the notice of unkept messages stays off.
        _context.Services.AddSingleton(Notice(spool: true, collector: false));
        _context.JSInterop.Mode = JSRuntimeMode.Loose;
        _authorization = _context.AddAuthorization();
        _authorization.SetAuthorized("ann").SetPolicies(BonniePolicies.CanSearch);
    }

    public async Task DisposeAsync()
    {
        await _context.DisposeAsync();
        if (!_storeClosed)
        {
            await _store.DisposeAsync();
        }
    }

    /// <summary>The page as a live circuit renders it (it counts the trail only then); a test's own services are added before.</summary>
    private IRenderedComponent<Home> RenderHome()
    {
        if (!_interactive)
        {
            _context.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
            _interactive = true;
        }
        return _context.Render<Home>();
    }

    private static string Trail(IRenderedComponent<Home> page) =>
        string.Join(' ', page.Find("[role=region][aria-label='The audit trail over time']").TextContent.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    private Task LoginsAtAsync(params DateTimeOffset[] times) =>
        _store.ProcessAsync([.. times.Select((t, i) => TestStore.Session("Login", $"home-session-{t:yyyyMMddHHmm}-{i}", t))]);

    private static DateTimeOffset At(int month, int day, int hour = 10) => new(2026, month, day, hour, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Render_TheTrailOverTime_FirstAndLastEvent_TheLastThirtyDaysCountedByDay()
    {
        // Before the window, three on one day in it, one on its last day, and one stamped after today (a clock ahead).
        await LoginsAtAsync(At(9, 1), At(11, 20, 8), At(11, 20, 9), At(11, 20, 23), At(11, 29, 14), At(12, 5));

        var page = RenderHome();

        page.WaitForAssertion(() => Assert.Contains("From its first event, 2026-09-01, to its last, 2026-12-05 (by when they happened, UTC).", Trail(page), StringComparison.Ordinal), Timeout);
        Assert.Contains("4 events in the 30 days up to today, 2026-10-31 to 2026-11-29 (UTC), counted at 15:00 UTC.", Trail(page), StringComparison.Ordinal);
        // The count links to the search that finds exactly those events.
        var count = page.Find("a.bonnie-trail-count");
        Assert.Equal("search?q=after%3A2026-10-31%20before%3A2026-11-30", count.GetAttribute("href"));
        Assert.Equal("Events per day, 2026-10-31 to 2026-11-29: the busiest 2026-11-20 with 3; 28 days without any",
            page.Find("[aria-label='The audit trail over time'] figure").GetAttribute("aria-label"));
        // First and last link to their events.
        Assert.All(page.FindAll(".bonnie-trail-span a"), a => Assert.StartsWith("events/", a.GetAttribute("href"), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Render_NoEventInTheLastDays_ShowsTheDaysUpToTheLastEvent_AndSaysSo()
    {
        // An archive imported, or a Cyrus that stopped sending: thirty empty days showed nothing of the trail.
        await LoginsAtAsync(At(9, 1), At(10, 3), At(10, 3, 11), At(10, 30));

        var page = RenderHome();

        page.WaitForAssertion(() => Assert.Contains("No events in the last 30 days: the last was on 2026-10-30, 30 days ago.", Trail(page), StringComparison.Ordinal), Timeout);
        Assert.Equal("live", page.Find(".bonnie-trail-quiet a").GetAttribute("href"));
        Assert.Contains("3 events in the 30 days up to the last event, 2026-10-01 to 2026-10-30 (UTC)", Trail(page), StringComparison.Ordinal);
        Assert.Equal("search?q=after%3A2026-10-01%20before%3A2026-10-31", page.Find("a.bonnie-trail-count").GetAttribute("href"));
        Assert.StartsWith("Events per day, 2026-10-01 to 2026-10-30: the busiest 2026-10-03 with 2;",
            page.Find("[aria-label='The audit trail over time'] figure").GetAttribute("aria-label"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Render_LastEventYesterday_TheDaysStillEndToday()
    {
        // Just after midnight, before the day's first event: yesterday's is within the last 30 days.
        await LoginsAtAsync(At(11, 28, 23));

        var page = RenderHome();

        page.WaitForAssertion(() => Assert.Contains("1 event in the 30 days up to today, 2026-10-31 to 2026-11-29 (UTC)", Trail(page), StringComparison.Ordinal), Timeout);
        Assert.DoesNotContain("No events in the last 30 days", Trail(page), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Render_DaysTiedForTheMost_TheChartsWordsSayTheTie()
    {
        // "The busiest 2026-10-01 with 1,000" when every day had 1,000 (a review).
        await LoginsAtAsync(At(11, 27), At(11, 28));

        var page = RenderHome();

        page.WaitForAssertion(() => Assert.Equal("Events per day, 2026-10-31 to 2026-11-29: 2 days with the most, 1 each, the last 2026-11-28; 28 days without any",
            page.Find("[aria-label='The audit trail over time'] figure").GetAttribute("aria-label")), Timeout);
    }

    [Fact]
    public void Render_EmptyStore_SaysItHoldsNoEvent_NoChart()
    {
        var page = RenderHome();

        page.WaitForAssertion(() => Assert.Contains("The store holds no event yet.", Trail(page), StringComparison.Ordinal), Timeout);
        Assert.Contains("0 events in the 30 days up to today", Trail(page), StringComparison.Ordinal);
        Assert.Empty(page.FindAll("[aria-label='The audit trail over time'] figure"));
    }

    [Fact]
    public async Task Render_TheCountIsKeptAMinute_ThenCountedAgain()
    {
        // A month of events is read whole to count it: every officer's home page within a minute shares one count.
        await LoginsAtAsync(At(11, 29, 9));
        var first = RenderHome();
        first.WaitForAssertion(() => Assert.Contains("1 event in the 30 days up to today", Trail(first), StringComparison.Ordinal), Timeout);
        await LoginsAtAsync(At(11, 29, 11));

        var second = RenderHome();
        second.WaitForAssertion(() => Assert.Contains("1 event in the 30 days up to today", Trail(second), StringComparison.Ordinal), Timeout);

        _clock.Advance(StoredEventsTimeline.KeptFor);
        var third = RenderHome();
        third.WaitForAssertion(() => Assert.Contains("2 events in the 30 days up to today", Trail(third), StringComparison.Ordinal), Timeout);
        Assert.Contains("counted at 15:01 UTC", Trail(third), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Render_StoreFails_SaysTheDaysCouldNotBeCounted_TheCardsStay()
    {
        // The store the page was given, closed under it.
        await _store.DisposeAsync();
        _storeClosed = true;

        var page = RenderHome();

        page.WaitForAssertion(() => Assert.Contains("The last days could not be counted: the store answered with an error.", Trail(page), StringComparison.Ordinal), Timeout);
        Assert.Contains("Events stored", page.Markup, StringComparison.Ordinal);
    }

    private static Bonnie.Web.Hosting.PayloadSourceNotice Notice(bool spool, bool collector)
    {
        var payloads = new Bonnie.Pipeline.Worker.Payloads.PayloadOptions { UseCollector = collector };
        if (spool)
        {
            payloads.SpoolPartitions.Add("/var/spool/cyrus/mail");
        }
        return new(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build(), Microsoft.Extensions.Options.Options.Create(payloads));
    }

    private static string Card(IRenderedComponent<Home> page, string label) =>
        page.Find($"[role=region][aria-label='{label}']").TextContent;

    [Theory]
    [InlineData(false, false, true)]
    [InlineData(true, false, false)]
    [InlineData(false, true, false)]
    public void Render_NoPayloadSourceForTheWorkerHere_SaysMessagesAreNotKept(bool spool, bool collector, bool shown)
    {
        _context.Services.AddSingleton(Notice(spool, collector));

        var page = RenderHome();

        Assert.Equal(shown, page.FindAll("[aria-label='Messages not kept']").Count == 1);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Render_NoPayloadSource_SettingsNamedToAdministratorsOnly(bool administrator)
    {
        // An investigator was shown configuration keys they cannot change (a review).
        _context.Services.AddSingleton(Notice(spool: false, collector: false));
        if (administrator)
        {
            _authorization.SetPolicies(BonniePolicies.CanSearch, BonniePolicies.CanAdminister);
        }

        var page = RenderHome();

        var notice = page.Find("[aria-label='Messages not kept']").TextContent;
        Assert.Contains("not being kept", notice, StringComparison.Ordinal);
        Assert.Equal(administrator, notice.Contains("Bonnie:Payloads:SpoolPartitions", StringComparison.Ordinal));
    }

    [Fact]
    public void Render_NothingReported_SaysSoOnEveryCard()
    {
        var page = RenderHome();

        foreach (var card in new[] { "Events stored", "Queue", "Workers", "Quarantined" })
        {
            Assert.Contains("not reported", Card(page, card), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Update_BrokerAndStoreReport_CardsShowTheFigures()
    {
        var page = RenderHome();
        var seen = new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

        _status.Update(s => s with
        {
            EventsStored = 1_234_567,
            QueueDepthByState = new Dictionary<string, long> { ["POSTPONED"] = 3, ["PENDING"] = 40, ["ASSIGNED"] = 2 },
            Workers = [new WorkerStatus("w1", "BUSY", seen), new WorkerStatus("w2", "READY", seen), new WorkerStatus("w3", "READY", seen)],
            Quarantined = 7,
            UpdatedAt = seen,
        });

        page.WaitForAssertion(() =>
        {
            Assert.Contains("1,234,567", Card(page, "Events stored"), StringComparison.Ordinal);
            Assert.Contains("45", Card(page, "Queue"), StringComparison.Ordinal);
            // In the job's order and in words, as the live view shows them.
            Assert.Equal(["Pending 40", "Assigned 2", "Postponed 3"],
                page.FindAll("[aria-label='Queue depth by state'] li").Select(li => string.Join(' ', li.TextContent.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))));
            Assert.Contains("Ready 2", Card(page, "Workers").Replace("\n", " ", StringComparison.Ordinal).Replace("  ", " ", StringComparison.Ordinal), StringComparison.Ordinal);
            Assert.Contains("7", Card(page, "Quarantined"), StringComparison.Ordinal);
            Assert.Contains("2026-03-01 09:00:00 UTC", page.Markup, StringComparison.Ordinal);
        }, Timeout);
        // The time of the figures changes every few seconds: in a live region a screen reader read it out each time.
        var caption = page.FindAll(".mud-typography-caption").Single(e => e.TextContent.Contains("Figures as reported at", StringComparison.Ordinal));
        Assert.Null(caption.Closest("[aria-live]"));
    }

    [Fact]
    public void Dispose_Page_StopsListening()
    {
        var page = RenderHome();
        page.Instance.Dispose();

        _status.Update(s => s with { EventsStored = 5 });

        Assert.Contains("not reported", Card(page, "Events stored"), StringComparison.Ordinal);
    }
}
