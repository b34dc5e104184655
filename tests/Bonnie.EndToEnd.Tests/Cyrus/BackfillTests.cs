using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Bonnie.EndToEnd.Tests.Neighbours;
using Bonnie.EndToEnd.Tests.Pipeline;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;

namespace Bonnie.EndToEnd.Tests.Cyrus;

/// <summary>
/// Mail that reached Cyrus while Bonnie was not listening (no dealer at all), then a backfill started over the API:
/// Bonnie shows the folders and messages as they are, with their payloads, and its search finds them through the one
/// MessageFound event each place found gets; a second run records nothing; a run
/// killed half-way resumes from its checkpoints and leaves the ACLs as it found them.
/// </summary>
[Collection(CyrusCollection.Name)]
public sealed class BackfillTests(BackfillTests.SilentCyrus cyrus) : IClassFixture<BackfillTests.SilentCyrus>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(240);

    [Fact]
    public async Task Backfill_MailDeliveredWhileBonnieWasAway_FoldersAndMessagesWithPayloads_SecondRunRecordsNothing()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var ct = cancel.Token;
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var delivered = CyrusFixture.NewMessage(cyrus.Alice, "Before Bonnie " + suffix);
        delivered.Message.Body = new MimeKit.TextPart("plain") { Text = $"The codeword is quokka{suffix}.\n" };
        await cyrus.DeliverAsync(delivered.Message, [cyrus.Alice], ct);
        string folderId;
        uint appendedUid;
        using (var client = await cyrus.ConnectAsync(cyrus.Bob, ct))
        {
            var old = await client.Inbox.CreateAsync("Old-" + suffix, isMessageFolder: true, ct);
            Assert.NotNull(old);
            await old.SetAccessRightsAsync(cyrus.Alice, new AccessRights("lr"), ct);
            await old.SetMetadataAsync(new MetadataCollection { new Metadata(MetadataTag.SharedComment, "Filed by Bob " + suffix) }, ct);
            appendedUid = (await old.AppendAsync(CyrusFixture.NewMessage(cyrus.Bob, "Filed " + suffix).Message, MessageFlags.Seen | MessageFlags.Flagged, ct))!.Value.Id;
            await old.OpenAsync(FolderAccess.ReadOnly, ct);
            folderId = old.Id!;
            await client.DisconnectAsync(quit: true, ct);
        }
        using var layout = new PipelineLayout();
        var (bonnie, port) = await StartBonnieAsync(layout, messagesPerSecond: 1000);
        using var process = bonnie;
        using var http = Api(port);

        var first = await RunBackfillAsync(http, ct);

        Assert.Empty(first.GetProperty("errors").EnumerateArray());
        Assert.True(first.GetProperty("foldersRecorded").GetInt32() >= 2);
        Assert.True(first.GetProperty("messagesRecorded").GetInt64() >= 2);
        var folder = (await GetAsync(http, $"/api/folders/{Uri.EscapeDataString(folderId)}/history", ct))!.Value;
        Assert.Equal($"user/bob/Old-{suffix}@example.org", folder.GetProperty("item").GetProperty("name").GetString());
        Assert.Equal("backfill", folder.GetProperty("item").GetProperty("foundBy").GetString());
        Assert.Equal(cyrus.Bob, folder.GetProperty("item").GetProperty("owner").GetString());
        var acl = folder.GetProperty("item").GetProperty("acl").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        Assert.Equal("lr", acl[cyrus.Alice]);
        Assert.True(acl.ContainsKey(cyrus.Bob));
        Assert.False(acl.ContainsKey(cyrus.Admin), "the backfill's own temporary grant is not the folder's ACL");
        // Its METADATA as found (Cyrus's own settings beside bob's comment), knowledge like the ACL: no change records.
        var metadata = folder.GetProperty("item").GetProperty("metadata");
        Assert.Equal("Filed by Bob " + suffix, metadata.GetProperty("/shared/comment").GetString());
        Assert.Equal("default", metadata.GetProperty("/shared/vendor/cmu/cyrus-imapd/partition").GetString());
        Assert.False(metadata.TryGetProperty("/shared/vendor/cmu/cyrus-imapd/size", out _), "Cyrus's bookkeeping is not the folder's metadata");
        Assert.Empty(folder.GetProperty("changes").EnumerateArray());
        // Its one message's found event; no other event was invented for the folder.
        Assert.Equal(["vnd.bonnie.MessageFound"], folder.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("name").GetString()));
        Assert.False((await AclOnCyrusAsync(cyrus.Bob, "Old-" + suffix, ct)).ContainsKey(cyrus.Admin), "the grant was taken back on Cyrus");

        var inboxMessage = await AssertBackfilledAsync(http, cyrus.Alice, "INBOX", delivered.MessageId, "user/alice@example.org", ct);
        var filed = await AssertBackfilledAsync(http, cyrus.Bob, "Old-" + suffix, null, $"user/bob/Old-{suffix}@example.org", ct, appendedUid);
        // \Seen is per user in Cyrus: the admin sees its own, not bob's; shared flags are as bob set them.
        Assert.Equal(["\\Flagged"], filed.GetProperty("locations")[0].GetProperty("flags").EnumerateArray().Select(f => f.GetString()!));
        // The place's start is the server's INTERNALDATE, not the backfill's own time: a restore gives it back as the
        // message's internal date.
        DateTimeOffset internalDate;
        using (var client = await cyrus.ConnectAsync(cyrus.Bob, ct))
        {
            var old = await client.Inbox.GetSubfolderAsync("Old-" + suffix, ct);
            await old.OpenAsync(FolderAccess.ReadOnly, ct);
            internalDate = (await old.FetchAsync([new UniqueId(appendedUid)], MessageSummaryItems.InternalDate, ct)).Single().InternalDate!.Value;
            await client.DisconnectAsync(quit: true, ct);
        }
        Assert.Equal(internalDate.ToUnixTimeSeconds(), filed.GetProperty("locations")[0].GetProperty("since").GetDateTimeOffset().ToUnixTimeSeconds());

        // The officers' search reaches mail that was there before Bonnie: by its subject, by a word of its body, by its
        // owner, through its found event, dated by the INTERNALDATE Cyrus gives (found by a review: a query-based export
        // of a backfilled custodian was empty).
        foreach (var q in new[] { $"subject:\"Before Bonnie {suffix}\"", $"quokka{suffix}", $"user:{cyrus.Alice} event:MessageFound quokka{suffix}" })
        {
            var page = (await GetAsync(http, "/api/events?q=" + Uri.EscapeDataString(q), ct))!.Value;
            var hit = Assert.Single(page.GetProperty("items").EnumerateArray());
            Assert.Equal("MessageFound", hit.GetProperty("type").GetString());
            Assert.Equal(inboxMessage.GetProperty("id").GetString(), Assert.Single(hit.GetProperty("messageKeys").EnumerateArray()).GetString());
            Assert.Equal(inboxMessage.GetProperty("locations")[0].GetProperty("since").GetDateTimeOffset(), hit.GetProperty("timestamp").GetDateTimeOffset());
        }

        var second = await RunBackfillAsync(http, ct);

        Assert.Equal(0, second.GetProperty("foldersRecorded").GetInt32());
        Assert.Equal(0, second.GetProperty("messagesRecorded").GetInt64());
        Assert.Equal(0, second.GetProperty("bytes").GetInt64());
        Assert.Equal(first.GetProperty("messagesSeen").GetInt64(), second.GetProperty("messagesSeen").GetInt64());
        var again = (await GetAsync(http, $"/api/messages/{Uri.EscapeDataString(inboxMessage.GetProperty("id").GetString()!)}/history", ct))!.Value;
        Assert.Equal(inboxMessage.GetRawText(), again.GetProperty("item").GetRawText());
    }

    [Fact]
    public async Task Backfill_HostKilledMidWay_ResumesFromCheckpointsAndCompletes_AclAsFound()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var ct = cancel.Token;
        var suffix = Guid.NewGuid().ToString("N")[..8];
        const int Count = 30;
        var uids = new List<uint>();
        using (var client = await cyrus.ConnectAsync(cyrus.Bob, ct))
        {
            var bulk = await client.Inbox.CreateAsync("Bulk-" + suffix, isMessageFolder: true, ct);
            Assert.NotNull(bulk);
            for (var i = 0; i < Count; i++)
            {
                uids.Add((await bulk.AppendAsync(CyrusFixture.NewMessage(cyrus.Bob, $"Bulk {i} {suffix}").Message, MessageFlags.None, ct))!.Value.Id);
            }
            await client.DisconnectAsync(quit: true, ct);
        }
        using var layout = new PipelineLayout();

        long seenBeforeKill;
        var first = await StartBonnieAsync(layout, messagesPerSecond: 15);
        using (first.process)
        {
            using var http = Api(first.port);
            using var start = await http.PostAsync(new Uri("/api/backfill", UriKind.Relative), null, ct);
            Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
            var progress = await BonnieOnCyrus.EventuallyJsonAsync(async c =>
            {
                var p = await GetAsync(http, "/api/backfill", c);
                return p!.Value.GetProperty("messagesSeen").GetInt64() >= 10 ? p : null;
            }, "a backfill half-way");
            Assert.Equal("running", progress.GetProperty("state").GetString());
            seenBeforeKill = progress.GetProperty("messagesSeen").GetInt64();
            first.process.Kill();
        }

        var second = await StartBonnieAsync(layout, messagesPerSecond: 1000);
        using (second.process)
        {
            using var http = Api(second.port);
            var done = await BonnieOnCyrus.EventuallyJsonAsync(async c =>
            {
                var p = await GetAsync(http, "/api/backfill", c);
                return p!.Value.GetProperty("state").GetString() is "completed" or "failed" ? p : null;
            }, "the resumed backfill's end", TimeSpan.FromSeconds(180));

            // The whole progress on failure: its errors say which folder and why.
        Assert.True(done.GetProperty("state").GetString() == "completed", done.GetRawText());
            Assert.True(done.GetProperty("resumed").GetBoolean());
            Assert.Empty(done.GetProperty("errors").EnumerateArray());
            foreach (var uid in uids)
            {
                await AssertBackfilledAsync(http, cyrus.Bob, "Bulk-" + suffix, null, $"user/bob/Bulk-{suffix}@example.org", ct, uid);
            }

            // A fresh run walks everything (and records nothing): the resumed one did not start over.
            var fresh = await RunBackfillAsync(http, ct);
            var total = fresh.GetProperty("messagesSeen").GetInt64();
            Assert.Equal(0, fresh.GetProperty("messagesRecorded").GetInt64());
            Assert.True(done.GetProperty("messagesSeen").GetInt64() <= total - seenBeforeKill,
                $"the resumed run looked at {done.GetProperty("messagesSeen")} of {total} messages after {seenBeforeKill} were done");
        }
        Assert.False((await AclOnCyrusAsync(cyrus.Bob, "Bulk-" + suffix, ct)).ContainsKey(cyrus.Admin), "the backfill left its grant behind");
    }

    /// <summary>The message as Bonnie shows it, after checking it against what Cyrus holds (emailid, bytes, folder).</summary>
    private async Task<JsonElement> AssertBackfilledAsync(HttpClient http, string login, string folderName, string? messageId, string adminName,
        CancellationToken ct, uint? knownUid = null)
    {
        using var client = await cyrus.ConnectAsync(login, ct);
        var folder = folderName == "INBOX" ? client.Inbox : await client.Inbox.GetSubfolderAsync(folderName, ct);
        await folder.OpenAsync(FolderAccess.ReadOnly, ct);
        var uid = knownUid is { } k ? new UniqueId(k) : (await folder.SearchAsync(SearchQuery.HeaderContains("Message-ID", messageId!), ct)).Single();
        var summary = (await folder.FetchAsync([uid], MessageSummaryItems.EmailId, ct)).Single();
        using var stream = await folder.GetStreamAsync(uid, "", ct);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, ct);
        var bytes = copy.ToArray();
        await client.DisconnectAsync(quit: true, ct);

        var history = await GetAsync(http, $"/api/messages/{Uri.EscapeDataString(summary.EmailId!)}/history", ct);
        Assert.True(history is not null, $"no message {summary.EmailId} in Bonnie");
        var item = history.Value.GetProperty("item");
        var location = Assert.Single(item.GetProperty("locations").EnumerateArray());
        Assert.Equal("backfill", location.GetProperty("origin").GetString());
        Assert.Equal(adminName, location.GetProperty("folderName").GetString());
        Assert.Equal(uid.Id, location.GetProperty("uid").GetUInt32());
        Assert.Equal("Stored", item.GetProperty("payloadStatus").GetString());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), item.GetProperty("payloadSha256").GetString());
        Assert.Empty(history.Value.GetProperty("changes").EnumerateArray());
        // One event, Bonnie's own: found there, at the place's start (the server's INTERNALDATE).
        var found = Assert.Single(history.Value.GetProperty("events").EnumerateArray());
        Assert.Equal(("vnd.bonnie.MessageFound", "backfill"), (found.GetProperty("name").GetString(), found.GetProperty("service").GetString()));
        Assert.Equal(location.GetProperty("since").GetDateTimeOffset(), found.GetProperty("timestamp").GetDateTimeOffset());
        return item;
    }

    private static async Task<JsonElement> RunBackfillAsync(HttpClient http, CancellationToken ct)
    {
        using var start = await http.PostAsync(new Uri("/api/backfill", UriKind.Relative), null, ct);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var done = await BonnieOnCyrus.EventuallyJsonAsync(async c =>
        {
            var p = await GetAsync(http, "/api/backfill", c);
            return p!.Value.GetProperty("state").GetString() is "completed" or "failed" ? p : null;
        }, "the backfill's end", TimeSpan.FromSeconds(180));
        // The whole progress on failure: its errors say which folder and why.
        Assert.True(done.GetProperty("state").GetString() == "completed", done.GetRawText());
        return done;
    }

    private async Task<Dictionary<string, string>> AclOnCyrusAsync(string login, string folderName, CancellationToken ct)
    {
        using var client = await cyrus.ConnectAsync(login, ct);
        var folder = await client.Inbox.GetSubfolderAsync(folderName, ct);
        var acl = await folder.GetAccessControlListAsync(ct);
        await client.DisconnectAsync(quit: true, ct);
        return acl.ToDictionary(a => a.Name, a => a.Rights.ToString());
    }

    private async Task<(BonnieProcess process, int port)> StartBonnieAsync(PipelineLayout layout, int messagesPerSecond)
    {
        var port = BonnieProcess.FreePort();
        var process = await BonnieProcess.StartAsync(new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
            ["Bonnie__DataDirectory"] = layout.Directory,
            ["Bonnie__Broker__Enabled"] = "false",
            ["Bonnie__Worker__Enabled"] = "false",
            ["Bonnie__ApiKeys__0__Name"] = "e2e",
            ["Bonnie__ApiKeys__0__Key"] = BonnieOnCyrus.ApiKey,
            ["Bonnie__ApiKeys__0__Role"] = "Administrator",
            ["Bonnie__Payloads__Imap__Host"] = cyrus.Host,
            ["Bonnie__Payloads__Imap__Port"] = cyrus.ImapPort.ToString(CultureInfo.InvariantCulture),
            ["Bonnie__Payloads__Imap__Security"] = "None",
            ["Bonnie__Payloads__Imap__User"] = cyrus.Admin,
            ["Bonnie__Payloads__Imap__Password"] = cyrus.Password,
            ["Bonnie__Backfill__MessagesPerSecond"] = messagesPerSecond.ToString(CultureInfo.InvariantCulture),
            ["Bonnie__Backfill__BatchSize"] = "5",
        }, "Now listening on");
        return (process, port);
    }

    private static HttpClient Api(int port)
    {
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", BonnieOnCyrus.ApiKey);
        return http;
    }

    private static async Task<JsonElement?> GetAsync(HttpClient http, string path, CancellationToken ct)
    {
        using var response = await http.GetAsync(new Uri(path, UriKind.Relative), ct);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct)).RootElement.Clone();
    }

    /// <summary>Cyrus with no Bonnie listening: notifyd runs /bin/true, so events go nowhere, as before an install.</summary>
    public sealed class SilentCyrus() : CyrusFixture("/bin/true");
}
