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
    public void Render_ThirtyRecords_ShowsTheNewestPageOfTwentyFive()
    {
        var page = _context.Render<AuditLog>();

        page.WaitForAssertion(() =>
        {
            var rows = page.FindAll("tbody tr.mud-table-row");
            Assert.Equal(25, rows.Count);
            Assert.Contains("query 30", rows[0].TextContent, StringComparison.Ordinal);
            Assert.Contains("query 6", rows[24].TextContent, StringComparison.Ordinal);
        }, Timeout);
    }

    [Fact]
    public void VerifyChain_Intact_SaysSoAndRecordsTheVerification()
    {
        var page = _context.Render<AuditLog>();

        page.Find("button:contains('Verify chain')").Click();

        page.WaitForAssertion(() =>
        {
            Assert.Contains("The chain is intact: 30 record(s) verified.", page.Find("[role=status]").TextContent, StringComparison.Ordinal);
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
            Assert.Contains("Record 12 was altered", page.Find("[role=status]").TextContent, StringComparison.Ordinal), Timeout);
    }
}
