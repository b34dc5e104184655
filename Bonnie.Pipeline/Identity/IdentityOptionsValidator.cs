using Microsoft.Extensions.Options;

namespace Bonnie.Pipeline.Identity;

/// <summary>Reports every mistake in <see cref="IdentityOptions"/> at once, so a start-up fails with all of them.</summary>
internal sealed class IdentityOptionsValidator : IValidateOptions<IdentityOptions>
{
    internal static readonly string[] KnownMembership = ["memberOf", "groupOfNames", "groupOfUniqueNames"];

    public ValidateOptionsResult Validate(string? name, IdentityOptions options)
    {
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        var errors = new List<string>();
        const string S = IdentityOptions.Section;
        if (options.Servers.Count == 0)
        {
            errors.Add($"{S}:Servers: name at least one server (ldap://host:389 or ldaps://host:636).");
        }

        foreach (var server in options.Servers)
        {
            if (!Uri.TryCreate(server, UriKind.Absolute, out var uri) || uri.Scheme is not ("ldap" or "ldaps")
                || string.IsNullOrEmpty(uri.Host))
            {
                errors.Add($"{S}:Servers: '{server}' is not an ldap:// or ldaps:// URI with a host.");
            }
            else if (uri.Scheme == "ldaps" && options.StartTls)
            {
                errors.Add($"{S}:StartTls: '{server}' is already LDAPS; StartTLS applies to ldap:// servers only.");
            }
        }

        if (string.IsNullOrWhiteSpace(options.BindDn) != string.IsNullOrEmpty(options.BindPassword))
        {
            errors.Add($"{S}:BindDn and {S}:BindPassword: give both (or neither, to bind anonymously).");
        }

        if (!string.IsNullOrWhiteSpace(options.BindDn) && !options.BindDn.Contains('=', StringComparison.Ordinal))
        {
            errors.Add($"{S}:BindDn: '{options.BindDn}' is not a full DN (e.g. cn=bonnie,ou=Services,dc=example,dc=org).");
        }

        if (options.BaseDns.Count == 0 || options.BaseDns.Any(string.IsNullOrWhiteSpace))
        {
            errors.Add($"{S}:BaseDns: name at least one base DN to search for people, none empty.");
        }

        if (options.LoginAttributes.Count == 0 || options.LoginAttributes.Any(a => !IsAttributeName(a)))
        {
            errors.Add($"{S}:LoginAttributes: name at least one attribute (mail, alias, uid, mailAlternateAddress...), attribute names only.");
        }

        if (!IsAttributeName(options.PersistentIdAttribute))
        {
            errors.Add($"{S}:PersistentIdAttribute: name the attribute that survives renames (entryUUID, nsUniqueId).");
        }

        if (options.DisplayNameAttributes.Count == 0 || options.DisplayNameAttributes.Any(a => !IsAttributeName(a)))
        {
            errors.Add($"{S}:DisplayNameAttributes: name at least one attribute (displayName, cn).");
        }

        if (options.AddressAttributes.Any(a => !IsAttributeName(a)))
        {
            errors.Add($"{S}:AddressAttributes: attribute names only.");
        }

        foreach (var membership in options.GroupMembership.Where(m => !KnownMembership.Contains(m, StringComparer.OrdinalIgnoreCase)))
        {
            errors.Add($"{S}:GroupMembership: '{membership}' is none of {string.Join(", ", KnownMembership)}.");
        }

        if (!string.IsNullOrEmpty(options.RolesAttribute) && !IsAttributeName(options.RolesAttribute))
        {
            errors.Add($"{S}:RolesAttribute: '{options.RolesAttribute}' is not an attribute name.");
        }

        if (!string.IsNullOrWhiteSpace(options.PersonFilter)
            && !(options.PersonFilter.StartsWith('(') && options.PersonFilter.EndsWith(')')))
        {
            errors.Add($"{S}:PersonFilter: '{options.PersonFilter}' must be an LDAP filter in parentheses.");
        }

        if (options.AdminSubjects.Any(string.IsNullOrWhiteSpace))
        {
            errors.Add($"{S}:AdminSubjects: names only, none empty.");
        }

        if (options.CacheTtl < TimeSpan.Zero || options.NotFoundCacheTtl < TimeSpan.Zero)
        {
            errors.Add($"{S}:CacheTtl and {S}:NotFoundCacheTtl: zero (no caching) or more.");
        }

        if (options.Timeout <= TimeSpan.Zero || options.Timeout > TimeSpan.FromMinutes(2))
        {
            errors.Add($"{S}:Timeout: between 0 and 2 minutes; events wait for it.");
        }

        if (!string.IsNullOrEmpty(options.TrustedCertificatesDirectory) && !Directory.Exists(options.TrustedCertificatesDirectory))
        {
            errors.Add($"{S}:TrustedCertificatesDirectory: '{options.TrustedCertificatesDirectory}' does not exist.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static bool IsAttributeName(string? name) =>
        !string.IsNullOrEmpty(name) && char.IsAsciiLetter(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or ';');
}
