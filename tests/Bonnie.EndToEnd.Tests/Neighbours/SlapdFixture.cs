namespace Bonnie.EndToEnd.Tests.Neighbours;

/// <summary>
/// A throw-away OpenLDAP slapd of its own (directory and free loopback port), created by
/// scripts/neighbours/slapd.sh with suffix dc=example,dc=org and tests/TestData/ldap/bonnie-test.schema, seeded
/// with <see cref="SeedLdif"/>. Several run at once; each is removed when its test class is done.
/// </summary>
public class SlapdFixture : IAsyncLifetime
{
    public const string BaseDn = "dc=example,dc=org";

    public const string RootDn = "cn=admin," + BaseDn;

    public string Host { get; } = "127.0.0.1";

    public int Port { get; } = FreePort.Next();

    public string Uri => $"ldap://{Host}:{Port}/";

    /// <summary>Only listened on when <see cref="Tls"/>.</summary>
    public int LdapsPort { get; } = FreePort.Next();

    public string LdapsUri => $"ldaps://{Host}:{LdapsPort}/";

    /// <summary>The hashed CA directory that makes the server's throw-away certificate trusted.</summary>
    public string TrustedCertificatesDirectory => Path.Combine(Directory, "tls", "trusted");

    /// <summary>The root password (a test default unless BONNIE_LDAP_PASSWORD is set).</summary>
    public string RootPassword { get; } = Environment.GetEnvironmentVariable("BONNIE_LDAP_PASSWORD") ?? "bonnie-test";

    public string Directory { get; } = Path.Combine(
        Environment.GetEnvironmentVariable("BONNIE_LDAP_STATE") ?? "/var/tmp/bonnie-test/slapd",
        Guid.NewGuid().ToString("N"));

    /// <summary>Entries added after the start; the base entry dc=example,dc=org is always there.</summary>
    protected virtual string SeedLdif => string.Empty;

    /// <summary>StartTLS on <see cref="Port"/> and LDAPS on <see cref="LdapsPort"/>, with a certificate of a throw-away CA.</summary>
    protected virtual bool Tls => false;

    /// <summary>More schema files (under tests/TestData/ldap) loaded besides bonnie-test.schema.</summary>
    protected virtual IReadOnlyList<string> ExtraSchemas => [];

    public async Task InitializeAsync()
    {
        var arguments = new List<string> { "create", Directory };
        if (Tls)
        {
            arguments.Add("--tls");
        }
        arguments.AddRange(ExtraSchemas.Prepend("bonnie-test.schema").Select(s => RepositoryRoot.Combine("tests", "TestData", "ldap", s)));
        await RunAsync([.. arguments]);
        await StartAsync();
        await AddAsync($"""
            dn: {BaseDn}
            objectClass: dcObject
            objectClass: organization
            o: Example
            dc: example

            {SeedLdif}
            """);
    }

    public async Task DisposeAsync()
    {
        await StopAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    /// <summary>Starts (again) on the same port with the same data: the directory coming back.</summary>
    public Task StartAsync() => Tls
        ? RunAsync("start", Directory, Invariant(Port), Invariant(LdapsPort))
        : RunAsync("start", Directory, Invariant(Port));

    /// <summary>Stops slapd: the directory going down.</summary>
    public Task StopAsync() => RunAsync("stop", Directory);

    /// <summary>Adds entries (LDIF content records).</summary>
    public Task AddAsync(string ldif) => WithFileAsync(ldif, file => RunAsync("load", Directory, file));

    /// <summary>Applies LDIF change records (changetype: modify, modrdn, delete).</summary>
    public Task ModifyAsync(string ldif) => WithFileAsync(ldif, file => RunAsync("modify", Directory, file));

    private static string Invariant(int port) => port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private Task<string> RunAsync(params string[] arguments) => NeighbourScript.RunAsync(
        "slapd.sh", arguments, new Dictionary<string, string> { ["BONNIE_LDAP_PASSWORD"] = RootPassword });

    private async Task WithFileAsync(string ldif, Func<string, Task> action)
    {
        var file = Path.Combine(Directory, $"change-{Guid.NewGuid():N}.ldif");
        await File.WriteAllTextAsync(file, ldif);
        try
        {
            await action(file);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
