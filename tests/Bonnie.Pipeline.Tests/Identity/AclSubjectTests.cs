using Bonnie.Pipeline.Identity;
using Bonnie.Pipeline.Tests.Storage;
using Bonnie.Pipeline.Worker;
using Bonnie.Shared.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Bonnie.Pipeline.Tests.Identity;

/// <summary>ACL subjects and folder owners resolved by the worker and kept inside the folder, as they were then.</summary>
public sealed class AclSubjectTests : IAsyncLifetime
{
    private const string Archive = "oe16bupldlr2b7ax2w5twkwq";
    private const string Jane = "6f1c2e9a-0000-4000-8000-00000000000a";
    private const string Alice = "6f1c2e9a-0000-4000-8000-00000000000b";
    private readonly FakeEnricher _directory = new();
    private TestPipeline _p = null!;

    public async Task InitializeAsync() => _p = await TestPipeline.CreateAsync(identity: _directory);

    public async Task DisposeAsync() => await _p.DisposeAsync();

    /// <summary>alice's Archive folder's AclChange with another whole ACL (identifier, rights pairs) at another second.</summary>
    private static string AclChange(int second, string subject, string rights, params (string Id, string Rights)[] acl) => Fixture.Edit(
        Fixture.Event("AclChange"),
        ("\"aclSubject\":\"bob@example.org\",\"aclRights\":\"lrs\"", $"\"aclSubject\":\"{subject}\",\"aclRights\":\"{rights}\""),
        (@"alice@example.org\tlrswipkxtecdan\tbob@example.org\tlrs\t", string.Concat(acl.Select(a => $@"{a.Id}\t{a.Rights}\t"))),
        ("11:20:51.851Z", $"11:21:{second:D2}.000Z"));

    private static readonly (string, string)[] EveryKind =
    [
        ("alice@example.org", "lrswipkxtecdan"), ("jane@example.org", "lrs"), ("group:legal", "lr"), ("anyone", "l"),
        ("-jane@example.org", "w"), ("ghost@example.org", "r"), ("cyrus", "a"),
    ];

