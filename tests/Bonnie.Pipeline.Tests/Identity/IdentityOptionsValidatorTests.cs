using Bonnie.Pipeline.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Bonnie.Pipeline.Tests.Identity;

public sealed class IdentityOptionsValidatorTests
{
    [Fact]
    public void Validate_Disabled_SucceedsWhateverElseIsSet()
    {
        var result = new IdentityOptionsValidator().Validate(null, new IdentityOptions { Enabled = false, Servers = ["http://x"] });

        Assert.True(result.Succeeded);
    }

    [Fact]
    public void Validate_WorkingConfiguration_Succeeds()
    {
        var result = new IdentityOptionsValidator().Validate(null, Valid());

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public void Validate_ManyMistakes_ReportsEveryOne()
    {
        var options = Valid();
        options.Servers = ["http://ldap.example.org", "ldaps://ldap.example.org"];
        options.StartTls = true;
        options.BindDn = "bonnie";
        options.BaseDns = [];
        options.GroupMembership = ["memberOf", "posixGroup"];
        options.PersonFilter = "objectClass=person";
        options.Timeout = TimeSpan.Zero;

        var failures = new IdentityOptionsValidator().Validate(null, options).Failures!.ToList();

        Assert.Equal(7, failures.Count);
        Assert.Contains(failures, f => f.Contains("'http://ldap.example.org' is not an ldap://", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("StartTls", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("'bonnie' is not a full DN", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("BaseDns", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("'posixGroup'", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("PersonFilter", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("Timeout", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_PasswordWithoutBindDn_FailsWithoutEchoingThePassword()
    {
        var options = Valid();
        options.BindDn = null;
        options.BindPassword = "s3cret-value";

        var message = new IdentityOptionsValidator().Validate(null, options).FailureMessage;

        Assert.Contains("BindDn", message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-value", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_BadIdentitySection_StopsTheHostNamingTheSetting()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Bonnie:Identity:Enabled"] = "true",
            ["Bonnie:Identity:Servers:0"] = "ldap.example.org",
        });
        builder.Services.AddBonnieIdentity();
        using var host = builder.Build();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(cancel.Token));

        Assert.Contains("Bonnie:Identity:Servers: 'ldap.example.org'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Bonnie:Identity:BaseDns", error.Message, StringComparison.Ordinal);
    }

    private static IdentityOptions Valid() => new()
    {
        Enabled = true,
        Servers = ["ldap://ldap.example.org:389"],
        BindDn = "cn=bonnie,ou=Services,dc=example,dc=org",
        BindPassword = "secret",
        BaseDns = ["ou=People,dc=example,dc=org"],
        PersonFilter = "(objectClass=inetOrgPerson)",
    };
}
