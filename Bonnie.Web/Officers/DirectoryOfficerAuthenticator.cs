using Bonnie.Pipeline.Identity;
using Bonnie.Web.Security;
using Microsoft.Extensions.Options;

namespace Bonnie.Web.Officers;

/// <summary>
/// Officers who sign in with their directory account: the name is resolved to the person's entry, the password
/// checked by binding as that entry, and the role taken from the groups the person is in right now. Lockout is
/// the directory's own (password policy); every attempt is in the officers' audit log.
/// </summary>
internal sealed partial class DirectoryOfficerAuthenticator(
    DirectoryResolver directory, IOptions<OfficerOptions> options, ILogger<DirectoryOfficerAuthenticator> logger) : IOfficerAuthenticator
{
    public const string Kind = "directory";

    public async Task<OfficerAuthentication> AuthenticateAsync(string userName, string password, CancellationToken cancellationToken = default)
    {
        var settings = options.Value.Directory;
        if (!settings.Enabled || string.IsNullOrWhiteSpace(userName) || string.IsNullOrEmpty(password))
        {
            return OfficerAuthentication.Failed;
        }
        var resolution = await directory.ResolveAsync(userName, cancellationToken);
        if (resolution is not Resolution.Resolved { Person: var person })
        {
            if (resolution is Resolution.DirectoryUnavailable unavailable)
            {
                LogUnavailable(logger, unavailable.Reason);
            }
            return OfficerAuthentication.Failed;
        }
        var role = RoleOf(person, settings);
        if (role is null)
        {
            // Checked before the password, and answered the same as a wrong one: who is an officer is not told.
            LogNotAnOfficer(logger, person.DistinguishedName);
            return OfficerAuthentication.Failed;
        }
        switch (await directory.CheckPasswordAsync(person.DistinguishedName, password, cancellationToken))
        {
            case PasswordCheck.Right:
                return new OfficerAuthentication(OfficerAuthenticationOutcome.Succeeded,
                    new AuthenticatedOfficer(userName.Trim().ToLowerInvariant(), role, MustChangePassword: false, Kind));
            case PasswordCheck.Unavailable:
                LogUnavailable(logger, "no directory server answered the password check");
                return OfficerAuthentication.Failed;
            default:
                return OfficerAuthentication.Failed;
        }
    }

    /// <summary>The highest role any of the person's groups gives; null when none does.</summary>
    internal static string? RoleOf(PersonSnapshot person, DirectoryOfficerOptions settings) => BonnieRoles.All
        .Reverse()
        .FirstOrDefault(role => settings.Groups.TryGetValue(role, out var group) && person.Groups.Any(g =>
            string.Equals(g.Name, group, StringComparison.OrdinalIgnoreCase)
            || string.Equals(g.DistinguishedName, group, StringComparison.OrdinalIgnoreCase)));

    [LoggerMessage(1, LogLevel.Warning, "Directory sign-in impossible: {Reason}")]
    private static partial void LogUnavailable(ILogger logger, string reason);

    [LoggerMessage(2, LogLevel.Information, "Directory sign-in refused: {Person} is in no officers' group")]
    private static partial void LogNotAnOfficer(ILogger logger, string person);
}
