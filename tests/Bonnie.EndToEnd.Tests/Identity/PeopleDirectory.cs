using Bonnie.EndToEnd.Tests.Neighbours;
using Bonnie.Pipeline.Identity;

namespace Bonnie.EndToEnd.Tests.Identity;

/// <summary>A slapd holding people and groups as a mail directory does, and resolver options pointing at it.</summary>
public class PeopleDirectory : SlapdFixture
{
    protected override string SeedLdif => """
        dn: ou=People,dc=example,dc=org
        objectClass: organizationalUnit
        ou: People

        dn: ou=Groups,dc=example,dc=org
        objectClass: organizationalUnit
        ou: Groups

        dn: uid=alice,ou=People,dc=example,dc=org
        objectClass: inetOrgPerson
        objectClass: bonnieMailRecipient
        uid: alice
        cn: Alice Example
        displayName: Alice Example-Smith
        sn: Example
        mail: alice@example.org
        alias: a.example@example.org
        mailAlternateAddress: alice.alt@example.org
        employeeType: officer

        dn: uid=jane.gi,ou=People,dc=example,dc=org
        objectClass: inetOrgPerson
        uid: jane.gi
        cn: Jane Gi
        sn: Gi
        mail: jane.gi@example.org

        dn: uid=jdoe2,ou=People,dc=example,dc=org
        objectClass: inetOrgPerson
        uid: jdoe2
        cn: John Doe
        sn: Doe
        mail: j.doe2@example.org

        dn: uid=mallory,ou=People,dc=example,dc=org
        objectClass: inetOrgPerson
        uid: mallory
        cn: Mallory Leaver
        sn: Leaver
        mail: mallory@example.org

        dn: uid=twin1,ou=People,dc=example,dc=org
        objectClass: inetOrgPerson
        uid: twin1
        cn: Twin One
        sn: One
        mail: twins@example.org

        dn: uid=twin2,ou=People,dc=example,dc=org
        objectClass: inetOrgPerson
        uid: twin2
        cn: Twin Two
        sn: Two
        mail: twins@example.org

        dn: cn=auditors,ou=Groups,dc=example,dc=org
        objectClass: groupOfNames
        cn: auditors
        member: uid=alice,ou=People,dc=example,dc=org
        member: uid=jane.gi,ou=People,dc=example,dc=org

        dn: cn=legal,ou=Groups,dc=example,dc=org
        objectClass: groupOfUniqueNames
        cn: legal
        uniqueMember: uid=alice,ou=People,dc=example,dc=org
        """;

    /// <summary>Jane marries: jane.gi becomes jane.doe (new RDN, mail and cn; the entryUUID stays).</summary>
    public Task RenameJaneAsync() => ModifyAsync("""
        dn: uid=jane.gi,ou=People,dc=example,dc=org
        changetype: modrdn
        newrdn: uid=jane.doe
        deleteoldrdn: 1

        dn: uid=jane.doe,ou=People,dc=example,dc=org
        changetype: modify
        replace: mail
        mail: jane.doe@example.org
        -
        replace: cn
        cn: Jane Doe
        """);

    public IdentityOptions Options(Action<IdentityOptions>? change = null)
    {
        var options = new IdentityOptions
        {
            Enabled = true,
            Servers = [Uri],
            BindDn = RootDn,
            BindPassword = RootPassword,
            BaseDns = ["ou=People," + BaseDn],
            GroupBaseDns = ["ou=Groups," + BaseDn],
            RolesAttribute = "employeeType",
            Timeout = TimeSpan.FromSeconds(3),
        };
        change?.Invoke(options);
        return options;
    }
}

/// <summary>The same people behind StartTLS and LDAPS.</summary>
public sealed class SecurePeopleDirectory : PeopleDirectory
{
    protected override bool Tls => true;
}

/// <summary>The same people, and Rita holding 389/Kolab managed roles in nsRoleDN (tests/TestData/ldap/nsrole.schema).</summary>
public sealed class RolesDirectory : PeopleDirectory
{
    public const string MailAdmins = "cn=mail-admins,ou=Roles,dc=example,dc=org";
    public const string Auditors = "cn=auditors,ou=Roles,dc=example,dc=org";

    protected override IReadOnlyList<string> ExtraSchemas => ["nsrole.schema"];

    protected override string SeedLdif => base.SeedLdif + $"""


        dn: uid=rita,ou=People,dc=example,dc=org
        objectClass: inetOrgPerson
        objectClass: bonnieManagedRoles
        uid: rita
        cn: Rita Roles
        sn: Roles
        mail: rita@example.org
        nsRoleDN: {MailAdmins}
        nsRoleDN: {Auditors}
        """;

    /// <summary>Rita loses a role after the fact.</summary>
    public Task DropMailAdminAsync() => ModifyAsync($"""
        dn: uid=rita,ou=People,dc=example,dc=org
        changetype: modify
        delete: nsRoleDN
        nsRoleDN: {MailAdmins}
        """);
}
