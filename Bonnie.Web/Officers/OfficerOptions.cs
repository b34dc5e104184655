using Bonnie.Web.Security;
using Microsoft.Extensions.Options;

namespace Bonnie.Web.Officers;

/// <summary>The <c>Bonnie:Officers</c> section.</summary>
public sealed class OfficerOptions
{
    public const string Section = "Bonnie:Officers";

    /// <summary>The administrator created on first start when no administrator exists yet.</summary>
    public InitialAdministratorOptions InitialAdministrator { get; set; } = new();

    /// <summary>Failed sign-ins in a row that lock an account.</summary>
    public int MaxFailedAttempts { get; set; } = 5;

    /// <summary>How long a locked account stays locked.</summary>
    public int LockoutMinutes { get; set; } = 15;

    /// <summary>The shortest password an officer may choose.</summary>
    public int MinimumPasswordLength { get; set; } = 12;

    /// <summary>Directory accounts (needs <c>Bonnie:Identity</c>): bind as the person, role from group membership.</summary>
    public DirectoryOfficerOptions Directory { get; set; } = new();
}

/// <summary>
/// <c>Bonnie:Officers:Directory</c>: which directory group makes a person which officer. <see cref="Groups"/> maps a
/// role to a group's name (its cn) or DN, e.g. <c>Bonnie__Officers__Directory__Groups__Investigator=legal-hold</c>.
/// A person in several gets the highest role; a person in none is not an officer.
/// </summary>
public sealed class DirectoryOfficerOptions
{
    public bool Enabled { get; set; }
    public Dictionary<string, string> Groups { get; set; } = new(StringComparer.Ordinal);
}

public sealed class InitialAdministratorOptions
{
    public string? UserName { get; set; }
    public string? Password { get; set; }
}

internal sealed class ValidateOfficerOptions : IValidateOptions<OfficerOptions>
{
    public ValidateOptionsResult Validate(string? name, OfficerOptions options)
    {
        var errors = new List<string>();
        if (options.MaxFailedAttempts is < 1 or > 100)
        {
            errors.Add($"{OfficerOptions.Section}:MaxFailedAttempts must be between 1 and 100 (was {options.MaxFailedAttempts}).");
        }
        if (options.LockoutMinutes is < 1 or > 1440)
        {
            errors.Add($"{OfficerOptions.Section}:LockoutMinutes must be between 1 and 1440 (was {options.LockoutMinutes}).");
        }
        if (options.MinimumPasswordLength is < 8 or > 128)
        {
            errors.Add($"{OfficerOptions.Section}:MinimumPasswordLength must be between 8 and 128 (was {options.MinimumPasswordLength}).");
        }

        if (options.Directory.Enabled)
        {
            if (options.Directory.Groups.Count == 0)
            {
                errors.Add($"{OfficerOptions.Section}:Directory:Groups must map at least one role to a directory group.");
            }
            foreach (var role in options.Directory.Groups.Keys.Where(r => !OfficerNames.IsRole(r)))
            {
                errors.Add($"{OfficerOptions.Section}:Directory:Groups:{role} is not a role ({string.Join(", ", BonnieRoles.All)}).");
            }
        }

        var admin = options.InitialAdministrator;
        var hasName = !string.IsNullOrEmpty(admin.UserName);
        var hasPassword = !string.IsNullOrEmpty(admin.Password);
        if (hasName != hasPassword)
        {
            errors.Add($"{OfficerOptions.Section}:InitialAdministrator needs both UserName and Password, or neither (then a one-time password is printed on first start).");
        }
        if (hasName && OfficerNames.Problem(admin.UserName!) is { } problem)
        {
            errors.Add($"{OfficerOptions.Section}:InitialAdministrator:UserName {problem}");
        }
        if (hasPassword && admin.Password!.Length < options.MinimumPasswordLength)
        {
            // Never echo the password itself.
            errors.Add($"{OfficerOptions.Section}:InitialAdministrator:Password must be at least {options.MinimumPasswordLength} characters long.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

internal static class OfficerNames
{
    /// <summary>
    /// The name Bonnie records its own actions under in the officers' audit (the first administrator's creation). No
    /// officer may carry it: a review created an officer "bonnie", and the audit filtered on bonnie mixed their sign-ins
    /// with Bonnie's own records.
    /// </summary>
    public const string System = "bonnie";

    /// <summary>Why a user name is not acceptable, or null when it is.</summary>
    public static string? Problem(string userName)
    {
        if (userName.Length is 0 or > 64)
        {
            return "must be 1 to 64 characters long.";
        }

        return userName.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '@')
            ? null
            : "may contain only letters, digits and . _ - @.";
    }

    /// <summary>
    /// Why an officer created now may not carry the name, beyond <see cref="Problem"/>: it is Bonnie's own. Not part of the
    /// options' validation, so an install whose first administrator was configured as bonnie before still starts.
    /// </summary>
    public static string? ReservedProblem(string userName) => string.Equals(userName, System, StringComparison.OrdinalIgnoreCase)
        ? $"\"{System}\" is the name Bonnie records its own actions under in the officers' audit; choose another."
        : null;

    public static bool IsRole(string role) => BonnieRoles.All.Contains(role, StringComparer.Ordinal);
}
