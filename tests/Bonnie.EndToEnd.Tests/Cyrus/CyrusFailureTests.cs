using Bonnie.EndToEnd.Tests.Neighbours;
using MailKit;

namespace Bonnie.EndToEnd.Tests.Cyrus;

/// <summary>Users keep working on real Cyrus while Bonnie's host is down or its worker dies: nothing is lost, nothing doubled.</summary>
[Collection(CyrusCollection.Name)]
public sealed class CyrusFailureTests(CyrusFailureTests.Fixture bonnie) : IClassFixture<CyrusFailureTests.Fixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(180);
    private CyrusFixture Cyrus => bonnie.Cyrus;

    [Fact]
    public async Task HostDown_UsersAppendAndFlag_DealerSpools_HostBackAndDrained_EveryEventStoredOnce()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var ct = cancel.Token;
        var tag = "outage" + Guid.NewGuid().ToString("N")[..8];
        bonnie.StopWorker();
        bonnie.StopHost();
        var before = SpooledFiles().Length;

        var messages = Enumerable.Range(0, 8).Select(i => CyrusFixture.NewMessage(Cyrus.Alice, $"{tag} number {i}")).ToList();
        using (var client = await Cyrus.ConnectAsync(Cyrus.Alice, ct))
        {
            await client.Inbox.OpenAsync(FolderAccess.ReadWrite, ct);
            foreach (var m in messages)
            {
                var uid = (await client.Inbox.AppendAsync(m.Message, MessageFlags.None, ct))!.Value;
                await client.Inbox.AddFlagsAsync(uid, MessageFlags.Flagged, silent: true, ct);
            }
            await client.DisconnectAsync(quit: true, ct);
        }
        // notifyd runs the dealer after the command returns: wait until the last flag change is spooled too.
        await BonnieOnCyrus.EventuallyAsync<string[]>(_ => Task.FromResult(SpooledFiles() is var files && files.Length >= before + 2 * messages.Count ? files : null),
            $"at least {2 * messages.Count} more spooled events");

        await bonnie.StartHostAsync();
        await bonnie.StartWorkerAsync();
        await bonnie.DrainAsync();

        Assert.Empty(SpooledFiles());
        var appends = await bonnie.WaitForEventsAsync($"subject:{tag} event:MessageAppend", messages.Count);
        // A flag change carries the Message-ID but no envelope.
        var anyOfThem = string.Join(" OR ", messages.Select(m => "messageid:" + m.MessageId));
        var flags = await bonnie.WaitForEventsAsync($"event:FlagsSet ({anyOfThem})", messages.Count);
        Assert.Equal(messages.Count, appends.Count);
        Assert.Equal(messages.Count, flags.Count);
        Assert.Equal(messages.Select(m => "<" + m.MessageId + ">").Order(),
            appends.Select(e => e.GetProperty("messageIds")[0].GetString()!).Order());
        Assert.All(appends, e => Assert.Equal("Stored", e.GetProperty("payloadStatus").GetString()));
    }

    [Fact]
    public async Task WorkerKilledMidStream_NextWorkerFinishes_EveryAppendStoredOnce()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var ct = cancel.Token;
        var tag = "stream" + Guid.NewGuid().ToString("N")[..8];
        const int Count = 30;

        var appending = Task.Run(async () =>
        {
            using var client = await Cyrus.ConnectAsync(Cyrus.Bob, ct);
            for (var i = 0; i < Count; i++)
            {
                await client.Inbox.AppendAsync(CyrusFixture.NewMessage(Cyrus.Bob, $"{tag} number {i}").Message, MessageFlags.None, ct);
            }
            await client.DisconnectAsync(quit: true, ct);
        }, ct);
        await bonnie.WaitForEventsAsync($"subject:{tag} event:MessageAppend", 3);
        bonnie.StopWorker();
        await appending.WaitAsync(ct);
        await bonnie.StartWorkerAsync();

        var appends = await bonnie.WaitForEventsAsync($"subject:{tag} event:MessageAppend", Count);
        Assert.Equal(Count, appends.Count);
        Assert.Equal(Count, appends.Select(e => e.GetProperty("id").GetString()).Distinct().Count());
        Assert.Equal(Count, appends.Select(e => e.GetProperty("messageKeys")[0].GetString()).Distinct().Count());
    }

    private string[] SpooledFiles() => Directory.Exists(bonnie.DealerSpool) ? Directory.GetFiles(bonnie.DealerSpool) : [];

    public sealed class Fixture : BonnieOnCyrus;
}
