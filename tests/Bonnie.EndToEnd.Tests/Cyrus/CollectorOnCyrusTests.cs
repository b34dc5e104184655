using System.Security.Cryptography;
using System.Text.Json;
using Bonnie.EndToEnd.Tests.Neighbours;
using MailKit;

namespace Bonnie.EndToEnd.Tests.Cyrus;

/// <summary>
/// The deployment with the worker off the IMAP host: it has neither Cyrus's spool nor an IMAP login, and asks the
/// bonnie-collector process beside Cyrus (Bonnie:Payloads:UseCollector). Real Cyrus, real dealer, real broker host,
/// worker and collector processes; what the API shows afterwards is what the collector read.
/// </summary>
[Collection(CyrusCollection.Name)]
public sealed class CollectorOnCyrusTests(CollectorOnCyrusTests.Fixture bonnie) : IClassFixture<CollectorOnCyrusTests.Fixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private CyrusFixture Cyrus => bonnie.Cyrus;

    [Fact]
    public async Task DeliveryAndAppend_WorkerWithoutSpoolOrImap_PayloadsByteExactFromTheCollector()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var ct = cancel.Token;
        var delivered = CyrusFixture.NewMessage(Cyrus.Bob, "Collected delivery");
        var appended = CyrusFixture.NewMessage(Cyrus.Bob, "Collected append");
        await Cyrus.DeliverAsync(delivered.Message, [Cyrus.Bob], ct);
        await Cyrus.AppendAsync(Cyrus.Bob, "INBOX", appended.Message, MessageFlags.Seen, [], ct);

        foreach (var (test, type) in new[] { (delivered, "MessageNew"), (appended, "MessageAppend") })
        {
            var item = await BonnieOnCyrus.EventuallyJsonAsync(async c =>
                await bonnie.SearchAsync($"event:{type} messageid:\"{test.MessageId}\"", c) is [var e, ..] ? e : null, $"the {type} of {test.MessageId}");
            var bytes = await Cyrus.RawAsync(Cyrus.Bob, test.MessageId, ct);

            Assert.Equal("Stored", item.GetProperty("payloadStatus").GetString());
            Assert.Equal(BonnieOnCyrus.Hex(SHA256.HashData(bytes)), item.GetProperty("payloadSha256").GetString());
        }
    }

    [Fact]
    public async Task SetMetadata_WorkerWithoutImap_FolderMetadataFromTheCollector()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var ct = cancel.Token;
        var label = "Hold-" + Guid.NewGuid().ToString("N")[..8];
        var name = $"user/alice/{label}@{CyrusFixture.Domain}";
        using (var alice = await Cyrus.ConnectAsync(Cyrus.Alice, ct))
        {
            await alice.Inbox.CreateAsync(label, true, ct);
        }
        var created = (await bonnie.WaitForEventsAsync($"event:MailboxCreate folder:\"{name}\"")).Single();
        var folderId = created.GetProperty("folderId").GetString()!;
        using (var admin = await Cyrus.ConnectAsync(Cyrus.Admin, ct))
        {
            var folder = await admin.GetFolderAsync(name, ct);
            await folder.SetMetadataAsync(new MetadataCollection([new Metadata(MetadataTag.SharedComment, "under legal hold")]), ct);
        }

        var history = await BonnieOnCyrus.EventuallyJsonAsync(async c =>
        {
            var h = await bonnie.GetAsync($"/api/folders/{Uri.EscapeDataString(folderId)}/history", c);
            return h?.GetProperty("item").GetProperty("metadata").TryGetProperty("/shared/comment", out _) == true ? h : null;
        }, $"the METADATA of {name}");

        Assert.Equal("under legal hold", history.GetProperty("item").GetProperty("metadata").GetProperty("/shared/comment").GetString());
        Assert.Contains(history.GetProperty("changes").EnumerateArray(),
            c => c.GetProperty("aspect").GetString() == "Metadata" && c.GetProperty("to").GetString() == "under legal hold");
    }

    public sealed class Fixture() : BonnieOnCyrus(withCollector: true);
}
