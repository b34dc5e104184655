using Microsoft.Extensions.Options;

namespace Bonnie.Web.Security;

/// <summary>The <c>Bonnie</c> section's security settings.</summary>
public sealed class SecurityOptions
{
    public List<ApiKeyOptions> ApiKeys { get; set; } = [];
}

internal sealed class ValidateSecurityOptions : IValidateOptions<SecurityOptions>
{
    public ValidateOptionsResult Validate(string? name, SecurityOptions options)
    {
        var errors = new List<string>();
        for (var i = 0; i < options.ApiKeys.Count; i++)
        {
            var key = options.ApiKeys[i];
            if (string.IsNullOrWhiteSpace(key.Name))
            {
                errors.Add($"Bonnie:ApiKeys:{i}:Name is required.");
            }
            if (key.Key.Length < 24)
            {
                // Short keys can be guessed; the value itself is never echoed.
                errors.Add($"Bonnie:ApiKeys:{i}:Key must be at least 24 characters long.");
            }
            if (!BonnieRoles.All.Contains(key.Role, StringComparer.Ordinal))
            {
                errors.Add($"Bonnie:ApiKeys:{i}:Role must be one of {string.Join(", ", BonnieRoles.All)} (was '{key.Role}').");
            }
        }
        var duplicates = options.ApiKeys.GroupBy(k => k.Key).Where(g => g.Key.Length > 0 && g.Count() > 1).SelectMany(g => g.Select(k => k.Name));
        foreach (var dup in duplicates)
        {
            errors.Add($"Bonnie:ApiKeys: the key named '{dup}' is the same as another key.");
        }
        // A key's calls are recorded in the officers' audit under its name, read without regard to case: two keys of one
        // name could not be told apart there.
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < options.ApiKeys.Count; i++)
        {
            var keyName = options.ApiKeys[i].Name.Trim();
            if (keyName.Length > 0 && !seen.Add(keyName))
            {
                errors.Add($"Bonnie:ApiKeys:{i}:Name '{keyName}' is the name of another key too: each key needs its own name.");
            }
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
