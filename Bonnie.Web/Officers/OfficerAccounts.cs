using Bonnie.Web.Audit;
using Bonnie.Web.Security;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Bonnie.Web.Officers;

/// <summary>The outcome of an account change: done, or the reasons it was refused.</summary>
public sealed record OfficerAccountResult(IReadOnlyList<string> Errors)
{
    public bool Succeeded => Errors.Count == 0;
    public static OfficerAccountResult Done { get; } = new([]);
    public static OfficerAccountResult Refused(params string[] errors) => new(errors);
}

/// <summary>Creating officers, changing roles and passwords; every change goes to the officers' audit log.</summary>
internal sealed class OfficerAccounts(
    OfficerStore store,
    IPasswordHasher<OfficerAccount> hasher,
    IOfficerAudit audit,
    IOptionsMonitor<OfficerOptions> options,
    TimeProvider time,
    OtherNameLockout? otherNames = null)
{
    public Task<IReadOnlyList<OfficerAccount>> ListAsync(CancellationToken cancellationToken = default) =>
        store.ListAsync(cancellationToken);

    public async Task<OfficerAccountResult> CreateAsync(
        string actingOfficer, string userName, string password, string role, bool mustChangePassword,
        string? clientAddress, CancellationToken cancellationToken = default)
    {
        userName = userName.Trim();
        var errors = new List<string>();
        if (OfficerNames.Problem(userName) is { } nameProblem)
        {
            errors.Add("The user name " + nameProblem);
        }
        else if (OfficerNames.ReservedProblem(userName) is { } reserved)
        {
            errors.Add("The user name " + reserved);
        }
        if (!OfficerNames.IsRole(role))
        {
            errors.Add($"The role must be one of {string.Join(", ", BonnieRoles.All)}.");
        }
        errors.AddRange(PasswordProblems(password));
        if (errors.Count > 0)
        {
            return new OfficerAccountResult(errors);
        }

        var account = new OfficerAccount(userName, role, "", mustChangePassword, 0, null, time.GetUtcNow());
        account = account with { PasswordHash = hasher.HashPassword(account, password) };
        // Failures of the name before it was an account's lock it no more (OtherNameLockout).
        otherNames?.Forget(userName);
        if (!await store.TryCreateAsync(account, cancellationToken))
        {
            return OfficerAccountResult.Refused($"An officer named '{userName}' already exists.");
        }
        await audit.RecordAsync(new OfficerAuditEntry(actingOfficer, OfficerActions.OfficerCreated, userName,
            new Dictionary<string, string?> { ["role"] = role }, clientAddress), cancellationToken);
        return OfficerAccountResult.Done;
    }

    public async Task<OfficerAccountResult> ChangeRoleAsync(
        string actingOfficer, string userName, string role, string? clientAddress, CancellationToken cancellationToken = default)
    {
        if (!OfficerNames.IsRole(role))
        {
            return OfficerAccountResult.Refused($"The role must be one of {string.Join(", ", BonnieRoles.All)}.");
        }
        var officer = await store.FindAsync(userName, cancellationToken);
        if (officer is null)
        {
            return OfficerAccountResult.Refused($"There is no officer named '{userName}'.");
        }
        if (officer.Role == role)
        {
            return OfficerAccountResult.Done;
        }
        if (await RoleChangeRefusalAsync(officer, cancellationToken) is { } refusal)
        {
            return OfficerAccountResult.Refused(refusal);
        }
        await store.SetRoleAsync(officer.UserName, role, cancellationToken);
        await audit.RecordAsync(new OfficerAuditEntry(actingOfficer, OfficerActions.OfficerRoleChanged, officer.UserName,
            new Dictionary<string, string?> { ["from"] = officer.Role, ["to"] = role }, clientAddress), cancellationToken);
        return OfficerAccountResult.Done;
    }

    /// <summary>
    /// Why the officer's role may not be changed now, or null. The page asks before it asks for confirmation, so that a
    /// change that would be refused is not confirmed first (a review).
    /// </summary>
    public async Task<string?> RoleChangeRefusalAsync(string userName, CancellationToken cancellationToken = default)
        => await store.FindAsync(userName, cancellationToken) is { } officer ? await RoleChangeRefusalAsync(officer, cancellationToken) : null;

    private async Task<string?> RoleChangeRefusalAsync(OfficerAccount officer, CancellationToken cancellationToken) =>
        officer.Role == BonnieRoles.Administrator && await store.CountAdministratorsAsync(cancellationToken) <= 1
            ? "This is the last administrator: make someone else an administrator first."
            : null;

    /// <summary>Why the officer may not be disabled now by <paramref name="actingOfficer"/>, or null (see <see cref="RoleChangeRefusalAsync(string, CancellationToken)"/>).</summary>
    public async Task<string?> DisableRefusalAsync(string actingOfficer, string userName, CancellationToken cancellationToken = default)
        => await store.FindAsync(userName, cancellationToken) is { } officer ? await DisableRefusalAsync(actingOfficer, officer, cancellationToken) : null;

    private async Task<string?> DisableRefusalAsync(string actingOfficer, OfficerAccount officer, CancellationToken cancellationToken)
    {
        if (string.Equals(officer.UserName, actingOfficer, StringComparison.OrdinalIgnoreCase))
        {
            return "You cannot disable yourself; another administrator can.";
        }
        return officer.Role == BonnieRoles.Administrator && await store.CountAdministratorsAsync(cancellationToken) <= 1
            ? "This is the last administrator: make someone else an administrator first."
            : null;
    }

    public async Task<OfficerAccountResult> UnlockAsync(
        string actingOfficer, string userName, string? clientAddress, CancellationToken cancellationToken = default)
    {
        otherNames?.Forget(userName);
        if (!await store.ClearFailuresAsync(userName, cancellationToken))
        {
            return OfficerAccountResult.Refused($"There is no officer named '{userName}'.");
        }
        await audit.RecordAsync(new OfficerAuditEntry(actingOfficer, OfficerActions.OfficerUnlocked, userName,
            ClientAddress: clientAddress), cancellationToken);
        return OfficerAccountResult.Done;
    }

    /// <summary>
    /// Disables an officer (one who left, or must stop acting now) or enables them again. A disabled officer cannot sign in,
    /// and a session of theirs is refused at its next request (the cookie is checked against the account on each). The
    /// account stays, so the audit log's records of what they did keep naming an officer Bonnie knows.
    /// </summary>
    public async Task<OfficerAccountResult> SetDisabledAsync(
        string actingOfficer, string userName, bool disabled, string? clientAddress, CancellationToken cancellationToken = default)
    {
        var officer = await store.FindAsync(userName, cancellationToken);
        if (officer is null)
        {
            return OfficerAccountResult.Refused($"There is no officer named '{userName}'.");
        }
        if (officer.IsDisabled == disabled)
        {
            return OfficerAccountResult.Done;
        }
        if (disabled && await DisableRefusalAsync(actingOfficer, officer, cancellationToken) is { } refusal)
        {
            return OfficerAccountResult.Refused(refusal);
        }
        await store.SetDisabledAsync(officer.UserName, disabled ? time.GetUtcNow() : null, cancellationToken);
        if (!disabled)
        {
            // Its failures while disabled were counted as an unknown name's (OtherNameLockout): enabled, it starts clean.
            otherNames?.Forget(officer.UserName);
        }
        await audit.RecordAsync(new OfficerAuditEntry(actingOfficer, disabled ? OfficerActions.OfficerDisabled : OfficerActions.OfficerEnabled,
            officer.UserName, ClientAddress: clientAddress), cancellationToken);
        return OfficerAccountResult.Done;
    }

    /// <summary>
    /// An administrator gives another officer a one-time password (one who forgot theirs had no way back in): they must
    /// replace it at their next sign-in, a lock from failed sign-ins is lifted, and a session of theirs still open ends at
    /// its next request (the cookie is checked against the account on each). Their own password an officer changes
    /// themselves, giving the current one.
    /// </summary>
    public async Task<OfficerAccountResult> SetOneTimePasswordAsync(
        string actingOfficer, string userName, string oneTimePassword, string? clientAddress, CancellationToken cancellationToken = default)
    {
        var officer = await store.FindAsync(userName, cancellationToken);
        if (officer is null)
        {
            return OfficerAccountResult.Refused($"There is no officer named '{userName}'.");
        }
        if (string.Equals(officer.UserName, actingOfficer, StringComparison.OrdinalIgnoreCase))
        {
            return OfficerAccountResult.Refused("Your own password you change under Change password, with your current one.");
        }
        var problems = PasswordProblems(oneTimePassword).ToList();
        if (problems.Count > 0)
        {
            return new OfficerAccountResult(problems);
        }
        await store.SetPasswordAsync(officer.UserName, hasher.HashPassword(officer, oneTimePassword), mustChange: true, cancellationToken);
        await store.ClearFailuresAsync(officer.UserName, cancellationToken);
        otherNames?.Forget(officer.UserName);
        await audit.RecordAsync(new OfficerAuditEntry(actingOfficer, OfficerActions.OfficerPasswordSet, officer.UserName,
            ClientAddress: clientAddress), cancellationToken);
        return OfficerAccountResult.Done;
    }

    /// <summary>An officer replaces their own password; the current one must be given.</summary>
    public async Task<OfficerAccountResult> ChangePasswordAsync(
        string userName, string currentPassword, string newPassword, string? clientAddress, CancellationToken cancellationToken = default)
    {
        var officer = await store.FindAsync(userName, cancellationToken);
        if (officer is null || hasher.VerifyHashedPassword(officer, officer.PasswordHash, currentPassword) == PasswordVerificationResult.Failed)
        {
            return OfficerAccountResult.Refused("The current password is not right.");
        }
        var problems = PasswordProblems(newPassword).ToList();
        if (string.Equals(currentPassword, newPassword, StringComparison.Ordinal))
        {
            problems.Add("The new password must differ from the current one.");
        }
        if (problems.Count > 0)
        {
            return new OfficerAccountResult(problems);
        }
        await store.SetPasswordAsync(officer.UserName, hasher.HashPassword(officer, newPassword), mustChange: false, cancellationToken);
        await audit.RecordAsync(new OfficerAuditEntry(officer.UserName, OfficerActions.PasswordChanged, officer.UserName,
            ClientAddress: clientAddress), cancellationToken);
        return OfficerAccountResult.Done;
    }

    private IEnumerable<string> PasswordProblems(string password)
    {
        var minimum = options.CurrentValue.MinimumPasswordLength;
        if (password.Length < minimum)
        {
            yield return $"The password must be at least {minimum} characters long.";
        }
        if (!string.IsNullOrEmpty(password) && password.Distinct().Count() < 4)
        {
            yield return "The password must use at least 4 different characters.";
        }
    }
}
