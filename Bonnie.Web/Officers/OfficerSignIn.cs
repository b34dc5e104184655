using System.Collections.Concurrent;
using System.Security.Claims;
using Bonnie.Web.Audit;
using Bonnie.Web.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;

namespace Bonnie.Web.Officers;

/// <summary>Signs officers in and out with the cookie, recording every attempt in the officers' audit log.</summary>
internal sealed class OfficerSignIn(
    IEnumerable<IOfficerAuthenticator> authenticators,
    IOfficerAudit audit,
    OfficerStore store,
    IOptionsMonitor<OfficerOptions> options,
    TimeProvider time,
    ILogger<OfficerSignIn> logger)
{
    // Failures of names that are no usable local account (unknown, disabled, or the directory's), in memory: a local
    // account locked after five failures while an unknown name was refused for ever, so the answer told which names
    // exist (a review). Each now locks alike; a restart forgets them, which only lets an attacker start over.
    private readonly ConcurrentDictionary<string, (int Failures, DateTimeOffset? LockedUntil)> _otherNames = new(StringComparer.OrdinalIgnoreCase);

    // So that a flood of invented names cannot fill the memory: past this many names they are forgotten all at once.
    private const int MostOtherNames = 10_000;

    public async Task<OfficerAuthentication> SignInAsync(
        HttpContext http, string userName, string password, CancellationToken cancellationToken = default)
    {
        var client = http.Connection.RemoteIpAddress?.ToString();
        var typed = userName.Length > 64 ? userName[..64] : userName;
        var now = time.GetUtcNow();

        var result = OfficerAuthentication.Failed;
        if (_otherNames.TryGetValue(typed, out var other) && other.LockedUntil is { } otherLock && otherLock > now)
        {
            result = new OfficerAuthentication(OfficerAuthenticationOutcome.LockedOut, LockedUntil: otherLock);
        }
        else
        {
            foreach (var authenticator in authenticators)
            {
                result = await authenticator.AuthenticateAsync(userName, password, cancellationToken);
                if (result.Outcome != OfficerAuthenticationOutcome.Failed)
                {
                    break;
                }
            }
            if (result.Outcome == OfficerAuthenticationOutcome.Failed
                && await store.FindAsync(typed, cancellationToken) is null or { IsDisabled: true })
            {
                result = CountOtherNameFailure(typed, now);
            }
            else if (result.Outcome == OfficerAuthenticationOutcome.Succeeded)
            {
                _otherNames.TryRemove(typed, out _);
            }
        }

        switch (result.Outcome)
        {
            case OfficerAuthenticationOutcome.Succeeded:
                var officer = result.Officer!;
                await audit.RecordAsync(new OfficerAuditEntry(officer.UserName, OfficerActions.SignIn,
                    Details: new Dictionary<string, string?> { ["kind"] = officer.Kind, ["role"] = officer.Role },
                    ClientAddress: client), cancellationToken);
                await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, Principal(officer));
                logger.LogInformation("Officer {Officer} signed in from {Client}", officer.UserName, client);
                break;
            case OfficerAuthenticationOutcome.LockedOut:
                await audit.RecordAsync(new OfficerAuditEntry(typed, OfficerActions.SignInLockedOut,
                    Details: new Dictionary<string, string?> { ["lockedUntil"] = result.LockedUntil?.ToString("O") },
                    ClientAddress: client), cancellationToken);
                logger.LogWarning("Sign-in refused for locked account {Officer} from {Client}", typed, client);
                break;
            default:
                await audit.RecordAsync(new OfficerAuditEntry(typed, OfficerActions.SignInFailed, ClientAddress: client), cancellationToken);
                logger.LogWarning("Failed sign-in as {Officer} from {Client}", typed, client);
                break;
        }
        return result;
    }

    private OfficerAuthentication CountOtherNameFailure(string name, DateTimeOffset now)
    {
        if (_otherNames.Count >= MostOtherNames)
        {
            _otherNames.Clear();
        }
        var settings = options.CurrentValue;
        var counted = _otherNames.AddOrUpdate(name, (1, null), (_, was) => (was.LockedUntil is { } until && until <= now ? 1 : was.Failures + 1, null));
        if (counted.Failures < settings.MaxFailedAttempts)
        {
            return OfficerAuthentication.Failed;
        }
        var lockedUntil = now.AddMinutes(settings.LockoutMinutes);
        _otherNames[name] = (0, lockedUntil);
        return new OfficerAuthentication(OfficerAuthenticationOutcome.LockedOut, LockedUntil: lockedUntil);
    }

    public async Task SignOutAsync(HttpContext http, CancellationToken cancellationToken = default)
    {
        if (http.User.Identity?.IsAuthenticated == true)
        {
            await audit.RecordAsync(new OfficerAuditEntry(http.User.Identity.Name ?? "?", OfficerActions.SignOut,
                ClientAddress: http.Connection.RemoteIpAddress?.ToString()), cancellationToken);
        }
        await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
    }

    public static ClaimsPrincipal Principal(AuthenticatedOfficer officer)
    {
        List<Claim> claims =
        [
            new(ClaimTypes.Name, officer.UserName),
            new(ClaimTypes.Role, officer.Role),
            new(BonnieClaims.AuthenticationKind, officer.Kind),
        ];
        if (officer.MustChangePassword)
        {
            claims.Add(new Claim(OfficerClaims.MustChangePassword, "true"));
        }
        return new ClaimsPrincipal(new ClaimsIdentity(claims, CookieAuthenticationDefaults.AuthenticationScheme));
    }
}

internal static class OfficerClaims
{
    /// <summary>Present while the officer still has to replace a one-time password.</summary>
    public const string MustChangePassword = "bonnie:must-change-password";
}
