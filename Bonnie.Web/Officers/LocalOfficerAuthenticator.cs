using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Bonnie.Web.Officers;

/// <summary>Officers whose accounts live in Bonnie's own store, with lockout after repeated failures.</summary>
internal sealed class LocalOfficerAuthenticator(
    OfficerStore store,
    IPasswordHasher<OfficerAccount> hasher,
    IOptionsMonitor<OfficerOptions> options,
    TimeProvider time) : IOfficerAuthenticator
{
    public const string Kind = "local";

    // Unknown names cost as much as wrong passwords, so timing does not tell which names exist.
    private readonly Lazy<(OfficerAccount Account, string Hash)> _decoy = new(() =>
    {
        var account = new OfficerAccount("decoy", "", "", false, 0, null, DateTimeOffset.UnixEpoch);
        return (account, hasher.HashPassword(account, Guid.NewGuid().ToString()));
    });

    public async Task<OfficerAuthentication> AuthenticateAsync(string userName, string password, CancellationToken cancellationToken = default)
    {
        var officer = await store.FindAsync(userName, cancellationToken);
        // A disabled officer is refused like an unknown name (at the same cost), so the answer does not tell which.
        if (officer is null || officer.IsDisabled)
        {
            hasher.VerifyHashedPassword(_decoy.Value.Account, _decoy.Value.Hash, password);
            return OfficerAuthentication.Failed;
        }

        var now = time.GetUtcNow();
        if (officer.LockedUntil is { } lockedUntil && lockedUntil > now)
        {
            return new OfficerAuthentication(OfficerAuthenticationOutcome.LockedOut, LockedUntil: lockedUntil);
        }

        var verdict = hasher.VerifyHashedPassword(officer, officer.PasswordHash, password);
        if (verdict == PasswordVerificationResult.Failed)
        {
            var settings = options.CurrentValue;
            var locked = await store.RecordFailureAsync(
                officer.UserName, now, settings.MaxFailedAttempts, TimeSpan.FromMinutes(settings.LockoutMinutes), cancellationToken);
            return locked is null
                ? OfficerAuthentication.Failed
                : new OfficerAuthentication(OfficerAuthenticationOutcome.LockedOut, LockedUntil: locked);
        }
        if (verdict == PasswordVerificationResult.SuccessRehashNeeded)
        {
            await store.SetPasswordAsync(officer.UserName, hasher.HashPassword(officer, password), officer.MustChangePassword, cancellationToken);
        }
        if (officer.FailedAttempts > 0 || officer.LockedUntil is not null)
        {
            await store.ClearFailuresAsync(officer.UserName, cancellationToken);
        }
        return new OfficerAuthentication(
            OfficerAuthenticationOutcome.Succeeded,
            new AuthenticatedOfficer(officer.UserName, officer.Role, officer.MustChangePassword, Kind));
    }
}
