using Bonnie.EndToEnd.Tests.Neighbours;
using Bonnie.Pipeline.Identity;
using Bonnie.Web.Officers;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Bonnie.EndToEnd.Tests.Identity;

/// <summary>Officers signing in with their directory account, against a real slapd.</summary>
public sealed class DirectoryOfficerTests(OfficersDirectory directory) : IClassFixture<OfficersDirectory>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Authenticate_RightPasswordInTheInvestigatorsGroup_InvestigatorFromTheDirectory()
    {
        using var cancel = new CancellationTokenSource(Timeout);

        var result = await Authenticator().AuthenticateAsync("Ivy@example.org", OfficersDirectory.IvyPassword, cancel.Token);

        Assert.Equal(OfficerAuthenticationOutcome.Succeeded, result.Outcome);
        Assert.Equal(new AuthenticatedOfficer("ivy@example.org", "Investigator", false, "directory"), result.Officer);
    }

    [Fact]
    public async Task Authenticate_InBothGroups_TheHigherRole()
    {
        using var cancel = new CancellationTokenSource(Timeout);

        var result = await Authenticator().AuthenticateAsync("ada", OfficersDirectory.AdaPassword, cancel.Token);

        Assert.Equal("Administrator", result.Officer?.Role);
    }

    [Theory]
    [InlineData("ivy@example.org", "wrong-password")]
    [InlineData("ivy@example.org", "")]
    [InlineData("otto@example.org", OfficersDirectory.OttoPassword)]
    [InlineData("nobody@example.org", "whatever-it-is")]
    [InlineData("*)(uid=*", "whatever-it-is")]
    public async Task Authenticate_WrongPasswordEmptyPasswordNoGroupOrUnknown_Failed(string user, string password)
    {
        using var cancel = new CancellationTokenSource(Timeout);

        var result = await Authenticator().AuthenticateAsync(user, password, cancel.Token);

        Assert.Equal(OfficerAuthenticationOutcome.Failed, result.Outcome);
        Assert.Null(result.Officer);
    }

    [Fact]
    public async Task Authenticate_DirectoryDisabledForOfficers_Failed()
    {
        using var cancel = new CancellationTokenSource(Timeout);

        var result = await Authenticator(enabled: false).AuthenticateAsync("ivy@example.org", OfficersDirectory.IvyPassword, cancel.Token);

        Assert.Equal(OfficerAuthenticationOutcome.Failed, result.Outcome);
    }

    [Fact]
    public async Task Authenticate_DirectoryDown_FailedWithoutThrowing()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var authenticator = Authenticator();
        await directory.StopAsync();
        try
        {
            var result = await authenticator.AuthenticateAsync("ivy@example.org", OfficersDirectory.IvyPassword, cancel.Token);

            Assert.Equal(OfficerAuthenticationOutcome.Failed, result.Outcome);
        }
        finally
        {
            await directory.StartAsync();
        }
    }

    private DirectoryOfficerAuthenticator Authenticator(bool enabled = true)
    {
        var resolver = new DirectoryResolver(Options.Create(directory.Options()), TimeProvider.System, NullLogger<DirectoryResolver>.Instance);
        var officers = new OfficerOptions
        {
            Directory = new DirectoryOfficerOptions
            {
                Enabled = enabled,
                Groups = new(StringComparer.Ordinal)
                {
                    ["Investigator"] = "bonnie-investigators",
                    ["Administrator"] = "cn=bonnie-admins,ou=Groups,dc=example,dc=org",
                },
            },
        };
        return new DirectoryOfficerAuthenticator(resolver, Options.Create(officers), NullLogger<DirectoryOfficerAuthenticator>.Instance);
    }
}

/// <summary>People with passwords, some in the officers' groups.</summary>
public sealed class OfficersDirectory : SlapdFixture
{
    public const string IvyPassword = "ivy-directory-secret";
    public const string AdaPassword = "ada-directory-secret";
    public const string OttoPassword = "otto-directory-secret";

    protected override string SeedLdif => $"""
        dn: ou=People,dc=example,dc=org
        objectClass: organizationalUnit
        ou: People

        dn: ou=Groups,dc=example,dc=org
        objectClass: organizationalUnit
        ou: Groups

        dn: uid=ivy,ou=People,dc=example,dc=org
        objectClass: inetOrgPerson
        uid: ivy
        cn: Ivy Investigator
        sn: Investigator
        mail: ivy@example.org
        userPassword: {IvyPassword}

        dn: uid=ada,ou=People,dc=example,dc=org
        objectClass: inetOrgPerson
        uid: ada
        cn: Ada Admin
        sn: Admin
        mail: ada@example.org
        userPassword: {AdaPassword}

        dn: uid=otto,ou=People,dc=example,dc=org
        objectClass: inetOrgPerson
        uid: otto
        cn: Otto Outsider
        sn: Outsider
        mail: otto@example.org
        userPassword: {OttoPassword}

        dn: cn=bonnie-investigators,ou=Groups,dc=example,dc=org
        objectClass: groupOfNames
        cn: bonnie-investigators
        member: uid=ivy,ou=People,dc=example,dc=org
        member: uid=ada,ou=People,dc=example,dc=org

        dn: cn=bonnie-admins,ou=Groups,dc=example,dc=org
        objectClass: groupOfNames
        cn: bonnie-admins
        member: uid=ada,ou=People,dc=example,dc=org
        """;

    public IdentityOptions Options() => new()
    {
        Enabled = true,
        Servers = [Uri],
        BindDn = RootDn,
        BindPassword = RootPassword,
        BaseDns = ["ou=People," + BaseDn],
        GroupBaseDns = ["ou=Groups," + BaseDn],
        LoginAttributes = ["mail", "uid"],
        AddressAttributes = ["mail"],
        GroupMembership = ["groupOfNames"],
        RolesAttribute = null,
        Timeout = TimeSpan.FromSeconds(3),
    };
}
