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
    OtherNameLockout otherNames,
    IOptionsMonitor<OfficerOptions> options,
    TimeProvider time,
    ILogger<OfficerSignIn> logger)
{
    public async Task<OfficerAuthentication> SignInAsync(
        HttpContext http, string userName, string password, CancellationToken cancellationToken = default)
    {
        var client = http.Connection.RemoteIpAddress?.ToString();
        var typed = userName.Length > 64 ? userName[..64] : userName;
        var now = time.GetUtcNow();

        var result = OfficerAuthentication.Failed;
        if (otherNames.LockedUntil(userName, now) is { } otherLock)
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
            // The full name, as the authenticators were given it: a name cut to 64 characters could be an officer's.
            if (result.Outcome == OfficerAuthenticationOutcome.Failed
                && await store.FindAsync(userName, cancellationToken) is null or { IsDisabled: true })
            {
                var settings = options.CurrentValue;
                if (otherNames.Fail(userName, now, settings.MaxFailedAttempts, TimeSpan.FromMinutes(settings.LockoutMinutes)) is { } lockedUntil)
                {
                    result = new OfficerAuthentication(OfficerAuthenticationOutcome.LockedOut, LockedUntil: lockedUntil);
                }
            }
            else if (result.Outcome == OfficerAuthenticationOutcome.Succeeded)
            {
                otherNames.Forget(userName);
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
