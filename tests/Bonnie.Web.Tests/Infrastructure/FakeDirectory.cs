using System.Text;
using Bonnie.Pipeline.Identity;
using Bonnie.Pipeline.Worker;
using Bonnie.Shared.Storage;

namespace Bonnie.Web.Tests.Infrastructure;

/// <summary>A directory as the worker's enricher sees it, changed by the test between events.</summary>
internal sealed class FakeDirectory : IIdentityEnricher
{
    private readonly Dictionary<string, PersonSnapshot> _people = new(StringComparer.OrdinalIgnoreCase);

    public HashSet<string> Groups { get; } = new(StringComparer.OrdinalIgnoreCase);

    public DateTimeOffset Now { get; set; } = new(2026, 11, 29, 11, 0, 0, TimeSpan.Zero);

    /// <summary>The person as the directory has them from now on, under each of <paramref name="names"/>.</summary>
    public void Set(string id, string displayName, string[] names, string[] groups, params string[] roles)
    {
        foreach (var (name, person) in _people.Where(p => p.Value.PersistentId == id).ToList())
        {
            _people.Remove(name);
        }
        var snapshot = new PersonSnapshot(id, "uid=" + names[0], displayName, names, names,
            groups.Select(g => new DirectoryGroup($"cn={g},ou=Groups,dc=example,dc=org", g)).ToList(), roles, Now);
        foreach (var name in names)
        {
            _people[name] = snapshot;
        }
    }

    public Task<Enrichment> EnrichAsync(string loginName, DateTimeOffset at, CancellationToken cancellationToken) =>
        Task.FromResult(DirectoryIdentityEnricher.ToEnrichment(Resolve(loginName), at));

    public Task<SubjectEnrichment> DescribeSubjectAsync(string identifier, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var subject = AclIdentifier.Parse(identifier, ["cyrus"]);
        var resolution = subject.IsSpecial ? null
            : subject.IsGroup
                ? Groups.Contains(subject.Name)
                    ? new Resolution.GroupResolved(new DirectoryGroup($"cn={subject.Name},ou=Groups,dc=example,dc=org", subject.Name))
                    : new Resolution.NotFound(subject.Name)
                : Resolve(subject.Name);
        return Task.FromResult(subject.Describe(resolution, Now, at));
    }

    private Resolution Resolve(string name) =>
        _people.TryGetValue(name, out var p) ? new Resolution.Resolved(p with { ResolvedAt = Now }) : new Resolution.NotFound(name);
}

/// <summary>
/// Jane's story over the test store: as jane.gi (finance, clerk) she flags a message; renamed jane.doe (legal,
/// officer) she clears it; alice then gives her, the legal group, anyone and an unknown name rights on her Archive.
/// </summary>
internal static class JaneStory
{
    public const string Jane = "6f1c2e9a-0000-4000-8000-00000000000a";
    public const string Alice = "6f1c2e9a-0000-4000-8000-00000000000b";
    public const string JaneGi = "jane.gi@example.org";
    public const string JaneDoe = "jane.doe@example.org";

    public static async Task<FakeDirectory> TellAsync(TestStore store)
    {
        var directory = new FakeDirectory();
        directory.Set(Alice, "Alice Example", ["alice@example.org"], ["staff"]);
        directory.Set(Jane, "Jane Gi", [JaneGi], ["finance"], "clerk");
        directory.Groups.Add("legal");
        await store.ProcessAsync(directory, Edit("FlagsSet", ("\"user\":\"alice@example.org\"", $"\"user\":\"{JaneGi}\"")));

        directory.Now = directory.Now.AddHours(1);
        directory.Set(Jane, "Jane <b>Doe</b>", [JaneDoe], ["legal"], "officer");
        await store.ProcessAsync(directory, Edit("FlagsClear", ("\"user\":\"alice@example.org\"", $"\"user\":\"{JaneDoe}\"")));
        await store.ProcessAsync(directory, Edit("AclChange",
            ("\"aclSubject\":\"bob@example.org\"", $"\"aclSubject\":\"{JaneDoe}\""),
            (@"bob@example.org\tlrs\t", $@"{JaneDoe}\tlrs\tgroup:legal\tlr\tanyone\tl\t-{JaneDoe}\tw\tghost@example.org\tr\t")));
        return directory;
    }

    /// <summary>
    /// After <see cref="TellAsync"/>: Jane, now Jane Roe in the directory, gets write rights on the Archive a minute
    /// after her first grant.
    /// </summary>
    public static Task RenameAndGiveMoreRightsAsync(TestStore store, FakeDirectory directory)
    {
        directory.Now = directory.Now.AddHours(1);
        directory.Set(Jane, "Jane Roe", [JaneDoe], ["legal"], "officer");
        return store.ProcessAsync(directory, Edit("AclChange",
            ("\"aclSubject\":\"bob@example.org\",\"aclRights\":\"lrs\"", $"\"aclSubject\":\"{JaneDoe}\",\"aclRights\":\"lrsw\""),
            (@"bob@example.org\tlrs\t", $@"{JaneDoe}\tlrsw\tgroup:legal\tlr\tanyone\tl\t-{JaneDoe}\tw\tghost@example.org\tr\t"),
            ("11:20:51.851Z", "11:21:51.851Z")));
    }

    /// <summary>After <see cref="TellAsync"/>: the name jane.doe passes to another person, who reads a message under it.</summary>
    public const string Other = "6f1c2e9a-0000-4000-8000-00000000000c";

    public static Task NameTakenOverAsync(TestStore store, FakeDirectory directory)
    {
        directory.Now = directory.Now.AddHours(2);
        directory.Set(Other, "Joan Doe", [JaneDoe], ["sales"]);
        return store.ProcessAsync(directory, Edit("MessageRead", ("\"user\":\"alice@example.org\"", $"\"user\":\"{JaneDoe}\""),
            ("2026-11-29T11:20:39.645Z", "2026-11-29T13:20:39.645Z")));
    }

    private static Job Edit(string fixture, params (string From, string To)[] replacements)
    {
        var json = TestStore.Fixture(fixture);
        foreach (var (from, to) in replacements)
        {
            Assert.Contains(from, json, StringComparison.Ordinal);
            json = json.Replace(from, to, StringComparison.Ordinal);
        }
        return TestStore.Raw(Encoding.UTF8.GetBytes(json));
    }
}
