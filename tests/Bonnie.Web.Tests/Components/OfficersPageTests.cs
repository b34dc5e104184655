using Bonnie.Web.Audit;
using OfficersPage = Bonnie.Web.Components.Pages.Officers;
using Bonnie.Web.Officers;
using Bonnie.Web.Security;
using Bonnie.Web.Tests.Infrastructure;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using MudBlazor;
using MudBlazor.Extensions;
using MudBlazor.Services;

namespace Bonnie.Web.Tests.Components;

/// <summary>The administrators' officers page over a real officers database: "chief" (signed in) is the only administrator.</summary>
public sealed class OfficersPageTests : IAsyncLifetime
{
    private const string Chief = "chief";
    private const string Bob = "bob";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private readonly BunitContext _context = new();
    private readonly TempDirectory _directory = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 18, 16, 0, TimeSpan.Zero));
    private OfficerAuditLog _audit = default!;
    private OfficerStore _store = default!;
    private IRenderedComponent<MudPopoverProvider> _popovers = default!;
    private IRenderedComponent<MudSnackbarProvider> _snackbars = default!;
    private IRenderedComponent<MudDialogProvider> _dialogs = default!;

    public async Task InitializeAsync()
    {
        var data = TestData.DataDirectoryIn(_directory.Path);
        _audit = new OfficerAuditLog(data, _time);
        _store = new OfficerStore(data);
        var hasher = new PasswordHasher<OfficerAccount>();
        foreach (var (name, role) in new[] { (Chief, BonnieRoles.Administrator), (Bob, BonnieRoles.Auditor) })
        {
            var account = new OfficerAccount(name, role, "", false, 0, null, _time.GetUtcNow());
            Assert.True(await _store.TryCreateAsync(account with { PasswordHash = hasher.HashPassword(account, "a long enough password") }));
        }

        _context.Services.AddMudServices();
        _context.Services.AddSingleton<TimeProvider>(_time);
        _context.Services.AddSingleton(_store);
        _context.Services.AddSingleton<IPasswordHasher<OfficerAccount>>(hasher);
        _context.Services.AddSingleton<IOfficerAudit>(_audit);
        _context.Services.AddOptions<OfficerOptions>();
        _context.Services.AddSingleton<OfficerAccounts>();
        _context.Services.AddScoped<OfficerCircuit>();
        _context.JSInterop.Mode = JSRuntimeMode.Loose;
        _context.AddAuthorization().SetAuthorized(Chief);
        _popovers = _context.Render<MudPopoverProvider>();
        _snackbars = _context.Render<MudSnackbarProvider>();
        _dialogs = _context.Render<MudDialogProvider>();
    }

    public async Task DisposeAsync()
    {
        await _context.DisposeAsync();
        _audit.Dispose();
        _directory.Dispose();
    }

    private IRenderedComponent<OfficersPage> RenderLoaded()
    {
        var page = _context.Render<OfficersPage>();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("tbody tr.mud-table-row").Count), Timeout);
        return page;
    }

    private static IRenderedComponent<MudSelect<string>> RoleSelectOf(IRenderedComponent<OfficersPage> page, string officer) =>
        page.FindComponents<MudSelect<string>>().Single(s => s.Instance.Label == $"Role of {officer}");

    /// <summary>Picks a role in the officer's select as the officer does: opens it, clicks the role in its list.</summary>
    private async Task PickRoleAsync(IRenderedComponent<OfficersPage> page, string officer, string role)
    {
        await page.InvokeAsync(() => RoleSelectOf(page, officer).Instance.OpenMenu());
        _popovers.WaitForElements(".mud-popover-open .mud-list-item", Timeout);
        // Clicked without waiting for its handler, which waits in turn for the confirmation's answer.
        await _popovers.InvokeAsync(() => _popovers.FindAll(".mud-popover-open .mud-list-item")
            .Single(i => i.TextContent.TrimStart().StartsWith(role, StringComparison.Ordinal)).Click());
    }

    /// <summary>Picks <paramref name="role"/> for the officer, then presses "Change role", which asks for confirmation.</summary>
    private async Task AskRoleChangeAsync(IRenderedComponent<OfficersPage> page, string officer, string role)
    {
        await PickRoleAsync(page, officer, role);
        var change = $"button[aria-label=\"Change {officer}'s role to {role}\"]";
        page.WaitForElement(change, Timeout);
        // Clicked without waiting for its handler, which waits in turn for the confirmation's answer.
        await page.InvokeAsync(() => page.Find(change).Click());
    }

    /// <summary>Waits for the confirmation titled <paramref name="title"/>, then presses <paramref name="button"/> in it.</summary>
    private async Task AnswerDialogAsync(string title, string button)
    {
        _dialogs.WaitForAssertion(() => Assert.Contains(title, _dialogs.Markup, StringComparison.Ordinal), Timeout);
        await _dialogs.InvokeAsync(() => _dialogs.Find($".mud-dialog button:contains('{button}')").Click());
        _dialogs.WaitForAssertion(() => Assert.DoesNotContain(title, _dialogs.Markup, StringComparison.Ordinal), Timeout);
    }

    private async Task<IReadOnlyList<OfficerAuditRecord>> AuditRecordsAsync()
    {
        var (records, _) = await _audit.ReadPageAsync(0, 50);
        return records;
    }

    [Fact]
    public async Task OneTimePassword_ForAnotherOfficer_SetFromTheirRow_TheyMustReplaceIt_NotOfferedForOneself()
    {
        var page = RenderLoaded();

        Assert.Empty(page.FindAll($"button[aria-label='One-time password for {Chief}']"));
        page.Find($"button[aria-label='One-time password for {Bob}']").Click();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("#one-time-password")), Timeout);
        // Too short: said at the field, nothing changed.
        page.Find("#one-time-password").Input("short");
        page.Find("form[aria-label='One-time password']").Submit();
        page.WaitForAssertion(() => Assert.Contains("at least 12 characters", page.Find("form[aria-label='One-time password']").TextContent, StringComparison.Ordinal), Timeout);
        Assert.False((await _store.FindAsync(Bob))!.MustChangePassword);
        page.Find("#one-time-password").Input("a one-time secret for bob");
        Assert.DoesNotContain("at least 12 characters", page.Find("form[aria-label='One-time password']").TextContent, StringComparison.Ordinal);
        page.Find("form[aria-label='One-time password']").Submit();

        page.WaitForAssertion(() =>
        {
            Assert.Contains("bob has a one-time password: they must replace it when they next sign in.", _snackbars.Markup, StringComparison.Ordinal);
            Assert.Empty(page.FindAll("form[aria-label='One-time password']"));
        }, Timeout);
        var bob = await _store.FindAsync(Bob);
        Assert.True(bob!.MustChangePassword);
        Assert.Equal(PasswordVerificationResult.Success, new PasswordHasher<OfficerAccount>().VerifyHashedPassword(bob, bob.PasswordHash, "a one-time secret for bob"));
        var (records, _) = await _audit.ReadPageAsync(0, 1);
        Assert.Equal((Chief, OfficerActions.OfficerPasswordSet, Bob), (records[0].Officer, records[0].Action, records[0].Target));
    }

    [Fact]
    public async Task ChangeRole_OfTheOnlyAdministrator_RefusedAtOnce_NotConfirmedFirst_AndTheSelectShowsAdministratorAgain()
    {
        var page = RenderLoaded();

        await AskRoleChangeAsync(page, Chief, BonnieRoles.Restorer);

        page.WaitForAssertion(() =>
        {
            Assert.Contains("This is the last administrator", _snackbars.Markup, StringComparison.Ordinal);
            // The refused role is not left on screen as if it were saved: the select is back on the officer's real role.
            Assert.Equal(BonnieRoles.Administrator, RoleSelectOf(page, Chief).Instance.GetState(x => x.Value));
        }, Timeout);
        // A change that cannot be made is not confirmed first (a review).
        Assert.DoesNotContain("Change chief's role?", _dialogs.Markup, StringComparison.Ordinal);
        Assert.Equal(BonnieRoles.Administrator, (await _store.FindAsync(Chief))!.Role);
    }

    [Fact]
    public async Task ChangeRole_APickIsOnlyProposed_ChangeRoleSaysItInFull_ConfirmedItIsSavedAndAudited()
    {
        var page = RenderLoaded();

        // Picked in the list (the arrow keys pick as they move): proposed, nothing asked or changed yet.
        await PickRoleAsync(page, Bob, BonnieRoles.Investigator);
        page.WaitForElement("button[aria-label=\"Change bob's role to Investigator\"]", Timeout);
        Assert.DoesNotContain("Change bob's role?", _dialogs.Markup, StringComparison.Ordinal);
        Assert.Equal(BonnieRoles.Auditor, (await _store.FindAsync(Bob))!.Role);

        await page.InvokeAsync(() => page.Find("button[aria-label=\"Change bob's role to Investigator\"]").Click());

        // What the new role allows is said before anything changes.
        _dialogs.WaitForAssertion(() =>
        {
            var text = _dialogs.Find(".mud-dialog").TextContent;
            Assert.Contains("Change bob's role?", text, StringComparison.Ordinal);
            Assert.Contains("bob becomes Investigator instead of Auditor", text, StringComparison.Ordinal);
            Assert.Contains(BonnieRoles.Description(BonnieRoles.Investigator), text, StringComparison.Ordinal);
        }, Timeout);
        Assert.Equal(BonnieRoles.Auditor, (await _store.FindAsync(Bob))!.Role);
        Assert.DoesNotContain(await AuditRecordsAsync(), r => r.Action == OfficerActions.OfficerRoleChanged);

        await AnswerDialogAsync("Change bob's role?", "Make Investigator");

        page.WaitForAssertion(() =>
        {
            Assert.Contains("bob is now Investigator.", _snackbars.Markup, StringComparison.Ordinal);
            Assert.Empty(page.FindAll("button[aria-label^=\"Change bob's role\"]"));
        }, Timeout);
        Assert.Equal(BonnieRoles.Investigator, (await _store.FindAsync(Bob))!.Role);
        Assert.Equal(BonnieRoles.Investigator, RoleSelectOf(page, Bob).Instance.GetState(x => x.Value));
        var changed = Assert.Single(await AuditRecordsAsync(), r => r.Action == OfficerActions.OfficerRoleChanged);
        Assert.Equal((Chief, Bob), (changed.Officer, changed.Target));
    }

    [Theory]
    // Cancelled in the confirmation, or the pick dropped with "Keep Auditor" before asking.
    [InlineData(true)]
    [InlineData(false)]
    public async Task ChangeRole_CancelledOrKept_NothingChanges_AndTheSelectShowsTheRealRoleAgain(bool askedFirst)
    {
        var page = RenderLoaded();

        if (askedFirst)
        {
            await AskRoleChangeAsync(page, Bob, BonnieRoles.Administrator);
            await AnswerDialogAsync("Change bob's role?", "Cancel");
        }
        else
        {
            await PickRoleAsync(page, Bob, BonnieRoles.Administrator);
            page.WaitForElement("button[aria-label='Keep bob Auditor']", Timeout);
            await page.InvokeAsync(() => page.Find("button[aria-label='Keep bob Auditor']").Click());
        }

        page.WaitForAssertion(() =>
        {
            Assert.Equal(BonnieRoles.Auditor, RoleSelectOf(page, Bob).Instance.GetState(x => x.Value));
            Assert.Empty(page.FindAll("button[aria-label^=\"Change bob's role\"]"));
        }, Timeout);
        Assert.Equal(BonnieRoles.Auditor, (await _store.FindAsync(Bob))!.Role);
        Assert.DoesNotContain(await AuditRecordsAsync(), r => r.Action == OfficerActions.OfficerRoleChanged);
        Assert.DoesNotContain("is now", _snackbars.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChangeRole_TheOfficersOwnRolePickedAgain_NothingIsProposed()
    {
        var page = RenderLoaded();
        await PickRoleAsync(page, Bob, BonnieRoles.Investigator);
        page.WaitForElement("button[aria-label=\"Change bob's role to Investigator\"]", Timeout);

        // Back on the role bob has (a review stacked "becomes Auditor instead of Auditor" over the first dialog).
        await PickRoleAsync(page, Bob, BonnieRoles.Auditor);

        page.WaitForAssertion(() => Assert.Empty(page.FindAll("button[aria-label^=\"Change bob's role\"]")), Timeout);
        Assert.DoesNotContain("mud-dialog", _dialogs.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disable_Oneself_RefusedAtOnce_NotConfirmedFirst()
    {
        var page = RenderLoaded();

        await page.InvokeAsync(() => page.Find($"button[aria-label='Disable {Chief}']").Click());

        page.WaitForAssertion(() => Assert.Contains("You cannot disable yourself; another administrator can.", _snackbars.Markup, StringComparison.Ordinal), Timeout);
        Assert.DoesNotContain("Disable chief?", _dialogs.Markup, StringComparison.Ordinal);
        Assert.False((await _store.FindAsync(Chief))!.IsDisabled);
    }

    [Fact]
    public async Task Disable_Cancelled_TheOfficerCanStillSignIn_NothingAudited()
    {
        var page = RenderLoaded();

        await page.InvokeAsync(() => page.Find($"button[aria-label='Disable {Bob}']").Click());
        _dialogs.WaitForAssertion(() => Assert.Contains("can no longer sign in, and their open pages end within seconds",
            _dialogs.Find(".mud-dialog").TextContent, StringComparison.Ordinal), Timeout);
        await AnswerDialogAsync("Disable bob?", "Cancel");

        Assert.False((await _store.FindAsync(Bob))!.IsDisabled);
        Assert.NotNull(page.Find($"button[aria-label='Disable {Bob}']"));
        Assert.DoesNotContain(await AuditRecordsAsync(), r => r.Action == OfficerActions.OfficerDisabled);
        Assert.DoesNotContain("is disabled", _snackbars.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Render_DisabledOfficer_StateChipsSitInAWrappingContainer()
    {
        await _store.SetDisabledAsync(Bob, _time.GetUtcNow());

        var page = RenderLoaded();

        // This checks the markup only (bUnit has no layout): the chips are in a flex container that wraps, and the role
        // select may shrink. Whether the row then fits a 390 px phone screen can only be seen in a browser.
        var row = page.FindAll("tbody tr.mud-table-row").Single(r => r.TextContent.Contains(Bob, StringComparison.Ordinal));
        var chips = row.QuerySelector(".bonnie-officer-state")!;
        Assert.Contains("flex-wrap", chips.ClassList);
        Assert.Contains("disabled since 2026-11-29 18:16", chips.TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain("active", chips.TextContent, StringComparison.Ordinal);
        Assert.Contains("bonnie-role-select", RoleSelectOf(page, Bob).Instance.Class, StringComparison.Ordinal);
        // An officer with nothing to say of is said to be active: the cell was blank (a review).
        var chief = page.FindAll("tbody tr.mud-table-row").Single(r => r.TextContent.Contains(Chief, StringComparison.Ordinal));
        Assert.Equal("active", chief.QuerySelector(".bonnie-officer-state")!.TextContent.Trim());
    }

    [Fact]
    public async Task DisableThenEnable_FocusGoesBackToThatOfficersButton()
    {
        var page = RenderLoaded();

        await page.InvokeAsync(() => page.Find($"button[aria-label='Disable {Bob}']").Click());
        await AnswerDialogAsync("Disable bob?", "Disable");

        const string Focus = "Blazor._internal.domWrapper.focus";
        page.WaitForAssertion(() =>
        {
            var enable = page.Find($"button[aria-label='Enable {Bob}']");
            // bUnit records ElementReference.FocusAsync as this JS call; without it the browser's focus falls to the body.
            // The confirmation took the focus while it was open; the last to get it is the new Enable button of that very
            // officer (bUnit marks a referenced element so).
            var focus = _context.JSInterop.Invocations.Last(i => i.Identifier == Focus);
            Assert.Equal(((ElementReference)focus.Arguments[0]!).Id, enable.GetAttribute("blazor:elementReference"));
        }, Timeout);
        Assert.Contains("is disabled", _snackbars.Markup, StringComparison.Ordinal);
        var focusedSoFar = _context.JSInterop.Invocations.Count(i => i.Identifier == Focus);

        // Enabling asks nothing: it ends no one's work.
        await page.Find($"button[aria-label='Enable {Bob}']").ClickAsync(new());

        page.WaitForAssertion(() =>
        {
            var disable = page.Find($"button[aria-label='Disable {Bob}']");
            Assert.Equal(focusedSoFar + 1, _context.JSInterop.Invocations.Count(i => i.Identifier == Focus));
            var focus = _context.JSInterop.Invocations.Last(i => i.Identifier == Focus);
            Assert.Equal(((ElementReference)focus.Arguments[0]!).Id, disable.GetAttribute("blazor:elementReference"));
        }, Timeout);
        Assert.DoesNotContain("Enable bob?", _dialogs.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unlock_LockedOfficer_SaysTheDateAndUtc_ConfirmsAndKeepsTheFocusInTheRow()
    {
        await _store.RecordFailureAsync(Bob, _time.GetUtcNow(), 1, TimeSpan.FromMinutes(10));

        var page = RenderLoaded();

        Assert.Contains("locked until 2026-11-29 18:26 UTC", page.Markup, StringComparison.Ordinal);
        await page.Find($"button[aria-label='Unlock {Bob}']").ClickAsync(new());

        page.WaitForAssertion(() =>
        {
            Assert.Empty(page.FindAll($"button[aria-label='Unlock {Bob}']"));
            Assert.Contains($"{Bob} is unlocked", _snackbars.Markup, StringComparison.Ordinal);
            Assert.Single(_context.JSInterop.Invocations, i => i.Identifier == "Blazor._internal.domWrapper.focus");
        }, Timeout);
    }

    [Fact]
    public async Task Roles_AreDescribedWhereTheyArePicked()
    {
        var page = RenderLoaded();

        // Under the new officer's select: what the chosen role (Auditor by default) may do.
        Assert.Contains(BonnieRoles.Description(BonnieRoles.Auditor), page.Find("form[aria-label='New officer']").TextContent, StringComparison.Ordinal);

        // Beside the selects, each role once with what it may do.
        var legend = page.Find("[aria-label='What each role may do']");
        Assert.Equal(BonnieRoles.All, legend.QuerySelectorAll("dt").Select(d => d.TextContent.Trim()));
        Assert.Equal(BonnieRoles.All.Select(BonnieRoles.Description), legend.QuerySelectorAll("dd").Select(d => d.TextContent.Trim()));
        Assert.Contains("export", BonnieRoles.Description(BonnieRoles.Investigator), StringComparison.Ordinal);
        Assert.Contains("audit log", BonnieRoles.Description(BonnieRoles.Administrator), StringComparison.Ordinal);

        // In an officer's role list, the names alone: as a second line each, the descriptions made the list scroll and
        // showed cut in half in the field (a review in Chromium).
        await page.InvokeAsync(() => RoleSelectOf(page, Bob).Instance.OpenMenu());
        var items = _popovers.WaitForElements(".mud-popover-open .mud-list-item", Timeout);
        Assert.Equal(BonnieRoles.All, items.Select(i => i.TextContent.Trim()));
    }
}
