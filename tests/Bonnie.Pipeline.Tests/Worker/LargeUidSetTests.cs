using Bonnie.Pipeline.Tests.Storage;
using Bonnie.Pipeline.Worker;
using Bonnie.Pipeline.Worker.Handlers;
using Bonnie.Shared.Storage;

namespace Bonnie.Pipeline.Tests.Worker;

/// <summary>
/// Events naming many UIDs (found by a review: one notification naming <c>1:4294967295</c> held up every mailbox's
/// events for good, and 40,000 UIDs of a folder Bonnie had not seen took five minutes, past the job's deadline).
/// </summary>
public sealed class LargeUidSetTests
{
    private const string Folder = "sufr9a0wrxwpaaifzy6ge6cu";

    private static string Flags(string uidset) => Fixture.Edit(Fixture.Event("FlagsSet"),
        ("\"uidset\":\"1\"", $"\"uidset\":\"{uidset}\""),
        ("\"vnd.cmu.midset\":[\"<179595122889.12822.11728137019898957721@probe.example.org>\"]", "\"vnd.cmu.midset\":[]"));

    private static string Expunge(string uidset) => Fixture.Edit(Fixture.Event("MessageExpunge"),
        ("\"uidset\":\"2\"", $"\"uidset\":\"{uidset}\""),
        ("\"vnd.cmu.midset\":[\"<179595122895.12822.14042202990968850809@probe.example.org>\"]", "\"vnd.cmu.midset\":[]"));

    [Fact]
    public async Task FlagsSet_EveryUidThereIs_StoredAsItCameNotFollowed_AndTheNextEventsAreStored()
    {
        await using var p = await TestPipeline.CreateAsync();
        var hostile = Flags("1:4294967295");

        // Within RunAsync's 30 s: before, this walked four billion UIDs (and a copy's would not have fit in memory).
        Assert.IsType<JobOutcome.Done>(await p.RunAsync(hostile));
        await p.RunAllAsync(Fixture.Event("Login"));

        var stored = await p.Store.GetEventAsync(TestPipeline.JobFor(hostile).Id);
        Assert.Equal("1:4294967295", stored!.Uids);
        Assert.Empty(stored.MessageKeys);
        Assert.Empty(await p.Store.FindMessagesInFolderAsync(Folder));
        Assert.NotNull(await p.Store.GetEventAsync(TestPipeline.JobFor(Fixture.Event("Login")).Id));
    }

    [Fact]
    public async Task FlagsSetThenExpunge_AsManyUidsAsFollowed_EveryMessageFoundAndEnded()
    {
        // The most UIDs followed, in one batch: every message the flags event found is the one its expunge ends.
        await using var p = await TestPipeline.CreateAsync();
        var count = (int)MessageHandler.MaxUidsPerEvent;
        var uids = $"1:{count}";

        var outcomes = await p.Processor.ProcessBatchAsync([TestPipeline.JobFor(Flags(uids)), TestPipeline.JobFor(Expunge(uids))]);

        Assert.All(outcomes, o => Assert.IsType<JobOutcome.Done>(o));
        var messages = await p.Store.FindMessagesInFolderAsync(Folder);
        Assert.Empty(messages);
        var flagged = await p.Store.GetEventAsync(TestPipeline.JobFor(Flags(uids)).Id);
        var expunged = await p.Store.GetEventAsync(TestPipeline.JobFor(Expunge(uids)).Id);
        Assert.Equal(count, flagged!.MessageKeys.Count);
        Assert.Equal(flagged.MessageKeys.Order(StringComparer.Ordinal), expunged!.MessageKeys.Order(StringComparer.Ordinal));
        var one = await p.Store.GetMessageAsync(flagged.MessageKeys[count / 2]);
        var place = Assert.Single(one!.Locations);
        Assert.Equal(LocationOrigin.Expunged, place.EndReason);
        Assert.Contains("\\flagged", place.Flags, StringComparer.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task FlagsSet_OneUidMoreThanFollowed_NotFollowed()
    {
        await using var p = await TestPipeline.CreateAsync();
        var json = Flags($"1:{MessageHandler.MaxUidsPerEvent + 1}");

        Assert.IsType<JobOutcome.Done>(await p.RunAsync(json));

        Assert.Empty((await p.Store.GetEventAsync(TestPipeline.JobFor(json).Id))!.MessageKeys);
    }
}
