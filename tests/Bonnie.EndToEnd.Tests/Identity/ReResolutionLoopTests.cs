using Bonnie.Pipeline.Identity;
using Bonnie.Shared.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bonnie.EndToEnd.Tests.Identity;

/// <summary>The re-resolution service's own loop on a fake clock, against a slapd of its own that it stops.</summary>
public sealed class ReResolutionLoopTests(PeopleDirectory directory) : IClassFixture<PeopleDirectory>
{
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
}