    private async Task<FolderObject> ArchiveAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        return Assert.IsType<FolderObject>(await _p.Store.GetFolderAsync(Archive, timeout.Token));
    }

    private static string Describe(SubjectIdentity s) =>
        $"{s.Kind} {s.Status}{(s.Negative ? " negative" : "")} {s.PersonId ?? s.GroupDn ?? "-"} {s.DisplayName ?? "-"} {s.Rights}";

    [Fact]
    public async Task ProcessBatch_AclOfEveryKind_FolderKeepsWhoEachIdentifierNamed()
    {
        _directory.Add(Alice, "Alice Example", ["alice@example.org"]);
        _directory.Add(Jane, "Jane Gi", ["jane@example.org"]);
        _directory.Groups.Add("legal");

        await _p.RunAllAsync(AclChange(1, "ghost@example.org", "r", EveryKind));

        var folder = await ArchiveAsync();
        Assert.Equal(
            [
                "-jane@example.org: person resolved negative 6f1c2e9a-0000-4000-8000-00000000000a Jane Gi w",
                "alice@example.org: person resolved 6f1c2e9a-0000-4000-8000-00000000000b Alice Example lrswipkxtecdan",
                "anyone: special resolved - anyone l",
                "cyrus: special resolved - cyrus a",
                "ghost@example.org: unknown not-found - - r",
                "group:legal: group resolved cn=legal,ou=Groups legal lr",
                "jane@example.org: person resolved 6f1c2e9a-0000-4000-8000-00000000000a Jane Gi lrs",
            ],
            folder.AclSubjects.Select(s => $"{s.Key}: {Describe(s.Value)}").Order(StringComparer.Ordinal));
        Assert.Equal(("alice@example.org", SubjectKind.Person, Alice), (folder.OwnerIdentity?.Identifier, folder.OwnerIdentity?.Kind, folder.OwnerIdentity?.PersonId));
        // A person named only in an ACL has a record, so the officers' link to them leads somewhere.
        Assert.Equal(["jane@example.org"], (await _p.Store.GetPersonAsync(Jane))!.Names.Select(n => n.Name));
    }

    [Fact]
    public async Task ProcessBatch_DirectoryChangesLater_SnapshotKeptUntilTheRightsChange()
    {
        _directory.Add(Jane, "Jane Gi", ["jane@example.org"]);
        await _p.RunAllAsync(AclChange(1, "jane@example.org", "lrs", ("jane@example.org", "lrs")));
        _directory.Add(Jane, "Jane Doe", ["jane@example.org"]); // she marries after the grant

        await _p.RunAllAsync(AclChange(2, "bob@example.org", "lr", ("jane@example.org", "lrs"), ("bob@example.org", "lr")));
        var afterOtherGrant = (await ArchiveAsync()).AclSubjects["jane@example.org"];
        await _p.RunAllAsync(AclChange(3, "jane@example.org", "lrsw", ("jane@example.org", "lrsw"), ("bob@example.org", "lr")));
        var afterHerNewGrant = (await ArchiveAsync()).AclSubjects["jane@example.org"];
        await _p.RunAllAsync(AclChange(4, "bob@example.org", "", ("jane@example.org", "lrsw")));

        Assert.Equal("Jane Gi", afterOtherGrant.DisplayName);
        Assert.Equal(("Jane Doe", "lrsw"), (afterHerNewGrant.DisplayName, afterHerNewGrant.Rights));
        var folder = await ArchiveAsync();
        Assert.DoesNotContain("bob@example.org", folder.Acl.Keys);
        Assert.Equal("lr", folder.AclSubjects["bob@example.org"].Rights); // who lost access stays known
    }

    [Fact]
    public async Task ProcessBatch_RightsChangedRevokedAndRegrantedAcrossRenames_EachChangeFindsWhoTheNameWasThen()
    {
        _directory.Add(Jane, "Jane Gi", ["jane@example.org"]);
        await _p.RunAllAsync(AclChange(0, "bob@example.org", "lr", ("bob@example.org", "lr"))); // the folder's first event
        await _p.RunAllAsync(AclChange(1, "jane@example.org", "lrs", ("jane@example.org", "lrs"), ("bob@example.org", "lr")));
        _directory.Add(Jane, "Jane Doe", ["jane@example.org"]);
        await _p.RunAllAsync(AclChange(2, "anyone", "l", ("jane@example.org", "lrs"), ("bob@example.org", "lr"), ("anyone", "l")));
        await _p.RunAllAsync(AclChange(3, "jane@example.org", "lrsw", ("jane@example.org", "lrsw"), ("bob@example.org", "lr"), ("anyone", "l")));
        await _p.RunAllAsync(AclChange(4, "jane@example.org", "", ("bob@example.org", "lr"), ("anyone", "l")));
        _directory.Add(Jane, "Jane Roe", ["jane@example.org"]);
        // The same rights as before her revoke: still a new grant, a new moment.
        await _p.RunAllAsync(AclChange(5, "jane@example.org", "lrsw", ("jane@example.org", "lrsw"), ("bob@example.org", "lr"), ("anyone", "l")));

        var folder = await ArchiveAsync();
        var changes = (await _p.Store.GetChangesAsync(ObjectKind.Folder, Archive)).Where(c => c.Aspect == ChangeAspect.Acl && c.Key == "jane@example.org").ToList();

        Assert.Equal(
            ["none>lrs: Jane Gi", "lrs>lrsw: Jane Doe", "lrsw>none: Jane Doe", "none>lrsw: Jane Roe"],
            changes.Select(c => $"{c.From ?? "none"}>{c.To ?? "none"}: {folder.SubjectAt(c.Key!, c.At)?.DisplayName}"));
        Assert.Equal(
            [$"Jane Gi lrs {changes[0].At:ss} -", $"Jane Doe lrsw {changes[1].At:ss} {changes[2].At:ss}"],
            folder.AclSubjectHistory.Select(s => $"{s.DisplayName} {s.Rights} {s.SeenAt:ss} {(s.RemovedAt is { } r ? r.ToString("ss", System.Globalization.CultureInfo.InvariantCulture) : "-")}"));
        Assert.Equal(("Jane Roe", changes[3].At, (DateTimeOffset?)null),
            (folder.AclSubjects["jane@example.org"].DisplayName, folder.AclSubjects["jane@example.org"].SeenAt, folder.AclSubjects["jane@example.org"].RemovedAt));
        // Before any snapshot was taken (identity turned on later): the earliest one kept.
        Assert.Equal("Jane Gi", folder.SubjectAt("jane@example.org", changes[0].At.AddDays(-1))?.DisplayName);
    }

    [Fact]
    public async Task ProcessBatch_DirectoryDown_StoredPendingThenFilledByTheFoldersNextEvent()
    {
        _directory.Add(Jane, "Jane Gi", ["jane@example.org"]);
        _directory.Groups.Add("legal");
        _directory.Down = true;

        var outcome = await _p.RunAsync(AclChange(1, "jane@example.org", "lrs", ("jane@example.org", "lrs"), ("group:legal", "lr"), ("anyone", "l")));

        Assert.IsType<JobOutcome.Done>(outcome);
        var down = await ArchiveAsync();
        Assert.Equal(
            ["anyone: special resolved - anyone l", "group:legal: group pending - - lr", "jane@example.org: unknown pending - - lrs"],
            down.AclSubjects.Select(s => $"{s.Key}: {Describe(s.Value)}"));
        Assert.Equal(IdentityStatus.Pending, down.OwnerIdentity?.Status);

        _directory.Down = false;
        await _p.RunAllAsync(AclChange(2, "anyone", "lr", ("jane@example.org", "lrs"), ("group:legal", "lr"), ("anyone", "lr")));

        var back = await ArchiveAsync();
        Assert.Equal(
            ["anyone: special resolved - anyone lr", "group:legal: group resolved cn=legal,ou=Groups legal lr", $"jane@example.org: person resolved {Jane} Jane Gi lrs"],
            back.AclSubjects.Select(s => $"{s.Key}: {Describe(s.Value)}"));
        Assert.Equal(IdentityStatus.NotFound, back.OwnerIdentity?.Status); // alice is not in this directory
    }

    [Fact]
    public async Task RunOnceAsync_FolderPendingWhileDirectoryDownThenBack_FilledWithoutAnotherEventForTheGrantsMoment()
    {
        _directory.Add(Jane, "Jane Gi", ["jane@example.org"]);
        _directory.Groups.Add("legal");
        _directory.Down = true;
        await _p.RunAllAsync(AclChange(1, "jane@example.org", "lrs", ("jane@example.org", "lrs"), ("group:legal", "lr")));
        var grantedAt = (await ArchiveAsync()).AclSubjects["jane@example.org"].SeenAt;
        var service = new IdentityReResolution(_p.Store, _directory, _p.Time, Microsoft.Extensions.Logging.Abstractions.NullLogger<IdentityReResolution>.Instance);

        var whileDown = await service.RunOnceAsync(CancellationToken.None);
        var versionWhileDown = (await ArchiveAsync()).Version;
        _directory.Down = false;
        var back = await service.RunOnceAsync(CancellationToken.None);

        Assert.Equal((true, 0), (whileDown.DirectoryDown, whileDown.FoldersUpdated));
        Assert.Equal((false, 1), (back.DirectoryDown, back.FoldersUpdated));
        var folder = await ArchiveAsync();
        Assert.Equal(versionWhileDown + 1, folder.Version);
        Assert.Equal(
            ["group:legal: group resolved cn=legal,ou=Groups legal lr", $"jane@example.org: person resolved {Jane} Jane Gi lrs"],
            folder.AclSubjects.Select(s => $"{s.Key}: {Describe(s.Value)}"));
        Assert.Equal(grantedAt, folder.AclSubjects["jane@example.org"].SeenAt);
        Assert.Equal(IdentityStatus.NotFound, folder.OwnerIdentity?.Status); // alice is not in this directory: no longer pending
        Assert.Empty(await _p.Store.GetFoldersWithPendingSubjectsAsync(10));
        Assert.Equal([grantedAt], (await _p.Store.GetPersonAsync(Jane))!.Names.Select(n => (DateTimeOffset?)n.FirstSeen));
    }

    [Fact]
    public async Task ProcessBatch_EnricherThrows_JobDoneAndSubjectsPending()
    {
        _directory.Throws = true;

        var outcome = await _p.RunAsync(AclChange(1, "jane@example.org", "lrs", ("jane@example.org", "lrs")));

        Assert.IsType<JobOutcome.Done>(outcome);
        Assert.Equal(IdentityStatus.Pending, (await ArchiveAsync()).AclSubjects["jane@example.org"].Status);
    }

    [Fact]
    public async Task ProcessBatch_NoDirectoryConfigured_AclKeptWithoutSnapshots()
    {
        await using var plain = await TestPipeline.CreateAsync();

        Assert.IsType<JobOutcome.Done>(await plain.RunAsync(AclChange(1, "jane@example.org", "lrs", ("jane@example.org", "lrs"))));

        var folder = Assert.IsType<FolderObject>(await plain.Store.GetFolderAsync(Archive));
        Assert.Equal(["jane@example.org"], folder.Acl.Keys);
        Assert.Empty(folder.AclSubjects);
        Assert.Null(folder.OwnerIdentity);
    }
}

