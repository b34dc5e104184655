namespace Bonnie.Pipeline.Identity;

/// <summary>
/// Where and how login names are resolved to people (section <c>Bonnie:Identity</c>). Off unless
/// <see cref="Enabled"/>; then events keep their raw login names only.
/// </summary>
public sealed class IdentityOptions
{
    public const string Section = "Bonnie:Identity";

    public bool Enabled { get; set; }

    /// <summary>Tried in order until one answers: <c>ldap://host:389</c> or <c>ldaps://host:636</c>.</summary>
    public List<string> Servers { get; set; } = [];

    /// <summary>Upgrade <c>ldap://</c> connections with StartTLS (the certificate is always validated).</summary>
    public bool StartTls { get; set; }

    /// <summary>A directory of trusted CA certificates (OpenSSL hashed names); the system's when empty.</summary>
    public string? TrustedCertificatesDirectory { get; set; }

    /// <summary>The full DN Bonnie binds as; anonymous when empty.</summary>
    public string? BindDn { get; set; }

    /// <summary>Never logged.</summary>
    public string? BindPassword { get; set; }

    public List<string> BaseDns { get; set; } = [];

    /// <summary>Where groups are searched for groupOfNames/groupOfUniqueNames membership; <see cref="BaseDns"/> when empty.</summary>
    public List<string> GroupBaseDns { get; set; } = [];

    /// <summary>An extra filter every person must match, e.g. <c>(objectClass=inetOrgPerson)</c>.</summary>
    public string? PersonFilter { get; set; }

    /// <summary>A login name is looked up in each of these attributes.</summary>
    public List<string> LoginAttributes { get; set; } = ["mail", "alias", "uid", "mailAlternateAddress"];

    /// <summary>The attribute that survives renames: <c>entryUUID</c> (OpenLDAP), <c>nsUniqueId</c> (389/Kolab).</summary>
    public string PersistentIdAttribute { get; set; } = "entryUUID";

    /// <summary>The first of these present on the entry is the display name.</summary>
    public List<string> DisplayNameAttributes { get; set; } = ["displayName", "cn"];

    public List<string> AddressAttributes { get; set; } = ["mail", "alias", "mailAlternateAddress"];

    /// <summary>How group membership is found; any of <c>memberOf</c>, <c>groupOfNames</c>, <c>groupOfUniqueNames</c>.</summary>
    public List<string> GroupMembership { get; set; } = ["memberOf", "groupOfNames", "groupOfUniqueNames"];

    /// <summary>The attribute holding a person's roles (<c>nsRoleDN</c> on 389/Kolab); none when empty.</summary>
    public string? RolesAttribute { get; set; } = "nsRoleDN";

    /// <summary>
    /// ACL identifiers that are Cyrus administrators or service accounts (imapd.conf <c>admins:</c>): shown as such and
    /// never looked up, like <c>anyone</c> and <c>anonymous</c>.
    /// </summary>
    public List<string> AdminSubjects { get; set; } = ["admin", "cyrus"];

    /// <summary>How long a person found stays cached.</summary>
    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long "no such person" stays cached (short: the person may be created any moment).</summary>
    public TimeSpan NotFoundCacheTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Per server for connecting, binding and each search.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);
}
