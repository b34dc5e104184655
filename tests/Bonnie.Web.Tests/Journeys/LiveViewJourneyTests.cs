using System.Security.Cryptography;
using Bonnie.Pipeline.Worker;
using Bonnie.Shared.Protocol;
using Bonnie.Web.Audit;
using Bonnie.Web.Officers;
using Bonnie.Web.Security;
using Bonnie.Web.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using NetMQ;
using NetMQ.Sockets;
using static Microsoft.Playwright.Assertions;

namespace Bonnie.Web.Tests.Journeys;

/// <summary>
/// The live view in a real browser while the host's own broker and worker process real Cyrus notifications
/// submitted over ZeroMQ, the way the dealer submits them.
/// </summary>
public sealed class LiveViewJourneyTests : IAsyncLifetime
{
    private const float Timeout = JourneyBrowser.Timeout;
    private static readonly TimeSpan AckTimeout = TimeSpan.FromSeconds(10);
    private const string FailingEvent = "MessageExpire.json";
    private const string FailReason = "journey: this notification fails on purpose";

    private readonly string[] _events = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "TestData", "cyrus", "events"), "*.json");
    private readonly List<string> _consoleErrors = [];
    private readonly string _clientEndpoint;
    private readonly BonnieWebFactory _factory;
    private IPlaywright _playwright = default!;
    private IBrowser _browser = default!;
    private string _baseUrl = "";

    public LiveViewJourneyTests()
    {
        var failing = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(_events.Single(e => e.EndsWith(FailingEvent, StringComparison.Ordinal)))));
        _clientEndpoint = $"tcp://127.0.0.1:{FreePort.Next()}";
        var worker = $"tcp://127.0.0.1:{FreePort.Next()}";
        var controller = $"tcp://127.0.0.1:{FreePort.Next()}";
        _factory = new BonnieWebFactory(
            new Dictionary<string, string?>
            {
                ["Bonnie:Broker:Enabled"] = "true",
                ["Bonnie:Broker:ClientEndpoint"] = _clientEndpoint,
                ["Bonnie:Broker:WorkerEndpoint"] = worker,
                ["Bonnie:Broker:ControllerEndpoint"] = controller,
                ["Bonnie:Broker:CollectorEndpoint"] = $"tcp://127.0.0.1:{FreePort.Next()}",
                ["Bonnie:Worker:Enabled"] = "true",
                ["Bonnie:Worker:WorkerEndpoint"] = worker,
                ["Bonnie:Worker:ControllerEndpoint"] = controller,
                ["Bonnie:Worker:Name"] = "journey-worker",
            },
            services => services.AddSingleton<IJobProcessor>(new FailingOneProcessor(failing)));
    }

    public async Task InitializeAsync()
    {
        _factory.UseKestrel(0);
        _factory.StartServer();
        _baseUrl = _factory.ClientOptions.BaseAddress.ToString().TrimEnd('/');
        (_playwright, _browser) = await JourneyBrowser.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _factory.DisposeAsync();
    }

    [Fact]
    public async Task LiveView_EventsArrive_CountsAndChartUpdateAndOnlyTheAdministratorRetries()
    {
        var page = await NewPageAsync();
        await page.GotoAsync(_baseUrl + "/live");
        await OfficerJourneyTests.SignInAsync(page, BonnieWebFactory.AdminName, BonnieWebFactory.AdminPassword);
        await page.GetByRole(AriaRole.Heading, new() { Name = "Live system" }).WaitForAsync();
        await OfficerJourneyTests.WaitInteractiveAsync(page);
        await Expect(Figure(page, "Submitted")).ToHaveTextAsync("0");
        await Expect(page.GetByRole(AriaRole.Row).Filter(new() { HasText = "journey-worker" })).ToBeVisibleAsync();
        // Survives only if the page is never reloaded: what follows must arrive over the circuit.
        await page.EvaluateAsync("() => window.bonnieJourneyMarker = 'same page'");

        Submit(_events);

        await Expect(Figure(page, "Submitted")).ToHaveTextAsync(_events.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Expect(Figure(page, "Done jobs")).ToHaveTextAsync((_events.Length - 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Expect(Figure(page, "Failed jobs")).ToHaveTextAsync("1");
        await Expect(page.Locator("#live-chart-summary")).ToContainTextAsync($"{_events.Length - 1} in the last hour");
        var failedRow = page.GetByRole(AriaRole.Region, new() { Name = "Failed jobs", Exact = true }).GetByRole(AriaRole.Row).Filter(new() { HasText = FailReason });
        await Expect(failedRow).ToBeVisibleAsync();
        Assert.Equal("same page", await page.EvaluateAsync<string>("() => window.bonnieJourneyMarker"));
        Assert.Equal(2, await page.Locator("figure[role=figure] svg").CountAsync());
        await OfficerJourneyTests.ScreenshotAsync(page, "10-live-view-after-events");

        // The administrator retries it from the keyboard, and confirms.
        var retry = failedRow.GetByRole(AriaRole.Button, new() { NameRegex = new System.Text.RegularExpressions.Regex("^Retry job ") });
        await retry.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Expect(dialog).ToContainTextAsync("Retry failed job?");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Retry", Exact = true }).ClickAsync();
        await Expect(page.GetByText("is back in the queue")).ToBeVisibleAsync();
        await OfficerJourneyTests.ScreenshotAsync(page, "11-live-view-retried");
        var log = _factory.Services.GetRequiredService<OfficerAuditLog>();
        var (records, _) = await log.ReadPageAsync(0, 10);
        Assert.Contains(records, r => r.Action == OfficerActions.RetryJob && r.Officer == BonnieWebFactory.AdminName
            && r.Details.Contains("\"retried\"", StringComparison.Ordinal));
        // The processor fails it again: it is back among the failed jobs.
        await Expect(failedRow).ToBeVisibleAsync();

        // An auditor watches the same view but has no Retry button.
        var accounts = _factory.Services.GetRequiredService<OfficerAccounts>();
        var created = await accounts.CreateAsync(BonnieWebFactory.AdminName, "ann", "ann's own long password", BonnieRoles.Auditor, false, null);
        Assert.True(created.Succeeded, string.Join(" ", created.Errors));
        var auditor = await NewPageAsync();
        await auditor.GotoAsync(_baseUrl + "/live");
        await OfficerJourneyTests.SignInAsync(auditor, "ann", "ann's own long password");
        await auditor.GetByRole(AriaRole.Heading, new() { Name = "Live system" }).WaitForAsync();
        await OfficerJourneyTests.WaitInteractiveAsync(auditor);
        var auditorRow = auditor.GetByRole(AriaRole.Region, new() { Name = "Failed jobs", Exact = true }).GetByRole(AriaRole.Row).Filter(new() { HasText = FailReason });
        await Expect(auditorRow).ToBeVisibleAsync();
        Assert.Equal(0, await auditor.GetByRole(AriaRole.Button, new() { NameRegex = new System.Text.RegularExpressions.Regex("^Retry") }).CountAsync());
        await OfficerJourneyTests.ScreenshotAsync(auditor, "12-live-view-auditor");

        Assert.Empty(_consoleErrors);
    }

    private static ILocator Figure(IPage page, string region) =>
        page.GetByRole(AriaRole.Group, new() { Name = region, Exact = true }).Locator(".bonnie-live-figure");

    /// <summary>Submits each file as one notification, as the dealer does, and waits for the broker's ACK.</summary>
    private void Submit(IEnumerable<string> files)
    {
        using var dealer = new DealerSocket();
        dealer.Options.Linger = TimeSpan.Zero;
        dealer.Connect(_clientEndpoint);
        foreach (var file in files)
        {
            dealer.SendFrame(File.ReadAllBytes(file));
            Assert.True(dealer.TryReceiveFrameString(AckTimeout, out var answer), $"no answer from the broker for {Path.GetFileName(file)}");
            Assert.Equal(WireProtocol.Ack, answer);
        }
    }

    private async Task<IPage> NewPageAsync()
    {
        var context = await _browser.NewContextAsync();
        context.SetDefaultTimeout(Timeout);
        var page = await context.NewPageAsync();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                _consoleErrors.Add(message.Text);
            }
        };
        return page;
    }

    /// <summary>Does nothing with a job but fail one chosen notification, so that the view has a failed job to show.</summary>
    private sealed class FailingOneProcessor(string failingId) : IJobProcessor
    {
        public Task<JobOutcome> ProcessAsync(Job job, CancellationToken cancellationToken = default) =>
            Task.FromResult(job.Id == failingId ? new JobOutcome.Fail(FailReason) : JobOutcome.Success);
    }
}
