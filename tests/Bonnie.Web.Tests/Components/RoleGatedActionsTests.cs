using System.Security.Claims;
using Bonnie.Web.Components.Layout;
using Bonnie.Web.Components.Shared;
using Bonnie.Web.Security;
using Bunit;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace Bonnie.Web.Tests.Components;

/// <summary>
/// The restore and export buttons and the navigation links, evaluated against the application's own role policies
/// (not a fake policy list): what each role sees.
/// </summary>
public sealed class RoleGatedActionsTests : IAsyncLifetime
{
    private readonly BunitContext _context = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _context.DisposeAsync();

    private void SignInAs(string role)
    {
        _context.Services.AddMudServices();
        _context.JSInterop.Mode = JSRuntimeMode.Loose;
        SecurityExtensions.AddBonniePolicies(_context.Services.AddAuthorizationBuilder());
        // bUnit registers placeholders first; the framework's own services, evaluating the real policies, replace them.
        _context.Services.AddSingleton<IAuthorizationPolicyProvider, DefaultAuthorizationPolicyProvider>();
        _context.Services.AddTransient<IAuthorizationService, DefaultAuthorizationService>();
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "ann"), new Claim(ClaimTypes.Role, role)], "test");
        _context.Services.AddSingleton<AuthenticationStateProvider>(new FixedAuthenticationState(new ClaimsPrincipal(identity)));
        _context.Services.AddCascadingAuthenticationState();
        // Restore set up, as on a production Bonnie: without it the button is disabled whatever the role.
        _context.Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(new Bonnie.Pipeline.Restore.RestoreOptions
        {
            Imap = new Bonnie.Pipeline.Restore.RestoreImapOptions { Host = "imap.invalid", Password = "unused" },
        }));
    }

    [Fact]
    public void Buttons_Auditor_SeesNeitherRestoreNorExport()
    {
        SignInAs(BonnieRoles.Auditor);

        var restore = _context.Render<RestoreButton>(p => p.Add(x => x.MessageKeys, ["M1"]));
        var export = _context.Render<ExportButton>(p => p.Add(x => x.MessageKeys, ["M1"]));

        Assert.Empty(restore.FindAll("a, button"));
        Assert.Empty(export.FindAll("a, button"));
    }

    [Fact]
    public void Buttons_Investigator_SeesExportOnly()
    {
        SignInAs(BonnieRoles.Investigator);

        var restore = _context.Render<RestoreButton>(p => p.Add(x => x.MessageKeys, ["M1"]));
        var export = _context.Render<ExportButton>(p => p.Add(x => x.Query, "user:alice@example.org"));

        Assert.Empty(restore.FindAll("a, button"));
        var link = export.Find("a[aria-label='Export evidence bundle']");
        Assert.Equal("/api/export?q=user%3Aalice%40example.org", link.GetAttribute("href"));
    }

    [Fact]
    public void ExportButton_QueryThatDoesNotParse_DisabledWithTheParsersReason()
    {
        // Found by a UI review: "(((" left Export enabled, and the click opened the API's JSON error in a new tab.
        SignInAs(BonnieRoles.Investigator);

        var export = _context.Render<ExportButton>(p => p.Add(x => x.Query, "((("));

        Assert.Null(export.Find("[aria-label='Export evidence bundle']").GetAttribute("href"));
        Assert.Contains("position 3", export.Find("[aria-label='Query error']").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Buttons_Restorer_SeesRestoreOfAFolderAtAMomentAndExport()
    {
        SignInAs(BonnieRoles.Restorer);
        var at = new DateTimeOffset(2026, 11, 20, 9, 0, 0, TimeSpan.Zero).AddTicks(TimeSpan.TicksPerSecond - 1);

        var restore = _context.Render<RestoreButton>(p => p.Add(x => x.FolderId, "abc 1").Add(x => x.At, at));
        var export = _context.Render<ExportButton>(p => p.Add(x => x.MessageKeys, ["M1", "M2"]));

        var link = restore.Find("a");
        Assert.Equal("/restore?scope=folder&folder=abc%201&at=2026-11-20T09%3A00%3A00.9999999Z", link.GetAttribute("href"));
        Assert.Equal("Restore to the mailbox as it was at 2026-11-20 09:00:00 UTC", link.GetAttribute("aria-label"));
        Assert.Equal("/api/export?keys=M1%2CM2", export.Find("a").GetAttribute("href"));
    }

    [Theory]
    [InlineData(BonnieRoles.Auditor, new string[0])]
    [InlineData(BonnieRoles.Investigator, new[] { "export" })]
    [InlineData(BonnieRoles.Restorer, new[] { "export", "restore" })]
    [InlineData(BonnieRoles.Administrator, new[] { "export", "restore", "admin/backfill" })]
    public void NavMenu_Role_LinksToWhatTheRoleMayUse(string role, string[] expected)
    {
        SignInAs(role);

        var menu = _context.Render<NavMenu>();

        var gated = menu.FindAll("nav[aria-label='Main navigation'] a")
            .Select(a => a.GetAttribute("href"))
            .Where(h => h is "export" or "restore" or "admin/backfill")
            .ToList();
        Assert.Equal(expected, gated);
    }

    private sealed class FixedAuthenticationState(ClaimsPrincipal user) : AuthenticationStateProvider
    {
        public override Task<AuthenticationState> GetAuthenticationStateAsync() => Task.FromResult(new AuthenticationState(user));
    }
}
