using Bonnie.Shared.Storage;

namespace Bonnie.EndToEnd.Tests.Identity;

/// <summary>
/// alice's Archive folder's ACL resolved against a real slapd (a slapd of its own, since it stops it): people,
/// a groupOfNames, anyone, a negative entry, unknown and ambiguous names, and the directory stopped mid-stream.
/// </summary>
public sealed class AclSubjectDirectoryTests(PeopleDirectory directory) : IClassFixture<PeopleDirectory>
{
    private const string Archive = "oe16bupldlr2b7ax2w5twkwq";

    /// <summary>alice's AclChange about <paramref name="subject"/>, with the whole ACL after it, at another second.</summary>
    private static (string, string)[] Acl(int second, string subject, string rights, string acl) =>
    [
        ("\"aclSubject\":\"bob@example.org\",\"aclRights\":\"lrs\"", $"\"aclSubject\":\"{subject}\",\"aclRights\":\"{rights}\""),
        (@"alice@example.org\tlrswipkxtecdan\tbob@example.org\tlrs\t", acl),
        ("11:20:51.851Z", $"11:21:{second:D2}.000Z"),
    ];

    private static string Describe(KeyValuePair<string, SubjectIdentity> s) =>
        $"{s.Key}: {s.Value.Kind} {s.Value.Status}{(s.Value.Negative ? " negative" : "")} {s.Value.DisplayName ?? "-"} {s.Value.GroupDn ?? "-"}";

    [Fact]
    public async Task ProcessBatch_AclOfEveryKindThenDirectoryStopped_KeepsWhoEachNamedAndFillsPendingLater()
    {
        await using var pipeline = await IdentityPipeline.CreateAsync(directory.Options());
        using var cancel = new CancellationTokenSource(IdentityPipeline.Timeout);
        var everyKind = @"alice@example.org\tlrswipkxtecdan\tjane.gi@example.org\tlrs\tgroup:auditors\tlr\tanyone\tl\t-jdoe2\tw\t"
            + @"ghost@example.org\tr\ttwins@example.org\tr\tgroup:nobody\tr\t";

        await pipeline.StoreAsync("AclChange", Acl(1, "jane.gi@example.org", "lrs", everyKind));
        var first = (await pipeline.Store.GetFolderAsync(Archive, cancel.Token))!;
        var jane = first.AclSubjects["jane.gi@example.org"];

        await directory.StopAsync();
        FolderObject down;
        try
        {
            await pipeline.StoreAsync("AclChange", Acl(2, "mallory@example.org", "lr", everyKind + @"mallory@example.org\tlr\t"));
            down = (await pipeline.Store.GetFolderAsync(Archive, cancel.Token))!;
        }
        finally
        {
            await directory.StartAsync();
        }
        pipeline.Clock.Advance(TimeSpan.FromMinutes(1)); // past the enricher's pause after the failure
        await pipeline.StoreAsync("AclChange", Acl(3, "anyone", "lr",
            everyKind.Replace(@"anyone\tl\t", @"anyone\tlr\t", StringComparison.Ordinal) + @"mallory@example.org\tlr\t"));
        var back = (await pipeline.Store.GetFolderAsync(Archive, cancel.Token))!;

        Assert.Equal(
            [
                "-jdoe2: person resolved negative John Doe -",
                "alice@example.org: person resolved Alice Example-Smith -",
                "anyone: special resolved anyone -",
                "ghost@example.org: unknown not-found - -",
                "group:auditors: group resolved auditors cn=auditors,ou=Groups,dc=example,dc=org",
                "group:nobody: group not-found - -",
                "jane.gi@example.org: person resolved Jane Gi -",
                "twins@example.org: unknown ambiguous - -",
            ],
            first.AclSubjects.Select(Describe));
        Assert.Equal(("Alice Example-Smith", SubjectKind.Person), (first.OwnerIdentity?.DisplayName, first.OwnerIdentity?.Kind));
        Assert.Matches("^[0-9a-f-]{36}$", jane.PersonId!);
        Assert.NotNull(await pipeline.Store.GetPersonAsync(jane.PersonId!, cancel.Token));
        // Stopped mid-stream: the event is stored at once, the new subject pending, what was known kept.
        Assert.Equal("mallory@example.org: unknown pending - -", Describe(down.AclSubjects.Single(s => s.Key == "mallory@example.org")));
        Assert.Equal(jane, down.AclSubjects["jane.gi@example.org"]);
        // Back: the folder's next event fills the pending subject; the others keep their moment.
        Assert.Equal("mallory@example.org: person resolved Mallory Leaver -", Describe(back.AclSubjects.Single(s => s.Key == "mallory@example.org")));
        Assert.Equal(jane, back.AclSubjects["jane.gi@example.org"]);
        Assert.Equal(pipeline.Clock.GetUtcNow(), back.AclSubjects["mallory@example.org"].ResolvedAt);
    }

    [Fact]
    public async Task ProcessBatch_PersonRenamedAfterTheGrant_FolderStillShowsWhoWasGranted()
    {
        await using var pipeline = await IdentityPipeline.CreateAsync(directory.Options());
        using var cancel = new CancellationTokenSource(IdentityPipeline.Timeout);
        await directory.AddAsync("""
            dn: uid=rene,ou=People,dc=example,dc=org
            objectClass: inetOrgPerson
            uid: rene
            cn: Rene Before
            sn: Before
            mail: rene@example.org
            """);
        var acl = @"alice@example.org\tlrswipkxtecdan\trene\tlrs\t";
        await pipeline.StoreAsync("AclChange", Acl(10, "rene", "lrs", acl));

        await directory.ModifyAsync("""
            dn: uid=rene,ou=People,dc=example,dc=org
            changetype: modify
            replace: cn
            cn: Rene After
            """);
        pipeline.Clock.Advance(TimeSpan.FromHours(1)); // past the resolver's cache
        await pipeline.StoreAsync("AclChange", Acl(11, "anyone", "l", acl + @"anyone\tl\t"));
        var unchanged = (await pipeline.Store.GetFolderAsync(Archive, cancel.Token))!.AclSubjects["rene"];
        await pipeline.StoreAsync("AclChange", Acl(12, "rene", "lrsw", @"alice@example.org\tlrswipkxtecdan\trene\tlrsw\tanyone\tl\t"));
        var regranted = (await pipeline.Store.GetFolderAsync(Archive, cancel.Token))!.AclSubjects["rene"];

        Assert.Equal(("Rene Before", "lrs"), (unchanged.DisplayName, unchanged.Rights));
        Assert.Equal(("Rene After", "lrsw"), (regranted.DisplayName, regranted.Rights));
        Assert.Equal(unchanged.PersonId, regranted.PersonId);
    }
}
