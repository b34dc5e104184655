using Bonnie.Web.Audit;
using Bonnie.Web.Officers;
using Bonnie.Web.Security;
using Bonnie.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Bonnie.Web.Tests.Officers;

public sealed class OfficerTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly OfficerStore _store;
    private readonly OfficerAuditLog _audit;
    private readonly PasswordHasher<OfficerAccount> _hasher = new();
    private readonly OfficerOptions _options = new() { MaxFailedAttempts = 3, LockoutMinutes = 10 };

    public OfficerTests()
    {
        var data = TestData.DataDirectoryIn(_directory.Path);
        _store = new OfficerStore(data);
        _audit = new OfficerAuditLog(data, _time);
    }

    public void Dispose()
    {
        _audit.Dispose();
        _directory.Dispose();
    }

    private InitialAdministrator FirstStart(TextWriter console, InitialAdministratorOptions? configured = null) => new(
        _store, _hasher, _audit, Options.Create(new OfficerOptions { InitialAdministrator = configured ?? new() }),
        _time, console, NullLogger<InitialAdministrator>.Instance);

    private OfficerAccounts Accounts() => new(_store, _hasher, _audit, new StaticOptions(_options), _time);

    private LocalOfficerAuthenticator Authenticator() => new(_store, _hasher, new StaticOptions(_options), _time);

    [Fact]
    public async Task FirstStart_NothingConfigured_PrintsAOneTimePasswordOnceThatMustBeChanged()
    {
        using var console = new StringWriter();
        await FirstStart(console).StartAsync(CancellationToken.None);
        await FirstStart(console).StartAsync(CancellationToken.None);

        var output = console.ToString();
        var line = output.Split('\n').Single(l => l.Contains("one-time password:", StringComparison.Ordinal));
        var password = line.Split(':', 2)[1].Trim();
        var signIn = await Authenticator().AuthenticateAsync(InitialAdministrator.DefaultUserName, password);
        Assert.Equal(OfficerAuthenticationOutcome.Succeeded, signIn.Outcome);
        Assert.True(signIn.Officer!.MustChangePassword);
        Assert.Equal(BonnieRoles.Administrator, signIn.Officer.Role);
        Assert.Equal(20, password.Length);
    }

    [Fact]
    public async Task FirstStart_Configured_CreatesThatAdministratorAndPrintsNothing()
    {
        using var console = new StringWriter();

        await FirstStart(console, new InitialAdministratorOptions { UserName = "chief", Password = "a long enough secret" })
            .StartAsync(CancellationToken.None);

        Assert.Equal("", console.ToString());
        var signIn = await Authenticator().AuthenticateAsync("CHIEF", "a long enough secret");
        Assert.Equal(OfficerAuthenticationOutcome.Succeeded, signIn.Outcome);
        Assert.Equal("chief", signIn.Officer!.UserName);
        Assert.False(signIn.Officer.MustChangePassword);
    }

    [Fact]
    public async Task Authenticate_LockoutExpired_SignsInAgain()
    {
        await Accounts().CreateAsync("chief", "ann", "ann's long password", BonnieRoles.Auditor, false, null);
        for (var i = 0; i < 3; i++)
        {
            await Authenticator().AuthenticateAsync("ann", "wrong");
        }
        var locked = await Authenticator().AuthenticateAsync("ann", "ann's long password");

        _time.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));
        var later = await Authenticator().AuthenticateAsync("ann", "ann's long password");

        Assert.Equal(OfficerAuthenticationOutcome.LockedOut, locked.Outcome);
        Assert.Equal(_time.GetUtcNow() - TimeSpan.FromSeconds(1), locked.LockedUntil);
        Assert.Equal(OfficerAuthenticationOutcome.Succeeded, later.Outcome);
    }

    [Fact]
    public async Task SetOneTimePassword_LockedOfficerWhoForgotTheirs_SignsInWithItOnly_MustReplaceIt_Recorded()
    {
        // An officer who forgot their password had no way back in (a review).
        await Accounts().CreateAsync("chief", "ann", "ann's long password", BonnieRoles.Auditor, false, null);
        for (var i = 0; i < 3; i++)
        {
            await Authenticator().AuthenticateAsync("ann", "wrong");
        }
        Assert.Equal(OfficerAuthenticationOutcome.LockedOut, (await Authenticator().AuthenticateAsync("ann", "ann's long password")).Outcome);

        var set = await Accounts().SetOneTimePasswordAsync("chief", "ann", "a one-time secret for ann", "192.0.2.9");

        Assert.True(set.Succeeded);
        var signIn = await Authenticator().AuthenticateAsync("ann", "a one-time secret for ann");
        Assert.Equal(OfficerAuthenticationOutcome.Succeeded, signIn.Outcome);
        Assert.True(signIn.Officer!.MustChangePassword);
        Assert.NotEqual(OfficerAuthenticationOutcome.Succeeded, (await Authenticator().AuthenticateAsync("ann", "ann's long password")).Outcome);
        var (records, _) = await _audit.ReadPageAsync(0, 1);
        Assert.Equal(("chief", OfficerActions.OfficerPasswordSet, "ann", "192.0.2.9"), (records[0].Officer, records[0].Action, records[0].Target, records[0].ClientAddress));
        Assert.DoesNotContain("one-time secret", records[0].Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SetOneTimePassword_OwnOrWeakOrUnknown_IsRefused()
    {
        await Accounts().CreateAsync("chief", "ann", "ann's long password", BonnieRoles.Auditor, false, null);

        Assert.Contains("Change password", (await Accounts().SetOneTimePasswordAsync("ann", "ann", "a one-time secret for ann", null)).Errors.Single(), StringComparison.Ordinal);
        Assert.Contains("at least", (await Accounts().SetOneTimePasswordAsync("chief", "ann", "short", null)).Errors[0], StringComparison.Ordinal);
        Assert.Contains("no officer named", (await Accounts().SetOneTimePasswordAsync("chief", "nobody", "a one-time secret for ann", null)).Errors.Single(), StringComparison.Ordinal);
        Assert.Equal(OfficerAuthenticationOutcome.Succeeded, (await Authenticator().AuthenticateAsync("ann", "ann's long password")).Outcome);
    }

    [Fact]
    public async Task Create_BadInput_ReportsEveryProblem()
    {
        var result = await Accounts().CreateAsync("chief", "bad name!", "short", "Janitor", false, null);

        Assert.False(result.Succeeded);
        Assert.Equal(3, result.Errors.Count);
    }

    [Theory]
    [InlineData("bonnie")]
    [InlineData("Bonnie")]
    public async Task Create_TheNameBonnieRecordsItsOwnActionsUnder_IsRefused(string name)
    {
        // The audit filtered on "bonnie" mixed such an officer's sign-ins with Bonnie's own records (a review).
        var result = await Accounts().CreateAsync("chief", name, "a long enough password", BonnieRoles.Auditor, false, null);

        Assert.False(result.Succeeded);
        Assert.Contains("the name Bonnie records its own actions under", Assert.Single(result.Errors), StringComparison.Ordinal);
        Assert.Null(await _store.FindAsync(name));
    }

    [Fact]
    public async Task ChangeRole_LastAdministrator_IsRefused()
    {
        using var console = new StringWriter();
        await FirstStart(console).StartAsync(CancellationToken.None);

        var result = await Accounts().ChangeRoleAsync("admin", "admin", BonnieRoles.Auditor, null);

        Assert.False(result.Succeeded);
        Assert.Contains("last administrator", result.Errors.Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_Officer_IsRecordedInTheAuditLog()
    {
        await Accounts().CreateAsync("chief", "ann", "ann's long password", BonnieRoles.Investigator, true, "192.0.2.9");

        var (records, _) = await _audit.ReadPageAsync(0, 10);

        var record = Assert.Single(records);
        Assert.Equal(("chief", OfficerActions.OfficerCreated, "ann", "192.0.2.9"), (record.Officer, record.Action, record.Target, record.ClientAddress));
        Assert.Equal("{\"role\":\"Investigator\"}", record.Details);
    }

    [Fact]
    public async Task Disable_AnOfficerWhoLeft_CannotSignIn_AuditedAndEnabledAgainSignsIn()
    {
        // Found by a UI review: an officer who left could at best be demoted to Auditor and still read all the evidence.
        await Accounts().CreateAsync("chief", "ann", "ann's long password", BonnieRoles.Investigator, false, null);
        Assert.Equal(OfficerAuthenticationOutcome.Succeeded, (await Authenticator().AuthenticateAsync("ann", "ann's long password")).Outcome);

        Assert.True((await Accounts().SetDisabledAsync("chief", "ann", disabled: true, "192.0.2.9")).Succeeded);

        Assert.Equal(OfficerAuthenticationOutcome.Failed, (await Authenticator().AuthenticateAsync("ann", "ann's long password")).Outcome);
        var listed = Assert.Single(await Accounts().ListAsync(), o => o.UserName == "ann");
        Assert.Equal(_time.GetUtcNow(), listed.DisabledAt);

        Assert.True((await Accounts().SetDisabledAsync("chief", "ann", disabled: false, null)).Succeeded);

        Assert.Equal(OfficerAuthenticationOutcome.Succeeded, (await Authenticator().AuthenticateAsync("ann", "ann's long password")).Outcome);
        var (records, _) = await _audit.ReadPageAsync(0, 10);
        Assert.Equal([OfficerActions.OfficerCreated, OfficerActions.OfficerDisabled, OfficerActions.OfficerEnabled],
            records.OrderBy(r => r.Sequence).Select(r => r.Action));
    }

    [Fact]
    public async Task Disable_TheLastAdministratorOrOneself_IsRefused()
    {
        using var console = new StringWriter();
        await FirstStart(console).StartAsync(CancellationToken.None);
        await Accounts().CreateAsync("admin", "bo", "bo's long password!", BonnieRoles.Administrator, false, null);

        var self = await Accounts().SetDisabledAsync("admin", "admin", disabled: true, null);
        Assert.True((await Accounts().SetDisabledAsync("admin", "bo", disabled: true, null)).Succeeded);
        var last = await Accounts().SetDisabledAsync("someone", "admin", disabled: true, null);

        Assert.Contains("yourself", self.Errors.Single(), StringComparison.Ordinal);
        Assert.Contains("last administrator", last.Errors.Single(), StringComparison.Ordinal);
        // bo being disabled, admin is the last administrator who can act: demoting admin is refused too.
        Assert.False((await Accounts().ChangeRoleAsync("someone", "admin", BonnieRoles.Auditor, null)).Succeeded);
    }

    [Fact]
    public async Task OpenPage_OfficerDisabledOrGivenAnotherRole_NoLongerValid()
    {
        await Accounts().CreateAsync("chief", "eve", "eve's long password", BonnieRoles.Investigator, false, null);
        var principal = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity(
            [
                new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.Name, "eve"),
                new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.Role, BonnieRoles.Investigator),
                new System.Security.Claims.Claim(BonnieClaims.AuthenticationKind, LocalOfficerAuthenticator.Kind),
            ], "test"));

        Assert.True(await OfficerRevalidation.StillValidAsync(_store, principal, CancellationToken.None));
        await Accounts().ChangeRoleAsync("chief", "eve", BonnieRoles.Auditor, null);
        Assert.False(await OfficerRevalidation.StillValidAsync(_store, principal, CancellationToken.None));
        await Accounts().ChangeRoleAsync("chief", "eve", BonnieRoles.Investigator, null);
        await Accounts().SetDisabledAsync("chief", "eve", disabled: true, null);
        Assert.False(await OfficerRevalidation.StillValidAsync(_store, principal, CancellationToken.None));
    }

    [Fact]
    public async Task OfficersDbMadeBeforeDisabling_OpensWithItsAccountsEnabled()
    {
        // officers.db files from before 2026-12 have no disabled_at column: it is added on open, the accounts kept.
        var file = Path.Combine(_directory.Path, OfficerStore.FileName);
        await using (var old = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file};Pooling=False"))
        {
            await old.OpenAsync();
            await using var create = old.CreateCommand();
            create.CommandText = """
                CREATE TABLE officers(user_name TEXT NOT NULL PRIMARY KEY COLLATE NOCASE, role TEXT NOT NULL, password_hash TEXT NOT NULL,
                    must_change_password INTEGER NOT NULL, failed_attempts INTEGER NOT NULL DEFAULT 0, locked_until TEXT NULL, created_at TEXT NOT NULL);
                INSERT INTO officers VALUES ('old-timer', 'Auditor', 'x', 0, 0, NULL, '2026-01-01T00:00:00.0000000Z');
                """;
            await create.ExecuteNonQueryAsync();
        }

        var officer = Assert.Single(await new OfficerStore(TestData.DataDirectoryIn(_directory.Path)).ListAsync());

        Assert.Equal(("old-timer", false), (officer.UserName, officer.IsDisabled));
    }

    private sealed class StaticOptions(OfficerOptions value) : IOptionsMonitor<OfficerOptions>
    {
        public OfficerOptions CurrentValue => value;
        public OfficerOptions Get(string? name) => value;
        public IDisposable? OnChange(Action<OfficerOptions, string?> listener) => null;
    }
}
