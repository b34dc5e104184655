namespace Bonnie.Web.Officers;

/// <summary>
/// Checks an officer's user name and password. The local accounts are one implementation; a directory
/// (LDAP) one joins it later, and sign-in asks each in turn.
/// </summary>
public interface IOfficerAuthenticator
{
    /// <summary>Authenticates; never throws for a wrong name or password.</summary>
    Task<OfficerAuthentication> AuthenticateAsync(string userName, string password, CancellationToken cancellationToken = default);
}

public enum OfficerAuthenticationOutcome
{
    /// <summary>Name and password are right.</summary>
    Succeeded,
    /// <summary>Unknown name or wrong password; which one is not told.</summary>
    Failed,
    /// <summary>Too many failures in a row: the account is locked for a while.</summary>
    LockedOut,
}

/// <summary>The officer a successful sign-in produced.</summary>
/// <param name="UserName">The name as stored (its spelling, not the one typed).</param>
/// <param name="Role">One of the Bonnie roles.</param>
/// <param name="MustChangePassword">Signs in only to change the password.</param>
/// <param name="Kind"><c>local</c> or <c>directory</c>.</param>
public sealed record AuthenticatedOfficer(string UserName, string Role, bool MustChangePassword, string Kind);

public sealed record OfficerAuthentication(
    OfficerAuthenticationOutcome Outcome,
    AuthenticatedOfficer? Officer = null,
    DateTimeOffset? LockedUntil = null)
{
    public static OfficerAuthentication Failed { get; } = new(OfficerAuthenticationOutcome.Failed);
}