public sealed class AclSubjectRegistrationTests
{
    private static IIdentityEnricher Enricher(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build();
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddLogging()
            .AddBonnieIdentity();
        return services.BuildServiceProvider().GetRequiredService<IIdentityEnricher>();
    }

    [Fact]
    public async Task DescribeSubject_DirectoryOff_DisabledSoNothingIsKept()
    {
        var subject = await Enricher().DescribeSubjectAsync("anyone", TestPipeline.Now, CancellationToken.None);

        Assert.Equal(IdentityStatus.Disabled, subject.Subject.Status);
    }

    [Fact]
    public async Task DescribeSubject_ConfiguredAdmin_SpecialWithoutAskingTheDirectory()
    {
        // The directory named is never reachable: a special name must not be looked up.
        var enricher = Enricher(("Bonnie:Identity:Enabled", "true"), ("Bonnie:Identity:Servers:0", "ldap://192.0.2.1:1"),
            ("Bonnie:Identity:BaseDns:0", "dc=example,dc=org"), ("Bonnie:Identity:AdminSubjects:0", "mailadmin"));

        var admin = await enricher.DescribeSubjectAsync("mailadmin", TestPipeline.Now, CancellationToken.None);
        var cyrus = await enricher.DescribeSubjectAsync("cyrus", TestPipeline.Now, CancellationToken.None);
        var admin0 = await enricher.DescribeSubjectAsync("admin", TestPipeline.Now, CancellationToken.None);

        Assert.Equal((SubjectKind.Special, IdentityStatus.Resolved), (admin.Subject.Kind, admin.Subject.Status));
        Assert.Equal((SubjectKind.Special, SubjectKind.Special), (cyrus.Subject.Kind, admin0.Subject.Kind)); // added to the defaults
    }
}
