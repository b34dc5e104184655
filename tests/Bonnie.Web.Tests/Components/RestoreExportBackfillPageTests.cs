using Bonnie.Shared.Search;
using System.Net;
using System.Net.Sockets;
using Bonnie.Pipeline.Backfill;
using Bonnie.Pipeline.Restore;
using Bonnie.Pipeline.Worker.Payloads;
using Bonnie.Web.Audit;
using Bonnie.Web.Components.Pages;
using Bonnie.Web.Security;
using Bonnie.Web.Tests.Infrastructure;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RestoreOptions = Bonnie.Pipeline.Restore.RestoreOptions;

namespace Bonnie.Web.Tests.Components;

/// <summary>
/// The restore, export and backfill pages over the real services on a filled store. The IMAP side points at a local
/// port nobody listens on, so a real restore or backfill starts, fails fast and the page shows how it went.
/// </summary>
public sealed class RestoreExportBackfillPageTests : IAsyncLifetime
{
    private PageTestContext _page = default!;
    private RestoreJobs _jobs = default!;
    private BackfillRunner _backfill = default!;

    public async Task InitializeAsync() => _page = await PageTestContext.CreateAsync(moreServices: (page, services) =>
    {
        var closedPort = ClosedPort();
        var restoreOptions = Options.Create(new RestoreOptions
        {
            Imap = new RestoreImapOptions { Host = "127.0.0.1", Port = closedPort, Security = "None", Password = "unused", Timeout = TimeSpan.FromSeconds(5) },
        });
        _jobs = new RestoreJobs(new RestorePlanner(page.Store.Store, page.Store.Payloads, TimeProvider.System),
            new ImapRestorer(restoreOptions, page.Store.Payloads, NullLogger<ImapRestorer>.Instance),
            TimeProvider.System, restoreOptions, NullLogger<RestoreJobs>.Instance);
        _backfill = new BackfillRunner(new BackfillOptions(),
            new ImapPayloadOptions { Host = "127.0.0.1", Port = closedPort, Security = "None", Password = "unused", Timeout = TimeSpan.FromSeconds(5) },
            new BackfillWriter(page.Store.Store, TimeProvider.System), page.Store.Payloads,
            Path.Combine(page.Directory.Path, "backfill"), TimeProvider.System, NullLogger<BackfillRunner>.Instance);
        services.AddSingleton(_jobs);
        services.AddSingleton(restoreOptions);
        services.AddSingleton(_backfill);
    });

    public async Task DisposeAsync()
    {
        await _backfill.StopAsync(CancellationToken.None);
        _backfill.Dispose();
        _jobs.Dispose();
        await _page.DisposeAsync();
    }

    private void NavigateTo(string uri) => _page.Context.Services.GetRequiredService<NavigationManager>().NavigateTo(uri);

    private static void Click<T>(IRenderedComponent<T> page, string text) where T : IComponent =>
        page.FindAll("button").Single(b => b.TextContent.Trim() == text).Click();

    [Fact]
    public async Task Restore_DryRunOfAFolder_ShowsThePlanFromThePlannerAndAuditsIt()
    {
        NavigateTo($"/restore?scope=folder&folder={TestStore.Inbox}&at=2030-01-01T00:00:00Z");
        var page = _page.Render<Restore>();
        var expected = await _jobs.PlanAsync(new RestoreRequest
        {
            Scope = RestoreScope.Folder, FolderId = TestStore.Inbox, At = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero), DryRun = true,
        });
        Assert.NotEmpty(expected.Items);
        Assert.Contains(page.FindAll("input"), i => i.GetAttribute("value") == "2030-01-01T00:00:00Z");

        Click(page, "Dry run");

