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

    public static bool IsRole(string role) => BonnieRoles.All.Contains(role, StringComparer.Ordinal);
}
