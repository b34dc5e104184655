using Bonnie.Pipeline.Status;
using Bonnie.Web.Components.Pages;
using Bonnie.Web.Security;
using Bunit;
using Bunit.TestDoubles;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace Bonnie.Web.Tests.Components;

public sealed class HomePageTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private readonly BunitContext _context = new();
    private readonly SystemStatus _status = new();
    private BunitAuthorizationContext _authorization = default!;

    public Task InitializeAsync()
    {
        _context.Services.AddMudServices();
        _context.Services.AddSingleton(_status);
        // A worker with a spool partition, unless a test says otherwise: the notice of unkept messages stays off.
        _context.Services.AddSingleton(Notice(spool: true, collector: false));
        _context.JSInterop.Mode = JSRuntimeMode.Loose;
        _authorization = _context.AddAuthorization();
        _authorization.SetAuthorized("ann").SetPolicies(BonniePolicies.CanSearch);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _context.DisposeAsync();

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

        var page = _context.Render<Home>();

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

        var page = _context.Render<Home>();

        var notice = page.Find("[aria-label='Messages not kept']").TextContent;
        Assert.Contains("not being kept", notice, StringComparison.Ordinal);
        Assert.Equal(administrator, notice.Contains("Bonnie:Payloads:SpoolPartitions", StringComparison.Ordinal));
    }

    [Fact]
    public void Render_NothingReported_SaysSoOnEveryCard()
    {
        var page = _context.Render<Home>();

        foreach (var card in new[] { "Events stored", "Queue", "Workers", "Quarantined" })
        {
            Assert.Contains("not reported", Card(page, card), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Update_BrokerAndStoreReport_CardsShowTheFigures()
    {
        var page = _context.Render<Home>();
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
        var page = _context.Render<Home>();
        page.Instance.Dispose();

        _status.Update(s => s with { EventsStored = 5 });

        Assert.Contains("not reported", Card(page, "Events stored"), StringComparison.Ordinal);
    }
}
