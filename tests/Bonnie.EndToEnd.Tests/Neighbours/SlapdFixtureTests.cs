using System.DirectoryServices.Protocols;
using System.Net;

namespace Bonnie.EndToEnd.Tests.Neighbours;

public sealed class SlapdFixtureTests(SlapdFixtureTests.Directory slapd) : IClassFixture<SlapdFixtureTests.Directory>
{
    [Fact]
    public void Search_SeededPerson_FindsEntryUuidAndMemberOf()
    {
        using var connection = Connect();

        var entry = FindCarol(connection);

        Assert.Matches("^[0-9a-f-]{36}$", (string)entry.Attributes["entryUUID"][0]);
        Assert.Equal("cn=staff,dc=example,dc=org", ((string)entry.Attributes["memberOf"][0]).ToLowerInvariant());
    }

    [Fact]
    public async Task StopThenStart_SameData_ServerDownInBetween()
    {
        await slapd.StopAsync();
        try
        {
            using var down = Connect(bind: false);
            var error = Assert.Throws<LdapException>(() => down.Bind());
            Assert.Equal(81, error.ErrorCode);
        }
        finally
        {
            await slapd.StartAsync();
        }

        using var again = Connect();
        Assert.Equal("Carol Example", (string)FindCarol(again).Attributes["cn"][0]);
    }

    private static SearchResultEntry FindCarol(LdapConnection connection)
    {
        var response = (SearchResponse)connection.SendRequest(new SearchRequest(
            SlapdFixture.BaseDn, "(uid=carol)", SearchScope.Subtree, "cn", "entryUUID", "memberOf"));
        return Assert.Single(response.Entries.Cast<SearchResultEntry>());
    }

    private LdapConnection Connect(bool bind = true)
    {
        var connection = new LdapConnection(new LdapDirectoryIdentifier(slapd.Host, slapd.Port))
        {
            AuthType = AuthType.Basic,
            Credential = new NetworkCredential(SlapdFixture.RootDn, slapd.RootPassword),
            Timeout = TimeSpan.FromSeconds(5),
        };
        connection.SessionOptions.ProtocolVersion = 3;
        if (bind)
        {
            connection.Bind();
        }

        return connection;
    }

    public sealed class Directory : SlapdFixture
    {
        protected override string SeedLdif => """
            dn: uid=carol,dc=example,dc=org
            objectClass: inetOrgPerson
            uid: carol
            cn: Carol Example
            sn: Example
            mail: carol@example.org

            dn: cn=staff,dc=example,dc=org
            objectClass: groupOfNames
            cn: staff
            member: uid=carol,dc=example,dc=org
            """;
    }
}
