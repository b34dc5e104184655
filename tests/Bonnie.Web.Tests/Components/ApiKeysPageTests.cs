using Bonnie.Web.Audit;
using Bonnie.Web.Components.Pages;
using Bonnie.Web.Security;
using Bonnie.Web.Tests.Infrastructure;
using Bunit;
using Microsoft.Extensions.DependencyInjection;

namespace Bonnie.Web.Tests.Components;

public sealed class ApiKeysPageTests : IAsyncLifetime
{
    private PageTestContext _page = default!;

    public async Task InitializeAsync() => _page = await PageTestContext.CreateAsync(moreServices: (_, services) =>
        services.Configure<SecurityOptions>(o => o.ApiKeys.AddRange(
        [
            new ApiKeyOptions { Name = "ci-nightly", Key = new string('k', 32), Role = BonnieRoles.Investigator },
            new ApiKeyOptions { Name = "siem", Key = new string('s', 32), Role = BonnieRoles.Auditor },
        ])));

    public async Task DisposeAsync() => await _page.DisposeAsync();

    private static IReadOnlyList<string> Cells(AngleSharp.Dom.IElement row) =>
        [.. row.QuerySelectorAll("td").Select(td => string.Join(' ', td.TextContent.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)))];

    [Fact]
    public async Task Render_EachKeysLastRecordedCall_AndHowMany_NeverForAKeyNotUsed()
    {
        // Retiring an unused key meant filtering the audit log by hand, key by key (a review).
        await _page.Audit.RecordAsync(new OfficerAuditEntry("api:ci-nightly", OfficerActions.Search, "user:alice@example.org", ClientAddress: "192.0.2.10"));
        await _page.Audit.RecordAsync(new OfficerAuditEntry("api:ci-nightly", OfficerActions.Export, "user:bob@example.org", ClientAddress: "192.0.2.11"));
        // An officer's own action, and a key's name only as a target: neither is a call with a key.
        await _page.Audit.RecordAsync(new OfficerAuditEntry("siem", OfficerActions.Search, "api:siem", ClientAddress: "192.0.2.12"));
        // A key taken out of the configuration: it vanished from the page, though its calls are in the audit (a review).
        await _page.Audit.RecordAsync(new OfficerAuditEntry("api:old-archiver", OfficerActions.Search, "folder:Archive", ClientAddress: "192.0.2.13"));
        // A name anyone can type at the sign-in page is no key.
        await _page.Audit.RecordAsync(new OfficerAuditEntry("api:ghost", OfficerActions.SignInFailed, ClientAddress: "192.0.2.14"));

        var page = _page.Render<ApiKeys>();

        page.WaitForAssertion(() =>
        {
            var rows = page.FindAll("[aria-label='Configured API keys'] tbody tr");
            Assert.Equal(2, rows.Count);
            var used = Cells(rows[0]);
            Assert.Equal(["ci-nightly", "Investigator"], used.Take(2));
            Assert.Matches(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$", used[2]);
            Assert.Equal(["192.0.2.11", "export: user:bob@example.org", "2"], used.Skip(3));
            Assert.Equal("audit?officer=api%3Aci-nightly", rows[0].QuerySelector("a")!.GetAttribute("href"));
            Assert.Equal(["siem", "Auditor", "Never: no call with this key is recorded."], Cells(rows[1]));
            var retired = Cells(Assert.Single(page.FindAll("[aria-label='API keys no longer configured'] tbody tr")));
            Assert.Equal("old-archiver", retired[0]);
            Assert.Equal(["192.0.2.13", "search: folder:Archive", "1"], retired.Skip(2));
        }, PageTestContext.Timeout);
        // Reading the officers' audit log is recorded, as the audit log page's reads are.
        var read = Assert.Single(await _page.AuditRecordsAsync(), r => r.Action == OfficerActions.AuditRead);
        Assert.Equal(PageTestContext.Officer, read.Officer);
    }

    [Fact]
    public void Validate_TwoKeysOfOneName_RefusedNamingIt()
    {
        // Their calls are recorded under the name, read without regard to case: the page could not tell them apart.
        var options = new SecurityOptions
        {
            ApiKeys =
            [
                new ApiKeyOptions { Name = "ci", Key = new string('a', 24), Role = BonnieRoles.Auditor },
                new ApiKeyOptions { Name = "CI", Key = new string('b', 24), Role = BonnieRoles.Auditor },
            ],
        };

        var result = new ValidateSecurityOptions().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Equal(["Bonnie:ApiKeys:1:Name 'CI' is the name of another key too: each key needs its own name."], result.Failures);
    }
}