        page.WaitForAssertion(() => Assert.StartsWith($"Would restore {expected.Items.Count} {(expected.Items.Count == 1 ? "message" : "messages")}",
            page.Find("[aria-label='Dry run'] h2").TextContent.Trim(), StringComparison.Ordinal), PageTestContext.Timeout);
        Assert.Equal(expected.Folders.Count, page.FindAll("[aria-label='Dry run'] tbody tr").Count);
        Assert.Empty(page.FindAll("[aria-label='Restore progress']"));
        Assert.Contains(await _page.AuditRecordsAsync(), r => r.Officer == PageTestContext.Officer && r.Action == OfficerActions.Restore);
    }

    [Fact]
    public void Restore_DryRunOfMessagesThatCannotBeRestored_EachReasonCountedAndEveryMessageListed_NoEmptyTable()
    {
        // A review saw "116 message(s) cannot be restored" followed by five keys, each with the same sentence, and
        // nothing of the other 111; and a table of folders with no row under "Would restore 0 message(s)".
        var unknown = Enumerable.Range(0, 60).Select(i => $"Mnosuchkey{i:D3}").ToList();
        NavigateTo("/restore?scope=messages&keys=" + Uri.EscapeDataString(string.Join(',', unknown)));
        var page = _page.Render<Restore>();

        Click(page, "Dry run");

        page.WaitForAssertion(() =>
        {
            Assert.Equal("Would restore 0 messages, 0\u00A0B", page.Find("[aria-label='Dry run'] h2").TextContent.Trim());
            var alert = page.Find("[aria-label='Cannot be restored']");
            Assert.Contains("60 messages cannot be restored", alert.TextContent, StringComparison.Ordinal);
            var reason = Assert.Single(alert.QuerySelectorAll("summary"));
            Assert.StartsWith("60: ", reason.TextContent.Trim(), StringComparison.Ordinal);
            Assert.Contains("no such message is recorded", reason.TextContent, StringComparison.Ordinal);
            // No message is recorded under these keys: named, not linked to a page that does not exist.
            Assert.Empty(alert.QuerySelectorAll("a"));
            Assert.Equal(unknown.Take(50), alert.QuerySelectorAll(".bonnie-hash").Select(k => k.TextContent.Trim()));
            Assert.Contains("and 10 more", alert.TextContent, StringComparison.Ordinal);
        }, PageTestContext.Timeout);
        Assert.Empty(page.FindAll("[aria-label='Dry run'] table"));
    }

    [Fact]
    public async Task Restore_DryRun_AMessageThatCannotBeRestored_IsNamedBySubjectSenderAndDate_ItsKeyInTheTooltip()
    {
        // A list of keys alone told an officer nothing of which messages would not come back (a review).
        const string withoutBytes = "M00000000000000000000b1d2";
        var json = TestStore.Fixture("MessageNew").Replace(TestStore.DeliveredMessage, withoutBytes, StringComparison.Ordinal)
            .Replace("UID=1\"", "UID=270\"", StringComparison.Ordinal);
        await _page.Store.ProcessAsync(TestStore.Raw(System.Text.Encoding.UTF8.GetBytes(json)));
        var message = await _page.Store.Store.GetMessageAsync(withoutBytes);
        Assert.NotNull(message);
        NavigateTo("/restore?scope=messages&keys=" + Uri.EscapeDataString(withoutBytes + ",Mnosuchkey000"));
        var page = _page.Render<Restore>();

        Click(page, "Dry run");

        page.WaitForAssertion(() =>
        {
            var named = page.FindAll("[aria-label='Cannot be restored'] a").Single(a => a.GetAttribute("href") == "messages/" + withoutBytes);
            Assert.Equal(Bonnie.Web.Components.Pages.Restore.LabelOf(message), named.TextContent.Trim());
            Assert.StartsWith(message.Subject!, named.TextContent.Trim(), StringComparison.Ordinal);
            Assert.Equal(withoutBytes, named.GetAttribute("title"));
            // A key no message has stays the key, not a link.
            Assert.Contains(page.FindAll("[aria-label='Cannot be restored'] span.bonnie-hash"), k => k.TextContent.Trim() == "Mnosuchkey000");
            Assert.DoesNotContain(page.FindAll("[aria-label='Cannot be restored'] a"), a => a.TextContent.Contains("Mnosuchkey000", StringComparison.Ordinal));
        }, PageTestContext.Timeout);
    }

    [Fact]
    public async Task Restore_DryRunOfAFolderByItsName_PlansThatFolder()
    {
        // Cyrus's id was all the field took; an officer knows a folder by its name (a review).
        var inbox = await _page.Store.Store.GetFolderAsync(TestStore.Inbox);
        Assert.NotNull(inbox);
        var expected = await _jobs.PlanAsync(new RestoreRequest
        {
            Scope = RestoreScope.Folder, FolderId = TestStore.Inbox, At = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero), DryRun = true,
        });
        // Something to restore, so that "Would restore 0" of an unresolved name cannot pass for the folder's plan.
        Assert.NotEmpty(expected.Items);
        NavigateTo($"/restore?scope=folder&folder={Uri.EscapeDataString(inbox.Name)}&at=2030-01-01T00:00:00Z");
        var page = _page.Render<Restore>();

        Click(page, "Dry run");

        page.WaitForAssertion(() => Assert.StartsWith($"Would restore {expected.Items.Count} {(expected.Items.Count == 1 ? "message" : "messages")}",
            page.Find("[aria-label='Dry run'] h2").TextContent.Trim(), StringComparison.Ordinal), PageTestContext.Timeout);
        Assert.Equal(expected.Folders.Count, page.FindAll("[aria-label='Dry run'] tbody tr").Count);
    }

    [Fact]
    public async Task Restore_ADryRunRefusedAfterOneThatPlanned_ThePlanOfTheFormerInputGoes()
    {
        // A review read the plan of the folder before ("Would restore 0 message(s)…") under the error about the new one.
        var inbox = await _page.Store.Store.GetFolderAsync(TestStore.Inbox);
        NavigateTo($"/restore?scope=folder&folder={Uri.EscapeDataString(inbox!.Name)}&at=2030-01-01T00:00:00Z");
        var page = _page.Render<Restore>();
        Click(page, "Dry run");
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[aria-label='Dry run']")), PageTestContext.Timeout);

        // Found and fired in one step on the renderer's thread: a render in between (the plan's labels) dropped the handler.
        await page.InvokeAsync(() => page.FindAll("input").First(i => i.GetAttribute("value") == inbox.Name).Change("user/nosuch@example.org"));
        await page.InvokeAsync(() => Click(page, "Dry run"));

        page.WaitForAssertion(() =>
        {
            Assert.Equal("No folder is named 'user/nosuch@example.org' or has it for its id.", page.Find("[role=alert]").TextContent.Trim());
            Assert.Empty(page.FindAll("[aria-label='Dry run']"));
        }, PageTestContext.Timeout);
    }

    [Fact]
    public void Restore_AFolderNoneIsNamedOrHasForItsId_SaidInThoseWords()
    {
        NavigateTo("/restore?scope=folder&folder=" + Uri.EscapeDataString("user/nosuch@example.org"));
        var page = _page.Render<Restore>();

        Click(page, "Dry run");

        page.WaitForAssertion(() => Assert.Equal("No folder is named 'user/nosuch@example.org' or has it for its id.", page.Find("[role=alert]").TextContent.Trim()),
            PageTestContext.Timeout);
    }

    [Fact]
    public async Task RestoreStart_OnlyUnknownKeys_RefusedSayingWhy_NoJobStarted()
    {
        // Found by a review: a real restore of unknown keys alone started a job of nothing (202, total 0).
        var start = await Bonnie.Web.Api.RestoreStarter.StartAsync(
            new RestoreRequest { Scope = RestoreScope.Messages, MessageKeys = ["Mnosuchkey000"] }, _jobs,
            _page.Context.Services.GetRequiredService<IOfficerAudit>(), _page.Context.Services.GetRequiredService<IOptions<RestoreOptions>>().Value,
            PageTestContext.Officer, null, mayRestoreIntoAnotherMailbox: false, CancellationToken.None);

        var refused = Assert.IsType<Bonnie.Web.Api.RestoreStart.Refused>(start);
        Assert.Equal(400, refused.Status);
        Assert.Contains("Mnosuchkey000: no such message is recorded", refused.Error, StringComparison.Ordinal);
        Assert.Empty(_jobs.All);
        // Asked for, so recorded (a review found no record of it).
        var record = Assert.Single(await _page.AuditRecordsAsync(), r => r.Action == OfficerActions.Restore);
        Assert.Contains("\"stage\":\"refused\"", record.Details, StringComparison.Ordinal);
        Assert.Contains("Mnosuchkey000", record.Details, StringComparison.Ordinal);
    }

    [Fact]
    public void Restore_UnknownJobInTheAddress_SaysSoAndWhere()
    {
        NavigateTo("/restore?job=0123456789abcdef");
        var page = _page.Render<Restore>();

        var alert = page.Find("[role=alert]");
        Assert.Contains("No restore job 0123456789abcdef is known here", alert.TextContent, StringComparison.Ordinal);
        Assert.Contains("audit log", alert.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restore_CyrusUnreachable_ShowsTheJobsProgressAndWhyItFailed_AndTheAuditKeepsHowItEnded()
    {
        NavigateTo($"/restore?scope=messages&keys={TestStore.DeliveredMessage}");
        var page = _page.Render<Restore>();

        Click(page, "Restore");

        page.WaitForAssertion(() =>
        {
            var progress = page.Find("[aria-label='Restore progress']");
            Assert.Equal("Restore failed", progress.QuerySelector("h2")!.TextContent.Trim());
            Assert.Contains("cannot be reached", progress.QuerySelector("[role=alert]")!.TextContent, StringComparison.Ordinal);
            Assert.Contains("of 1:", progress.QuerySelector("[role=status]")!.TextContent, StringComparison.Ordinal);
        }, PageTestContext.Timeout);
        var job = Assert.Single(_jobs.All);
        // The job is in the address, so a reload shows it again, and it is listed among the recent restores.
        Assert.Contains("job=" + job.Id, _page.Context.Services.GetRequiredService<NavigationManager>().Uri, StringComparison.Ordinal);
        page.WaitForAssertion(() => Assert.Contains(page.FindAll("[aria-label='Recent restores'] a"), a => a.GetAttribute("href") == "/restore?job=" + job.Id),
            PageTestContext.Timeout);
        // The job lives in memory for a day; the audit keeps for good how it ended, after the record that it started.
        await RestoreJobs.WaitAsync(job);
        var records = (await _page.AuditRecordsAsync()).Where(r => r.Action == OfficerActions.Restore && r.Details.Contains(job.Id, StringComparison.Ordinal)).OrderBy(r => r.Sequence).ToList();
        Assert.Equal(2, records.Count);
        Assert.Contains("\"stage\":\"started\"", records[0].Details, StringComparison.Ordinal);
        Assert.Contains("\"stage\":\"failed\"", records[1].Details, StringComparison.Ordinal);
        Assert.Contains("cannot be reached", records[1].Details, StringComparison.Ordinal);
        Assert.Contains("\"restored\":\"0\"", records[1].Details, StringComparison.Ordinal);
    }

    [Fact]
    public void Export_QueryInTheAddress_OffersTheBundleOfThatQuery()
    {
        _page.Authorization.SetPolicies(BonniePolicies.CanExport);
        NavigateTo("/export?q=" + Uri.EscapeDataString("user:alice@example.org"));
        var page = _page.Render<Export>();
        _page.Clock.Advance(Export.CountAfter);

        var link = page.WaitForElement("a[aria-label='Export evidence bundle']", PageTestContext.Timeout);
        Assert.Equal("/api/export?q=user%3Aalice%40example.org", link.GetAttribute("href"));
        page.Find("input[type=checkbox]").Change(true);
        page.WaitForAssertion(() => Assert.EndsWith("&mbox=true", page.Find("a[aria-label='Export evidence bundle']").GetAttribute("href"), StringComparison.Ordinal),
            PageTestContext.Timeout);
    }

    [Fact]
    public async Task Export_YourExports_ListsTheManifestsHashOfEachBundleYouWrote_NotOthers_AndFollowsANewOne()
    {
        // The manifest's SHA-256 went only into the audit log, which only administrators read: an investigator could not
        // note the figure that identifies the bundle they hand over (a review).
        _page.Authorization.SetPolicies(BonniePolicies.CanExport);
        static Dictionary<string, string?> Manifest(string sha, string messages) => new()
        {
            ["stage"] = "manifest", ["manifestSha256"] = sha, ["messages"] = messages, ["withoutPayload"] = "1", ["files"] = "7", ["bundle"] = "bonnie-evidence-20261207-101500.zip",
        };
        var ours = new string('a', 64);
        await _page.Audit.RecordAsync(new OfficerAuditEntry(PageTestContext.Officer, OfficerActions.Export, "user:alice@example.org",
            new Dictionary<string, string?> { ["stage"] = "started", ["messages"] = "3" }));
        await _page.Audit.RecordAsync(new OfficerAuditEntry(PageTestContext.Officer, OfficerActions.Export, "user:alice@example.org", Manifest(ours, "3")));
        await _page.Audit.RecordAsync(new OfficerAuditEntry("bob", OfficerActions.Export, "user:carol@example.org", Manifest(new string('b', 64), "9")));

        var page = _page.Render<Export>();

        page.WaitForAssertion(() =>
        {
            var row = Assert.Single(page.FindAll(".bonnie-exports tbody tr"));
            var cells = row.QuerySelectorAll("td").Select(td => string.Join(' ', td.TextContent.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))).ToList();
            Assert.Equal(["user:alice@example.org", "3 (1 without their bytes)", "bonnie-evidence-20261207-101500.zip", ours], cells.Skip(1));
        }, PageTestContext.Timeout);
        Assert.DoesNotContain(new string('b', 64), page.Markup, StringComparison.Ordinal);

        // A bundle written meanwhile in another tab appears without a reload, newest first.
        var next = new string('c', 64);
        await _page.Audit.RecordAsync(new OfficerAuditEntry(PageTestContext.Officer, OfficerActions.Export, "selection", Manifest(next, "1")));
        Assert.Single(page.FindAll(".bonnie-exports tbody tr"));
        _page.Clock.Advance(Export.ReadEvery);
        page.WaitForAssertion(() =>
            Assert.Equal([next, ours], page.FindAll(".bonnie-exports tbody tr td code").Select(c => c.TextContent)), PageTestContext.Timeout);
    }

    [Fact]
    public async Task Export_TheQuerysMatchesCountedBeforeExporting_NoMatch_NoExport()
    {
        // A review exported a query matching nothing and got a bundle of no message, without a word.
        _page.Authorization.SetPolicies(BonniePolicies.CanExport);
        var expected = (await _page.Store.Store.SearchEventsAsync(new EventSearch { Query = QueryParser.Parse("user:alice@example.org"), Limit = 1 })).Total;
        Assert.True(expected > 1);
        NavigateTo("/export?q=" + Uri.EscapeDataString("user:alice@example.org"));
        var page = _page.Render<Export>();
        // The page counts once typing has paused; the query from the address waits as long.
        Assert.Equal("Counting the events this query matches…", page.Find(".bonnie-export-matches").TextContent.Trim());
        _page.Clock.Advance(Export.CountAfter);

        page.WaitForAssertion(() =>
        {
            var said = page.Find(".bonnie-export-matches");
            Assert.StartsWith($"{expected:N0} events match; the bundle holds the messages they name.", said.TextContent.Trim(), StringComparison.Ordinal);
            Assert.Equal("search?q=user%3Aalice%40example.org", said.QuerySelector("a")!.GetAttribute("href"));
            Assert.NotNull(page.Find("a[aria-label='Export evidence bundle']").GetAttribute("href"));
        }, PageTestContext.Timeout);

        page.FindAll("input").First(i => i.GetAttribute("value") == "user:alice@example.org").Input("user:nobody@example.org");
        page.WaitForAssertion(() => Assert.Equal("Counting the events this query matches…", page.Find(".bonnie-export-matches").TextContent.Trim()), PageTestContext.Timeout);
        _page.Clock.Advance(Export.CountAfter);

        page.WaitForAssertion(() =>
        {
            Assert.Equal("No event matches this query: its bundle would hold no message.", page.Find(".bonnie-export-matches").TextContent.Trim());
            Assert.Empty(page.FindAll("a[aria-label='Export evidence bundle']"));
            Assert.True(page.Find("button[aria-label='Export evidence bundle']").HasAttribute("disabled"));
        }, PageTestContext.Timeout);
        // Each count is a read of the store, recorded as a search that was only counted.
        var counted = (await _page.AuditRecordsAsync()).Where(r => r.Action == OfficerActions.Search && r.Details.Contains("before an export", StringComparison.Ordinal)).ToList();
        Assert.Equal(["user:alice@example.org", "user:nobody@example.org"], counted.OrderBy(r => r.Sequence).Select(r => r.Target));
    }

    [Fact]
    public async Task Export_TypedKeysThatNameNoMessage_SaidBeforeExporting_AndNoExportWhenNoneIsKnown()
    {
        // A review typed a key wrong: the bundle left it out without a word, but in its report.
        _page.Authorization.SetPolicies(BonniePolicies.CanExport);
        var page = _page.Render<Export>();

        // Found and typed into in one step on the renderer's thread: the list of exports renders meanwhile.
        await page.InvokeAsync(() => page.FindAll("input[type=text], input:not([type])")[1].Input($"Mnotakey, {TestStore.DeliveredMessage}"));
        _page.Clock.Advance(Export.CountAfter);

        page.WaitForAssertion(() =>
        {
            Assert.Equal("No message has the key Mnotakey: it is not in the bundle.", page.Find(".bonnie-keys-not-found").TextContent.Trim());
            Assert.NotNull(page.Find("a[aria-label='Export evidence bundle']").GetAttribute("href"));
        }, PageTestContext.Timeout);

        await page.InvokeAsync(() => page.FindAll("input[type=text], input:not([type])")[1].Input("Mnotakey, Malsonot"));
        _page.Clock.Advance(Export.CountAfter);

        page.WaitForAssertion(() =>
        {
            Assert.Equal("No message has the keys Mnotakey, Malsonot: they are not in the bundle.", page.Find(".bonnie-keys-not-found").TextContent.Trim());
            Assert.Empty(page.FindAll("a[aria-label='Export evidence bundle']"));
            Assert.True(page.Find("button[aria-label='Export evidence bundle']").HasAttribute("disabled"));
        }, PageTestContext.Timeout);
        // Whether a key names a message is a read of the store: recorded.
        var looked = (await _page.AuditRecordsAsync()).Where(r => r.Details.Contains("message keys looked up before an export", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, looked.Count);
        Assert.Contains(looked, r => r.Details.Contains("Mnotakey,Malsonot", StringComparison.Ordinal));

    }

    [Fact]
    public async Task Export_YourExports_ABundleWhoseDownloadStopped_SaidNotDeliveredWhole_WithoutAHashToNote()
    {
        // A review stopped a download half way: the audit said "started" only, and the page listed nothing or a hash of a
        // bundle the officer never received whole.
        _page.Authorization.SetPolicies(BonniePolicies.CanExport);
        async Task RecordAsync(string stage, string bundle, string? sha = null) =>
            await _page.Audit.RecordAsync(new OfficerAuditEntry(PageTestContext.Officer, OfficerActions.Export, "user:alice@example.org", new Dictionary<string, string?>
            {
                ["stage"] = stage, ["bundle"] = bundle, ["messages"] = "3", ["manifestSha256"] = sha,
                ["reason"] = stage == "aborted" ? "the download stopped before the bundle was complete (the client went away); the file it received is not the bundle" : null,
            }));
        var whole = new string('a', 64);
        await RecordAsync("started", "b-whole.zip");
        await RecordAsync("manifest", "b-whole.zip", whole);
        await RecordAsync("started", "b-late.zip");
        await RecordAsync("manifest", "b-late.zip", new string('d', 64));
        await RecordAsync("aborted", "b-late.zip");
        await RecordAsync("started", "b-early.zip");
        await RecordAsync("aborted", "b-early.zip");

        var page = _page.Render<Export>();

        page.WaitForAssertion(() =>
        {
            var rows = page.FindAll(".bonnie-exports tbody tr");
            Assert.Equal(["b-early.zip", "b-late.zip", "b-whole.zip"], rows.Select(r => r.QuerySelectorAll("td")[3].TextContent.Trim()));
            Assert.All(rows.Take(2), r => Assert.StartsWith("Not delivered whole: the download stopped", r.QuerySelector(".bonnie-export-stopped")!.TextContent.Trim(), StringComparison.Ordinal));
            Assert.Equal([whole], page.FindAll(".bonnie-exports tbody tr td code").Select(c => c.TextContent));
        }, PageTestContext.Timeout);
    }

    [Fact]
    public void Export_NothingExportedYet_SaysSo()
    {
        _page.Authorization.SetPolicies(BonniePolicies.CanExport);

        var page = _page.Render<Export>();

        page.WaitForAssertion(() => Assert.Equal("You have exported no bundle yet.", page.Find(".bonnie-no-exports").TextContent.Trim()), PageTestContext.Timeout);
    }

    [Fact]
    public async Task Backfill_Start_ShowsTheRunnersProgressUntilItFails()
    {
        var page = _page.Render<Backfill>();
        Assert.Equal("idle", State(page));

        Click(page, "Start backfill");

        page.WaitForAssertion(() =>
        {
            Assert.Equal("failed", State(page));
            Assert.NotEmpty(page.FindAll(".mud-alert-text-error"));
        }, PageTestContext.Timeout);
        Assert.Contains(await _page.AuditRecordsAsync(), r => r.Action == OfficerActions.BackfillStarted);
    }

    [Fact]
    public void Backfill_Render_LinksToTheSearchOfWhatBackfillsFound()
    {
        var page = _page.Render<Backfill>();

        Assert.Equal("search?q=event%3AMessageFound", page.Find("a:contains('Search what backfills found')").GetAttribute("href"));
        Assert.Contains("MessageFound", page.Markup, StringComparison.Ordinal);
    }

    private static string State(IRenderedComponent<Backfill> page) =>
        page.FindAll("[aria-label='Backfill progress'] tr").Single(r => r.QuerySelector("th")!.TextContent == "State").QuerySelector("td")!.TextContent.Trim();

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
