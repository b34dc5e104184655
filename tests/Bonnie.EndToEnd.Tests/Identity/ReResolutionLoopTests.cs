using Bonnie.Pipeline.Identity;
using Bonnie.Shared.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bonnie.EndToEnd.Tests.Identity;

/// <summary>The re-resolution service's own loop on a fake clock, against a slapd of its own that it stops.</summary>
public sealed class ReResolutionLoopTests(PeopleDirectory directory) : IClassFixture<PeopleDirectory>
{
    private const string Archive = "oe16bupldlr2b7ax2w5twkwq";

    /// <summary>alice's AclChange about <paramref name="subject"/>, with the whole ACL after it, at another second.</summary>
    private static (string, string)[] Acl(int second, string subject, string rights, string acl) =>
    [
        ("\"aclSubject\":\"bob@example.org\",\"aclRights\":\"lrs\"", $"\"aclSubject\":\"{subject}\",\"aclRights\":\"{rights}\""),
        (@"alice@example.org\tlrswipkxtecdan\tbob@example.org\tlrs\t", acl),
        ("11:20:51.851Z", $"11:21:{second:D2}.000Z"),
    ];

    [Fact]
    public async Task ExecuteAsync_DirectoryDown_BacksOffDoublingTo15MinutesThenResolvesWhenBack()
    {
        await using var pipeline = await IdentityPipeline.CreateAsync(directory.Options());
        var time = new RecordingTimeProvider(pipeline.Clock);
        var service = new IdentityReResolution(pipeline.Store, pipeline.Enricher, time, NullLogger<IdentityReResolution>.Instance);
        using var cancel = new CancellationTokenSource(IdentityPipeline.Timeout);
        var waits = new List<TimeSpan>();
        IReadOnlyList<StoredEvent> pendingWhileDown;
        await directory.StopAsync();
        try
        {
            await pipeline.StoreAsync("FlagsSet", ("\"user\":\"alice@example.org\"", "\"user\":\"jdoe2\""));
            await service.StartAsync(cancel.Token);
            for (var pass = 0; pass < 5; pass++)
            {
                waits.Add(await time.NextWaitAsync());
                if (pass < 4)
                {
                    pipeline.Clock.Advance(waits[^1]);
                }
            }
            pendingWhileDown = await pipeline.Store.GetPendingIdentityAsync(10, cancel.Token);
        }
        finally
        {
            await directory.StartAsync();
        }

        // The 6th pass runs once the clock has gone through the last 15 minutes: the directory answers again.
        pipeline.Clock.Advance(waits[^1]);
        var afterResolved = await time.NextWaitAsync();
        var resolvedAt = pipeline.Clock.GetUtcNow();
        await service.StopAsync(cancel.Token);

        Assert.Equal([2, 4, 8, 15, 15], waits.Select(w => w.TotalMinutes));
        Assert.Single(pendingWhileDown);
        Assert.Equal(IdentityReResolution.Interval, afterResolved);
        Assert.Empty(await pipeline.Store.GetPendingIdentityAsync(10, cancel.Token));
        var stored = (await pipeline.Store.GetEventAsync(pendingWhileDown[0].Id, cancel.Token))!.Identity!;
        Assert.Equal((IdentityStatus.Resolved, "John Doe", resolvedAt), (stored.Status, stored.DisplayName, stored.ResolvedAt));
    }

    [Fact]
    public async Task ExecuteAsync_AclGrantedWhileDirectoryDown_FolderFilledByTheRoundsAndAWorkersChangeInBetweenKept()
    {
        await using var pipeline = await IdentityPipeline.CreateAsync(directory.Options());
        using var cancel = new CancellationTokenSource(IdentityPipeline.Timeout);
        var jane = @"alice@example.org\tlrswipkxtecdan\tjane.gi@example.org\tlrs\t";
        // A second worker, cut off from the directory, writes the folder just before the round's first write of it.
        var cutOff = pipeline.OtherWorker(directory.Options(o => o.Servers = ["ldap://127.0.0.1:1"]));
        var store = new InterleavingStore(pipeline.Store,
            () => pipeline.StoreAsync(cutOff, "AclChange", Acl(2, "anyone", "l", jane + @"anyone\tl\t")));
        var time = new RecordingTimeProvider(pipeline.Clock);
        var service = new IdentityReResolution(store, pipeline.Enricher, time, NullLogger<IdentityReResolution>.Instance);
        FolderObject down;
        await directory.StopAsync();
        try
        {
            await pipeline.StoreAsync("AclChange", Acl(1, "jane.gi@example.org", "lrs", jane));
            down = (await pipeline.Store.GetFolderAsync(Archive, cancel.Token))!;
        }
        finally
        {
            await directory.StartAsync();
        }
        var grantedAt = (await pipeline.Store.GetEventsForObjectAsync(ObjectKind.Folder, Archive, 10, cancel.Token)).Single().Timestamp;
        pipeline.Clock.Advance(TimeSpan.FromMinutes(1)); // past the enricher's pause after the failure; no further event on the folder

        var firstRoundAt = pipeline.Clock.GetUtcNow();
        await service.StartAsync(cancel.Token);
        var afterFirstRound = await time.NextWaitAsync();
        var afterWorker = (await pipeline.Store.GetFolderAsync(Archive, cancel.Token))!;
        pipeline.Clock.Advance(afterFirstRound);
        await time.NextWaitAsync();
        var secondRoundAt = pipeline.Clock.GetUtcNow();
        await service.StopAsync(cancel.Token);
        var back = (await pipeline.Store.GetFolderAsync(Archive, cancel.Token))!;

        Assert.Equal((IdentityStatus.Pending, grantedAt), (down.AclSubjects["jane.gi@example.org"].Status, down.AclSubjects["jane.gi@example.org"].SeenAt));
        // The worker won the race: its change is stored, the subject still pending; the round read it again next time.
        Assert.Equal(IdentityReResolution.Interval, afterFirstRound);
        Assert.Equal(("l", IdentityStatus.Pending), (afterWorker.Acl["anyone"], afterWorker.AclSubjects["jane.gi@example.org"].Status));
        var subject = back.AclSubjects["jane.gi@example.org"];
        Assert.Equal((SubjectKind.Person, IdentityStatus.Resolved, "Jane Gi", "lrs"), (subject.Kind, subject.Status, subject.DisplayName, subject.Rights));
        // It stands for the grant, as the directory had her when the rounds asked (the resolver may answer from its cache).
        Assert.Equal(grantedAt, subject.SeenAt);
        Assert.InRange(subject.ResolvedAt!.Value, firstRoundAt, secondRoundAt);
        Assert.NotNull(await pipeline.Store.GetPersonAsync(subject.PersonId!, cancel.Token));
        Assert.Equal(("Alice Example-Smith", IdentityStatus.Resolved), (back.OwnerIdentity?.DisplayName, back.OwnerIdentity?.Status));
        Assert.Equal(("l", IdentityStatus.Resolved), (back.Acl["anyone"], back.AclSubjects["anyone"].Status)); // the worker's change kept
        Assert.Empty(await pipeline.Store.GetFoldersWithPendingSubjectsAsync(10, cancel.Token));
    }
}
