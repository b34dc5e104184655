using Bonnie.Pipeline.Restore;
using Bonnie.Web.Components.Pages;
using Bonnie.Web.Tests.Infrastructure;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RestoreOptions = Bonnie.Pipeline.Restore.RestoreOptions;

namespace Bonnie.Web.Tests.Components;

/// <summary>The restore page on a Bonnie whose restore is not configured (no IMAP admin), as the one-command start is.</summary>
public sealed class RestoreNotConfiguredPageTests : IAsyncLifetime
{
    private PageTestContext _page = default!;
    private RestoreJobs _jobs = default!;

    public async Task InitializeAsync() => _page = await PageTestContext.CreateAsync(moreServices: (page, services) =>
    {
        var options = Options.Create(new RestoreOptions());
        _jobs = new RestoreJobs(new RestorePlanner(page.Store.Store, page.Store.Payloads, TimeProvider.System),
            new ImapRestorer(options, page.Store.Payloads, NullLogger<ImapRestorer>.Instance), TimeProvider.System, options, NullLogger<RestoreJobs>.Instance);
        services.AddSingleton(_jobs);
        services.AddSingleton(options);
    });

    public async Task DisposeAsync()
    {
        _jobs.Dispose();
        await _page.DisposeAsync();
    }

    [Fact]
    public void Restore_NotConfigured_SaidBeforeAnythingIsPressed_RestoreDisabled_DryRunStillOffered()
    {
        // Found by a UI review: the page said so only after Restore was pressed.
        var page = _page.Render<Restore>();

        Assert.Contains("Restore is not set up", page.Find("[aria-label='Restore not configured']").TextContent, StringComparison.Ordinal);
        var buttons = page.FindAll("button").ToDictionary(b => b.TextContent.Trim(), b => b.HasAttribute("disabled"));
        Assert.True(buttons["Restore"]);
        Assert.False(buttons["Dry run"]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Restore_NotConfigured_SettingsNamedToAdministratorsOnly(bool administrator)
    {
        // A restorer was shown configuration keys they cannot change (a review).
        _page.Authorization.SetPolicies(administrator
            ? [Bonnie.Web.Security.BonniePolicies.CanSearch, Bonnie.Web.Security.BonniePolicies.CanAdminister]
            : [Bonnie.Web.Security.BonniePolicies.CanSearch]);

        var page = _page.Render<Restore>();

        Assert.Equal(administrator, page.Find("[aria-label='Restore not configured']").TextContent.Contains("Bonnie:Restore:Imap:Host", StringComparison.Ordinal));
    }
}
