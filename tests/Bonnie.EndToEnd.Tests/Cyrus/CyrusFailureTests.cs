using Bonnie.EndToEnd.Tests.Neighbours;
using MailKit;

namespace Bonnie.EndToEnd.Tests.Cyrus;

/// <summary>Users keep working on real Cyrus while Bonnie's host is down or its worker dies: nothing is lost, nothing doubled.</summary>
[Collection(CyrusCollection.Name)]
public sealed class CyrusFailureTests(CyrusFailureTests.Fixture bonnie) : IClassFixture<CyrusFailureTests.Fixture>, IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(180);
    private CyrusFixture Cyrus => bonnie.Cyrus;

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Each test stops the host or the worker: whatever happened in it, the next starts with both running.</summary>
    public Task DisposeAsync() => bonnie.EnsureRunningAsync();

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

    [Fact]
    public async Task DeliveryMovedByItsUserBeforeItsBytesWereRead_OverImap_BytesKeptFromWhereItWent()
    {
        // Found by a live review: a message a client's rule moves the moment it arrives was gone from INBOX when the
        // worker (IMAP as the only payload source) came to read it, and was kept without its bytes. Here both events
        // wait in the dealer's spool, so the worker surely finds INBOX empty.
        using var cancel = new CancellationTokenSource(Timeout);
        var ct = cancel.Token;
        var tag = "filed" + Guid.NewGuid().ToString("N")[..8];
        var folder = "Filed-" + tag;
        bonnie.StopWorker();
        bonnie.StopHost();
        var test = CyrusFixture.NewMessage(Cyrus.Alice, $"{tag} moved at once");
        byte[] bytes;
        using (var client = await Cyrus.ConnectAsync(Cyrus.Alice, ct))
        {
            var filed = await client.GetFolder(client.PersonalNamespaces[0]).CreateAsync(folder, isMessageFolder: true, ct);
            await Cyrus.DeliverAsync(test.Message, [Cyrus.Alice], ct);
            await client.Inbox.OpenAsync(FolderAccess.ReadWrite, ct);
            var uid = (await client.Inbox.SearchAsync(MailKit.Search.SearchQuery.HeaderContains("Message-ID", test.MessageId), ct)).Single();
            using (var stream = await client.Inbox.GetStreamAsync(uid, "", ct))
            using (var copy = new MemoryStream())
            {
                await stream.CopyToAsync(copy, ct);
                bytes = copy.ToArray();
            }
            await client.Inbox.MoveToAsync(uid, filed!, ct);
            await client.DisconnectAsync(quit: true, ct);
        }
        // notifyd runs the dealer after the command returns: wait until the move is spooled (the delivery came before it).
        await BonnieOnCyrus.EventuallyAsync<string[]>(_ => Task.FromResult(SpooledFiles() is var files
                && files.Any(f => File.ReadAllText(f) is var text && text.Contains("MessageMove", StringComparison.Ordinal) && text.Contains(test.MessageId, StringComparison.Ordinal))
                ? files : null),
            "the move spooled");
        try
        {
            await bonnie.StartHostAsync();
            await bonnie.StartWorkerAsync(new Dictionary<string, string>
            {
                ["Bonnie__Payloads__SpoolPartitions__0"] = "",
                ["Bonnie__Payloads__Imap__Host"] = Cyrus.Host,
                ["Bonnie__Payloads__Imap__Port"] = Cyrus.ImapPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Bonnie__Payloads__Imap__Security"] = "None",
                ["Bonnie__Payloads__Imap__User"] = Cyrus.Admin,
                ["Bonnie__Payloads__Imap__Password"] = Cyrus.Password,
            });
            await bonnie.DrainAsync();

            var move = Assert.Single(await bonnie.WaitForEventsAsync($"event:MessageMove messageid:{test.MessageId}"));
            var key = move.GetProperty("messageKeys")[0].GetString()!;
            var item = (await bonnie.GetAsync($"/api/messages/{Uri.EscapeDataString(key)}/history", ct))!.Value.GetProperty("item");
            Assert.Equal("Stored", item.GetProperty("payloadStatus").GetString());
            Assert.Equal(BonnieOnCyrus.Hex(System.Security.Cryptography.SHA256.HashData(bytes)), item.GetProperty("payloadSha256").GetString());
            Assert.Equal("Stored", move.GetProperty("payloadStatus").GetString());
            var delivery = Assert.Single(await bonnie.WaitForEventsAsync($"event:MessageNew messageid:{test.MessageId}"));
            Assert.Equal("Missing", delivery.GetProperty("payloadStatus").GetString());
        }
        finally
        {
            // The other tests of this class expect the worker as the fixture starts it.
            await bonnie.EnsureRunningAsync(restartWorker: true);
        }
    }

    /// <summary>
    /// The notifications the dealer has spooled, not those it is still writing: it writes each to a hidden temporary
    /// file and renames it into place (DurableFile), and reading one while the dealer holds it failed the test with
    /// "being used by another process".
    /// </summary>
    private string[] SpooledFiles() => Directory.Exists(bonnie.DealerSpool)
        ? Directory.GetFiles(bonnie.DealerSpool).Where(f => !Path.GetFileName(f).StartsWith('.')).ToArray()
        : [];

    public sealed class Fixture : BonnieOnCyrus;
}
