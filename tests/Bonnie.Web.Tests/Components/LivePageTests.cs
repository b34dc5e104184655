using Bonnie.Pipeline.Broker;
using Bonnie.Web.Audit;
using Bonnie.Web.Components.Pages;
using Bonnie.Web.LiveSystem;
using Bonnie.Web.Officers;
using Bonnie.Web.Security;
using Bunit;
using Bunit.TestDoubles;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using MudBlazor;
using MudBlazor.Services;

namespace Bonnie.Web.Tests.Components;

public sealed class LivePageTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);
    private static readonly BrokerControl.FailedJob Stuck = new(
        "9f2c4e1a7b3d5f60112233445566778899aabbccddeeff00112233445566aabb", "user/alice@example.com", 8, Start.AddMinutes(-5),
        "store unavailable: disk full");

    private readonly BunitContext _context = new();
    private readonly BrokerMonitor _monitor = new();
    private readonly FakeTimeProvider _time = new(Start);
    private readonly FakeFailedJobQueue _failed = new();
    private readonly RecordingAudit _audit = new();
    private BunitAuthorizationContext _authorization = default!;

    public Task InitializeAsync()
    {
        _context.Services.AddMudServices();
        _context.Services.AddSingleton(_monitor);
        _context.Services.AddSingleton<TimeProvider>(_time);
        _context.Services.AddSingleton<IFailedJobQueue>(_failed);
        _context.Services.AddSingleton<IOfficerAudit>(_audit);
        _context.Services.AddScoped<FailedJobRetry>();
        _context.Services.AddScoped(_ => new OfficerCircuit { ClientAddress = "192.0.2.9" });
        _context.JSInterop.Mode = JSRuntimeMode.Loose;
        _authorization = _context.AddAuthorization();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _context.DisposeAsync();

    private void SignInAs(string name, string role)
    {
        _authorization.SetAuthorized(name).SetRoles(role);
        _authorization.SetPolicies(role == BonnieRoles.Administrator
            ? [BonniePolicies.CanSearch, BonniePolicies.CanAdminister]
            : [BonniePolicies.CanSearch]);
    }

    private static BrokerSnapshot Snapshot(long pending, int doneLastSeconds, params WorkerSnapshot[] workers)
    {
        var history = new int[3600];
        for (var i = 3600 - 10; i < 3600; i++)
        {
            history[i] = doneLastSeconds;
        }
        return new BrokerSnapshot
        {
            Running = true,
            At = Start,
            Jobs = new Dictionary<JobState, long>
            {
                [JobState.Pending] = pending, [JobState.Assigned] = 3, [JobState.Collecting] = 1, [JobState.Postponed] = 2,
                [JobState.Done] = 1_500, [JobState.Failed] = 1,
            },
            DoneRetention = TimeSpan.FromDays(7),
            Workers = workers,
            Collectors = 2,
            SubmittedPerSecond = 12.5,
            DonePerSecond = 10 * doneLastSeconds / 60.0,
            DoneHistory = history,
            Submitted = 1_600,
            Duplicates = 4,
        };
    }

    private static string Figure(IRenderedComponent<Live> page, string label) =>
        page.Find($"[role=group][aria-label='{label}'] .bonnie-live-figure").TextContent.Trim();

    [Fact]
    public void Render_SnapshotPublished_ShowsQueueWorkersRatesAndCharts()
    {
        SignInAs("ann", BonnieRoles.Auditor);
        _monitor.Publish(Snapshot(40, 5,
            new WorkerSnapshot("worker-a", WorkerState.Busy, 0, 4, Start.AddSeconds(-1)),
            new WorkerSnapshot("worker-b", WorkerState.Ready, 3, 1, Start.AddSeconds(-2))));

        var page = _context.Render<Live>();

        Assert.Equal("40", Figure(page, "Pending jobs"));
        Assert.Equal("1,500", Figure(page, "Done jobs"));
        Assert.Contains("46 waiting or in work", page.Markup, StringComparison.Ordinal);
        Assert.Equal("2", Figure(page, "Collectors"));
        Assert.Equal("12.5", Figure(page, "Submitted per second"));
        // The broker's counters say since when they count.
        Assert.Contains("since the broker started", page.Find("[aria-label='Submitted']").TextContent, StringComparison.Ordinal);
        // And the done jobs how far back: the queue keeps them a week (the store keeps their events for good).
        Assert.Equal("last 7 days", page.Find("[role=group][aria-label='Done jobs'] .mud-typography-caption").TextContent.Trim());
        Assert.Empty(page.FindAll("[role=group][aria-label='Pending jobs'] .mud-typography-caption"));
        var workers = page.FindAll("section[aria-labelledby=live-workers-heading] tbody tr");
        Assert.Contains(workers, r => r.TextContent.Contains("worker-a", StringComparison.Ordinal) && r.TextContent.Contains("Busy", StringComparison.Ordinal));
        Assert.Contains(workers, r => r.TextContent.Contains("worker-b", StringComparison.Ordinal) && r.TextContent.Contains("2026-03-01 08:59:58", StringComparison.Ordinal));
        Assert.Equal(2, page.FindAll("figure[role=figure] svg").Count);
        Assert.Contains("50 in the last hour, peak 5 / s", page.Find("#live-chart-summary").TextContent, StringComparison.Ordinal);
        Assert.Contains("store unavailable: disk full", page.Find("section[aria-labelledby=live-failed-heading]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Publish_NewSnapshot_PageShowsItWithoutReload()
    {
        SignInAs("ann", BonnieRoles.Auditor);
        _monitor.Publish(Snapshot(40, 5));
        var page = _context.Render<Live>();
        // The page shows its first snapshot once its initialisation ran, which may finish after Render returns: a clock
        // advanced before that made the page's own last render the later time, and the fake clock never reached the end
        // of the second it then waited (this test failed so on a loaded machine).
        page.WaitForAssertion(() => Assert.Equal("40", Figure(page, "Pending jobs")), Timeout);

        _time.Advance(TimeSpan.FromSeconds(1));
        _monitor.Publish(Snapshot(7, 9, new WorkerSnapshot("worker-c", WorkerState.Unavailable, 0, 0, Start)));

        page.WaitForAssertion(() =>
        {
            Assert.Equal("7", Figure(page, "Pending jobs"));
            Assert.Contains("worker-c", page.Find("section[aria-labelledby=live-workers-heading]").TextContent, StringComparison.Ordinal);
            Assert.Contains("90 in the last hour, peak 9 / s", page.Find("#live-chart-summary").TextContent, StringComparison.Ordinal);
        }, Timeout);
    }

    [Fact]
    public void Publish_BurstWithinASecond_RendersOnceTheSecondIsUp()
    {
        SignInAs("ann", BonnieRoles.Auditor);
        var page = _context.Render<Live>();

        for (var pending = 1; pending <= 20; pending++)
        {
            _monitor.Publish(Snapshot(pending, 1));
        }
        // Within the second since the last render, nothing is drawn; the newest snapshot is drawn once it is up.
        Assert.Equal("0", Figure(page, "Pending jobs"));
        _time.Advance(TimeSpan.FromSeconds(1));

        page.WaitForAssertion(() => Assert.Equal("20", Figure(page, "Pending jobs")), Timeout);
    }

    [Fact]
    public async Task Changed_CallbackRunsAfterThePageClosed_IgnoredWithoutAnError()
    {
        SignInAs("ann", BonnieRoles.Auditor);
        var page = _context.Render<Live>();
        var live = page.Instance;
        await _context.DisposeComponentsAsync();

        // A snapshot's callback was queued on a pool thread before the page closed and runs after: unsubscribing does
        // not recall it. Thrown there, an exception would end the whole web host.
        var late = Record.Exception(() => live.OnChanged(Snapshot(3, 1)));

        Assert.Null(late);
    }

    [Fact]
    public void Render_BrokerNotInThisProcess_SaysSo()
    {
        SignInAs("ann", BonnieRoles.Auditor);
        _failed.Available = false;

        var page = _context.Render<Live>();

        Assert.Contains("The broker does not run in this process", page.Find("[role=status]").TextContent, StringComparison.Ordinal);
        // No zeros that read as measured: no queue, throughput, workers or failed jobs here (a review saw them all 0).
        Assert.DoesNotContain("Queue depth by state", page.Markup, StringComparison.Ordinal);
        Assert.Empty(page.FindAll(".bonnie-live-figure"));
    }

    [Fact]
    public void Render_BrokerFault_ShownAsAnAlert()
    {
        SignInAs("ann", BonnieRoles.Auditor);
        _monitor.Publish(Snapshot(1, 0) with { Running = false, Fault = "The job queue at /var/lib/bonnie/broker cannot be written: disk full" });

        var page = _context.Render<Live>();

        var alert = page.Find("[role=alert]").TextContent;
        Assert.Contains("stopped accepting notifications", alert, StringComparison.Ordinal);
        Assert.Contains("disk full", alert, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retry_AdministratorConfirms_JobRetriedAndAudited()
    {
        SignInAs("chief", BonnieRoles.Administrator);
        _monitor.Publish(Snapshot(0, 0));
        var dialogs = _context.Render<MudDialogProvider>();
        var snackbars = _context.Render<MudSnackbarProvider>();
        var page = _context.Render<Live>();

        page.Find("button[aria-label='Retry job 9f2c4e1a7b3d']").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Retry failed job?", dialogs.Markup, StringComparison.Ordinal), Timeout);
        await dialogs.Find(".mud-dialog button:contains('Retry')").ClickAsync(new());

        page.WaitForAssertion(() => Assert.Equal([Stuck.Id], _failed.Retried), Timeout);
        snackbars.WaitForAssertion(() => Assert.Contains("is back in the queue", snackbars.Markup, StringComparison.Ordinal), Timeout);
        var entry = Assert.Single(_audit.Entries);
        Assert.Equal(("chief", OfficerActions.RetryJob, Stuck.Id, "retried", "192.0.2.9"),
            (entry.Officer, entry.Action, entry.Target, entry.Details?["outcome"], entry.ClientAddress));
    }

    [Fact]
    public async Task Retry_AdministratorCancels_NothingHappens()
    {
        SignInAs("chief", BonnieRoles.Administrator);
        var dialogs = _context.Render<MudDialogProvider>();
        var page = _context.Render<Live>();

        page.Find("button[aria-label='Retry job 9f2c4e1a7b3d']").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Retry failed job?", dialogs.Markup, StringComparison.Ordinal), Timeout);
        await dialogs.Find(".mud-dialog button:contains('Cancel')").ClickAsync(new());

        dialogs.WaitForAssertion(() => Assert.DoesNotContain("Retry failed job?", dialogs.Markup, StringComparison.Ordinal), Timeout);
        Assert.Empty(_failed.Retried);
        Assert.Empty(_audit.Entries);
    }

    [Fact]
    public async Task Retry_Auditor_NoButtonAndTheHandlerRefusesOnTheServer()
    {
        SignInAs("ann", BonnieRoles.Auditor);
        var page = _context.Render<Live>();

        Assert.Contains("store unavailable", page.Find("section[aria-labelledby=live-failed-heading]").TextContent, StringComparison.Ordinal);
        Assert.Empty(page.FindAll("button[aria-label^='Retry job']"));

        // What a forged event from the circuit would do: call the handler the button would have called.
        await page.InvokeAsync(() => page.Instance.RetryAsync(Stuck));

        Assert.Empty(_failed.Retried);
        var entry = Assert.Single(_audit.Entries);
        Assert.Equal(("ann", OfficerActions.RetryJob, Stuck.Id, "refused"),
            (entry.Officer, entry.Action, entry.Target, entry.Details?["outcome"]));
    }

    private sealed class FakeFailedJobQueue : IFailedJobQueue
    {
        public bool Available { get; set; } = true;

        public List<string> Retried { get; } = [];

        public IReadOnlyList<BrokerControl.FailedJob> List(int limit) => Retried.Contains(Stuck.Id) ? [] : [Stuck];

        public Task<bool> RetryAsync(string id, CancellationToken cancellationToken)
        {
            Retried.Add(id);
            return Task.FromResult(id == Stuck.Id);
        }
    }

    private sealed class RecordingAudit : IOfficerAudit
    {
        public List<OfficerAuditEntry> Entries { get; } = [];

        public Task<OfficerAuditRecord> RecordAsync(OfficerAuditEntry entry, CancellationToken cancellationToken = default)
        {
            Entries.Add(entry);
            return Task.FromResult(new OfficerAuditRecord(Entries.Count, Start, entry.Officer, entry.Action, entry.Target, "{}",
                entry.ClientAddress, "", ""));
        }
    }
}
