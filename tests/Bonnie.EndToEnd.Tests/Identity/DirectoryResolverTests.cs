using System.Diagnostics;
using Bonnie.Pipeline.Identity;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Bonnie.EndToEnd.Tests.Identity;

public sealed class DirectoryResolverTests(PeopleDirectory directory) : IClassFixture<PeopleDirectory>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task ResolveAsync_MailOfPersonInGroups_ReturnsSnapshotWithGroupsRolesAndAddresses()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var resolver = Resolver();

        var person = Assert.IsType<Resolution.Resolved>(await resolver.ResolveAsync("Alice@Example.org", cancel.Token)).Person;

        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", person.PersistentId);
        Assert.Equal("uid=alice,ou=People,dc=example,dc=org", person.DistinguishedName);
        Assert.Equal("Alice Example-Smith", person.DisplayName);
        Assert.Equal(["alice@example.org", "a.example@example.org", "alice.alt@example.org"], person.Addresses);
        Assert.Contains("alice", person.LoginNames);
        Assert.Equal(["auditors", "legal"], person.Groups.Select(g => g.Name));
        Assert.Equal(["officer"], person.Roles);
        Assert.Equal(_clock.GetUtcNow(), person.ResolvedAt);
    }

    [Theory]
    [InlineData("a.example@example.org")]
    [InlineData("alice.alt@example.org")]
    [InlineData("alice")]
    public async Task ResolveAsync_AliasAlternateAddressOrUid_ResolvesToTheSamePerson(string loginName)
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var resolver = Resolver();
        var byMail = Assert.IsType<Resolution.Resolved>(await resolver.ResolveAsync("alice@example.org", cancel.Token)).Person;

        var other = Assert.IsType<Resolution.Resolved>(await resolver.ResolveAsync(loginName, cancel.Token)).Person;

        Assert.Equal(byMail.PersistentId, other.PersistentId);
    }

    [Fact]
    public async Task ResolveAsync_ShortUidAndMailOfJdoe2_AreOnePerson()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var resolver = Resolver();

        var byUid = Assert.IsType<Resolution.Resolved>(await resolver.ResolveAsync("jdoe2", cancel.Token)).Person;
        var byMail = Assert.IsType<Resolution.Resolved>(await resolver.ResolveAsync("J.Doe2@example.org", cancel.Token)).Person;

        Assert.Equal(byUid.PersistentId, byMail.PersistentId);
        Assert.Equal(["jdoe2", "j.doe2@example.org"], byUid.LoginNames.Order(StringComparer.Ordinal).Reverse());
    }

    [Fact]
    public async Task ResolveAsync_AfterRename_NewNameKeepsThePersistentIdAndTheOldNameIsGone()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var resolver = Resolver();
        var before = Assert.IsType<Resolution.Resolved>(await resolver.ResolveAsync("jane.gi@example.org", cancel.Token)).Person;

        await directory.RenameJaneAsync();
        _clock.Advance(TimeSpan.FromMinutes(10));

        var after = Assert.IsType<Resolution.Resolved>(await resolver.ResolveAsync("jane.doe@example.org", cancel.Token)).Person;
        Assert.Equal(before.PersistentId, after.PersistentId);
        Assert.Equal("Jane Doe", after.DisplayName);
        Assert.Equal("Jane Gi", before.DisplayName);
        Assert.Equal(["auditors"], after.Groups.Select(g => g.Name));
        Assert.IsType<Resolution.NotFound>(await resolver.ResolveAsync("jane.gi@example.org", cancel.Token));
    }

    [Fact]
    public async Task ResolveAsync_PersonRemovedAfterTheFact_CachedBrieflyThenNotFound()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var resolver = Resolver();
        var first = Assert.IsType<Resolution.Resolved>(await resolver.ResolveAsync("mallory@example.org", cancel.Token)).Person;

        await directory.ModifyAsync("""
            dn: uid=mallory,ou=People,dc=example,dc=org
            changetype: delete
            """);
        var withinTtl = await resolver.ResolveAsync("mallory@example.org", cancel.Token);
        _clock.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        var afterTtl = await resolver.ResolveAsync("mallory@example.org", cancel.Token);

        Assert.Equal(first, Assert.IsType<Resolution.Resolved>(withinTtl).Person);
        Assert.Equal("mallory@example.org", Assert.IsType<Resolution.NotFound>(afterTtl).LoginName);
    }

    [Theory]
    [InlineData("nobody@example.org")]
    [InlineData("*")]
    [InlineData("*)(uid=*")]
    public async Task ResolveAsync_UnknownOrFilterSyntax_NotFound(string loginName)
    {
        using var cancel = new CancellationTokenSource(Timeout);

        var resolution = await Resolver().ResolveAsync(loginName, cancel.Token);

        Assert.IsType<Resolution.NotFound>(resolution);
    }

    [Fact]
    public async Task ResolveAsync_TwoPeopleShareTheAddress_AmbiguousNamingBoth()
    {
        using var cancel = new CancellationTokenSource(Timeout);

        var resolution = await Resolver().ResolveAsync("twins@example.org", cancel.Token);

        Assert.Equal(2, Assert.IsType<Resolution.Ambiguous>(resolution).DistinguishedNames.Count);
    }

    [Fact]
    public async Task ResolveAsync_WrongBindPassword_UnavailableAndThePasswordIsNotInTheReason()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var resolver = Resolver(o => o.BindPassword = "not-the-password");

        var resolution = await resolver.ResolveAsync("alice@example.org", cancel.Token);

        var reason = Assert.IsType<Resolution.DirectoryUnavailable>(resolution).Reason;
        Assert.Contains("49", reason, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-password", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveAsync_FirstServerDown_AnswersFromTheSecond()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var nobodyListens = $"ldap://127.0.0.1:{Neighbours.FreePort.Next()}/";
        var resolver = Resolver(o => o.Servers = [nobodyListens, directory.Uri]);

        var resolution = await resolver.ResolveAsync("alice@example.org", cancel.Token);

        Assert.IsType<Resolution.Resolved>(resolution);
    }

    [Fact]
    public async Task ResolveAsync_Disabled_DisabledWithoutAsking()
    {
        var resolver = Resolver(o => { o.Enabled = false; o.Servers = []; });

        Assert.IsType<Resolution.Disabled>(await resolver.ResolveAsync("alice@example.org"));
    }

    [Fact]
    public async Task ResolveAsync_WhileThisProcessStartsOthers_Resolves()
    {
        // Every child that ends sends this process SIGCHLD, and a signal interrupts the poll() in which libldap waits
        // for the server (a worker starts Cyrus tools; the tests start the neighbours' scripts in parallel).
        using var cancel = new CancellationTokenSource(Timeout);
        var resolver = Resolver(o => o.CacheTtl = TimeSpan.Zero);
        using var stop = new CancellationTokenSource();
        var children = Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var child = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
                await child.WaitForExitAsync(cancel.Token);
            }
        })));
        var answers = new List<string>();
        try
        {
            for (var i = 0; i < 300; i++)
            {
                var answer = await resolver.ResolveAsync("alice@example.org", cancel.Token);
                answers.Add(answer is Resolution.Resolved ? "resolved" : answer.ToString()!);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await children;
        }

        Assert.Equal(Enumerable.Repeat("resolved", 300), answers);
    }

    private DirectoryResolver Resolver(Action<IdentityOptions>? change = null) => new(
        Microsoft.Extensions.Options.Options.Create(directory.Options(change)), _clock, NullLogger<DirectoryResolver>.Instance);
}
