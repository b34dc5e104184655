using Bonnie.Web.Search;
using Bonnie.Web.Audit;
using Bonnie.Web.Components.Pages;
using Bonnie.Web.Officers;
using Bonnie.Web.Tests.Infrastructure;
using Bunit;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;

namespace Bonnie.Web.Tests.Components;

public sealed class AuditLogPageTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private readonly BunitContext _context = new();
    private readonly TempDirectory _directory = new();
    private OfficerAuditLog _log = default!;

    public async Task InitializeAsync()
    {
        _log = new OfficerAuditLog(TestData.DataDirectoryIn(_directory.Path), TimeProvider.System);
        for (var i = 1; i <= 30; i++)
        {
            await _log.RecordAsync(new OfficerAuditEntry("alice", OfficerActions.Search, $"query {i}", ClientAddress: "192.0.2.7"));
        }
        _context.Services.AddMudServices();
        _context.Services.AddSingleton(_log);
        _context.Services.AddSingleton<IOfficerAudit>(_log);
        _context.Services.AddScoped<OfficerCircuit>();
        _context.JSInterop.Mode = JSRuntimeMode.Loose;
        _context.AddAuthorization().SetAuthorized("chief");
        _context.Render<MudPopoverProvider>();
    }

    public async Task DisposeAsync()
    {
        await _context.DisposeAsync();
        _log.Dispose();
        _directory.Dispose();
    }

    [Fact]
    public void Render_ThirtyRecords_ShowsTheNewestPageOfTwentyFive_HeadedByItsOwnRead()
    {
        var page = _context.Render<AuditLog>();

        page.WaitForAssertion(() =>
        {
            var rows = page.FindAll("tbody tr.mud-table-row");
            Assert.Equal(25, rows.Count);
            // Reading the log is recorded before it is shown.
            Assert.Contains(OfficerActions.AuditRead, rows[0].TextContent, StringComparison.Ordinal);
            Assert.Contains("chief", rows[0].TextContent, StringComparison.Ordinal);
            Assert.Contains("query 30", rows[1].TextContent, StringComparison.Ordinal);
            Assert.Contains("query 7", rows[24].TextContent, StringComparison.Ordinal);
            Assert.Equal("31 records", page.Find("[aria-label='Matching records']").TextContent.Trim());
        }, Timeout);
    }

    [Fact]
    public async Task Render_FilterInTheAddress_OnlyThatOfficersMatchingRecords_CountedAndTheCsvLinkCarriesIt()
    {
        await _log.RecordAsync(new OfficerAuditEntry("bob", OfficerActions.Search, "query 7 of bob", ClientAddress: "192.0.2.8"));
        await _log.RecordAsync(new OfficerAuditEntry("bob", OfficerActions.Export, "query 7 exported", ClientAddress: "192.0.2.8"));
        var nav = _context.Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>();
        nav.NavigateTo("/audit?officer=BOB&action=search&text=QUERY%207");

        var page = _context.Render<AuditLog>();

        page.WaitForAssertion(() =>
        {
            var row = Assert.Single(page.FindAll("tbody tr.mud-table-row"));
            Assert.Contains("query 7 of bob", row.TextContent, StringComparison.Ordinal);
            Assert.Equal("1 record matches the filter", page.Find("[aria-label='Matching records']").TextContent.Trim());
            var csv = page.Find("a[aria-label='Download these records as CSV']");
            Assert.Equal("/api/audit?officer=BOB&action=search&text=QUERY%207&format=csv", csv.GetAttribute("href"));
            // A download the browser fetches itself, not an address Blazor's navigation tries as a page first.
            Assert.NotNull(csv.GetAttribute("download"));
        }, Timeout);
        var read = (await _log.ReadPageAsync(new AuditFilter(Action: OfficerActions.AuditRead), 0, 10)).Records;
        Assert.Contains("\"officer\":\"BOB\"", Assert.Single(read).Details, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_DatesInTheAddress_ThoseDaysOnly_BadDateSaysSo()
    {
        // The records were written now: days around today find them all (and the page's own read), days long ago none.
        var nav = _context.Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>();
        var today = DateTime.UtcNow.Date;
        nav.NavigateTo(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"/audit?after={today.AddDays(-1):yyyy-MM-dd}&before={today.AddDays(2):yyyy-MM-dd}"));
        var around = _context.Render<AuditLog>();
        around.WaitForAssertion(() => Assert.Equal("31 records match the filter", around.Find("[aria-label='Matching records']").TextContent.Trim()), Timeout);

        nav.NavigateTo("/audit?after=2001-01-01&before=2001-01-02");
        var page = _context.Render<AuditLog>();

        page.WaitForAssertion(() => Assert.Contains("No record matches", page.Markup, StringComparison.Ordinal), Timeout);

        nav.NavigateTo("/audit?after=yesterday");

        page.WaitForAssertion(() =>
        {
            Assert.Contains("after must be a day (2026-12-01)", page.Find("[role=alert]").TextContent, StringComparison.Ordinal);
            Assert.Empty(page.FindAll("tbody tr.mud-table-row"));
        }, Timeout);
    }

    [Fact]
    public async Task Filter_PressedWithNothingChanged_KeepsTheTimesTheAddressGave()
    {
        // The pickers show days only: pressed as it stood, Filter widened "before 01:04:30" to the end of the day (a review).
        var nav = _context.Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>();
        nav.NavigateTo("/audit?after=2026-12-07T00:30:00Z&before=2026-12-07T01:04:30Z");
        var page = _context.Render<AuditLog>();
        // Pressed only once the page has taken its filter from the address (its first load may finish after the first render).
        page.WaitForAssertion(() => Assert.Contains("match", page.Find("[aria-label='Matching records']").TextContent, StringComparison.Ordinal), Timeout);

        // Found and pressed on the renderer's thread, and the address then waited for: a render in between, under load,
        // once left the click unhandled when the assertion ran.
        await page.InvokeAsync(() => page.Find("button:contains('Filter')").Click());

        page.WaitForAssertion(() => Assert.EndsWith("/audit?after=2026-12-07T00%3A30%3A00Z&before=2026-12-07T01%3A04%3A30Z", nav.Uri, StringComparison.Ordinal), Timeout);
    }

    [Fact]
    public async Task Render_TargetsOfReads_LinkToWhatWasRead_OthersArePlainText()
    {
        // Event ids of 64 hex digits could only be copied and searched for by hand (a review).
        var eventId = new string('e', 64);
        await _log.RecordAsync(new OfficerAuditEntry("alice", OfficerActions.EventViewed, eventId));
        await _log.RecordAsync(new OfficerAuditEntry("alice", OfficerActions.MessageViewed, "mid:<a/b@host>:512"));
        await _log.RecordAsync(new OfficerAuditEntry("alice", OfficerActions.SessionsViewed, "bob@example.org"));
        await _log.RecordAsync(new OfficerAuditEntry("alice", OfficerActions.Export, "selection"));
        await _log.RecordAsync(new OfficerAuditEntry("chief", OfficerActions.OfficerDisabled, "alice"));

        var page = _context.Render<AuditLog>();

        page.WaitForAssertion(() =>
        {
            var rows = page.FindAll("tbody tr.mud-table-row");
            string? LinkIn(string text) => rows.Single(r => r.TextContent.Contains(text, StringComparison.Ordinal)).QuerySelector("a")?.GetAttribute("href");
            Assert.Equal("events/" + eventId, LinkIn(eventId));
            Assert.Equal(ItemLinks.Message("mid:<a/b@host>:512"), LinkIn("mid:<a/b@host>:512"));
            Assert.Equal("users/bob@example.org", LinkIn("bob@example.org"));
            Assert.Equal("search?q=query%2030", LinkIn("query 30"));
            Assert.Null(LinkIn("selection"));
            Assert.Null(LinkIn(OfficerActions.OfficerDisabled));
        }, Timeout);
    }

    [Fact]
    public async Task Render_DetailsStoredWithJsonEscapes_ShownAsWritten()
    {
        await _log.RecordAsync(new OfficerAuditEntry("ivy", OfficerActions.Restore, "job-1",
            new Dictionary<string, string?> { ["targetFolder"] = "user/björk/Entwürfe@example.org", ["at"] = null }));

        var page = _context.Render<AuditLog>();

        page.WaitForAssertion(() =>
            Assert.Contains(page.FindAll("tbody tr.mud-table-row"), r => r.TextContent.Contains("targetFolder: user/björk/Entwürfe@example.org", StringComparison.Ordinal)),
            Timeout);
    }

    [Fact]
    public void VerifyChain_Intact_SaysSoAndRecordsTheVerification()
    {
        var page = _context.Render<AuditLog>();

        page.Find("button:contains('Verify chain')").Click();

        page.WaitForAssertion(() =>
        {
            Assert.Contains("The chain is intact: 31 records verified. This verification is recorded as the record after them.",
                string.Join(' ', page.Find("[aria-label='Chain verification']").TextContent.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
            Assert.Contains(OfficerActions.AuditVerified, page.FindAll("tbody tr.mud-table-row")[0].TextContent, StringComparison.Ordinal);
        }, Timeout);
    }

    [Fact]
    public void VerifyChain_RecordTampered_NamesIt()
    {
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(_directory.Path, OfficerAuditLog.FileName)};Pooling=false"))
        {
            connection.Open();
            using var tamper = connection.CreateCommand();
            tamper.CommandText = "DROP TRIGGER officer_audit_no_update; UPDATE officer_audit SET client = '198.51.100.1' WHERE seq = 12;";
            tamper.ExecuteNonQuery();
        }
        var page = _context.Render<AuditLog>();

        page.Find("button:contains('Verify chain')").Click();

        page.WaitForAssertion(() =>
            Assert.Contains("Record 12 was altered", page.Find("[aria-label='Chain verification']").TextContent, StringComparison.Ordinal), Timeout);
    }
}
