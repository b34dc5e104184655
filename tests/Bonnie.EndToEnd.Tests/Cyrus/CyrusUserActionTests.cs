using System.Security.Cryptography;
using System.Text.Json;
using Bonnie.EndToEnd.Tests.Neighbours;
using MailKit;
using MailKit.Net.Imap;
using MimeKit;

namespace Bonnie.EndToEnd.Tests.Cyrus;

/// <summary>
/// Users act on a real Cyrus with a real IMAP client and LMTP; notifyd runs the real dealer; a real Bonnie stores
/// what happened; each test asserts what Bonnie's API then shows.
/// </summary>
[Collection(CyrusCollection.Name)]
public sealed class CyrusUserActionTests(CyrusUserActionTests.Fixture bonnie) : IClassFixture<CyrusUserActionTests.Fixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private CyrusFixture Cyrus => bonnie.Cyrus;

    [Fact]
    public async Task Delivery_ThenReadFlagUnflagCopyMoveDeleteExpunge_MessageHistoryFollowsItAcrossFolders()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var ct = cancel.Token;
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var test = CyrusFixture.NewMessage(Cyrus.Alice, "Quarterly figures " + suffix);
        await Cyrus.DeliverAsync(test.Message, [Cyrus.Alice], ct);
        var key = await MessageKeyAsync(test.MessageId, "MessageNew");

        using (var client = await Cyrus.ConnectAsync(Cyrus.Alice, ct))
        {
            var inbox = client.Inbox;
            var archive = await inbox.CreateAsync("Archive-" + suffix, isMessageFolder: true, ct);
            var work = await inbox.CreateAsync("Work-" + suffix, isMessageFolder: true, ct);
            Assert.NotNull(archive);
            Assert.NotNull(work);
            await inbox.OpenAsync(FolderAccess.ReadWrite, ct);
            var uid = (await inbox.SearchAsync(MailKit.Search.SearchQuery.HeaderContains("Message-ID", test.MessageId), ct)).Single();
            await inbox.AddFlagsAsync(uid, MessageFlags.Seen, silent: true, ct);
            await inbox.AddFlagsAsync(uid, MessageFlags.Flagged, silent: true, ct);
            await inbox.RemoveFlagsAsync(uid, MessageFlags.Flagged, silent: true, ct);
            var copied = (await inbox.CopyToAsync(uid, archive, ct))!.Value;
            await inbox.MoveToAsync(uid, work, ct);
            await archive.OpenAsync(FolderAccess.ReadWrite, ct);
            await archive.AddFlagsAsync(copied, MessageFlags.Deleted, silent: true, ct);
            await archive.ExpungeAsync(ct);
            await client.DisconnectAsync(quit: true, ct);
        }

        // The expunge is the last thing the user did: once its location has ended, everything before is stored.
        var history = await BonnieOnCyrus.EventuallyJsonAsync(async c =>
        {
            var h = await bonnie.GetAsync($"/api/messages/{Uri.EscapeDataString(key)}/history", c);
            var locations = h?.GetProperty("item").GetProperty("locations").EnumerateArray().ToList() ?? [];
            return locations.Count == 3 && locations.All(l => l.GetProperty("origin").GetString() != "copied" || l.GetProperty("until").ValueKind != JsonValueKind.Null)
                ? h : null;
        }, "the message's three locations, the copy expunged");

        var item = history.GetProperty("item");
        var places = item.GetProperty("locations").EnumerateArray()
            .Select(l => (Folder: l.GetProperty("folderName").GetString()!, Origin: l.GetProperty("origin").GetString(),
                Ended: l.GetProperty("endReason").GetString()))
            .ToList();
        Assert.Equal(
            [("user/alice@example.org", "delivered", "moved"), ($"user/alice/Archive-{suffix}@example.org", "copied", "expunged"),
                ($"user/alice/Work-{suffix}@example.org", "moved", null)],
            places);
        var current = item.GetProperty("locations")[2];
        Assert.Contains("\\Seen", current.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
        Assert.DoesNotContain("\\Flagged", current.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));

        // The changes, oldest first, tell the story in the order the user acted.
        var story = history.GetProperty("changes").EnumerateArray()
            .Select(c => $"{c.GetProperty("aspect").GetString()} {c.GetProperty("key").GetString()} {c.GetProperty("to").GetString() ?? "-"} @{Short(c.GetProperty("folderName").GetString())}")
            .ToList();
        AssertInOrder(story,
            "Location delivered", "Flag \\Seen set @INBOX", "Flag \\Flagged set @INBOX", "Flag \\Flagged unset @INBOX",
            "Location copied", "Location moved", "Flag \\Deleted set @Archive", "Location expunged - @Archive");
        var types = history.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("type").GetString()).ToList();
        Assert.Equal("MessageNew", types[0]);
        Assert.Contains("MessageCopy", types);
        Assert.Contains("MessageMove", types);
        Assert.Contains("MessageExpunge", types);
    }

    [Fact]
    public async Task DeliveryAndAppend_PayloadStoredByteExact_Sha256AndGuidMatchWhatCyrusHolds()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var ct = cancel.Token;
        var delivered = CyrusFixture.NewMessage(Cyrus.Bob, "Delivered payload");
        var appended = CyrusFixture.NewMessage(Cyrus.Bob, "Appended payload");
        await Cyrus.DeliverAsync(delivered.Message, [Cyrus.Bob], ct);
        await Cyrus.AppendAsync(Cyrus.Bob, "INBOX", appended.Message, MessageFlags.Seen, ["$Draft"], ct);

        foreach (var (test, type, origin) in new[] { (delivered, "MessageNew", "delivered"), (appended, "MessageAppend", "appended") })
        {
            var key = await MessageKeyAsync(test.MessageId, type);
            var item = (await bonnie.GetAsync($"/api/messages/{Uri.EscapeDataString(key)}/history", ct))!.Value.GetProperty("item");
            var bytes = await Cyrus.RawAsync(Cyrus.Bob, test.MessageId, ct);

            Assert.Equal("Stored", item.GetProperty("payloadStatus").GetString());
            Assert.Equal(BonnieOnCyrus.Hex(SHA256.HashData(bytes)), item.GetProperty("payloadSha256").GetString());
            var emailId = item.GetProperty("emailId").GetString()!;
            Assert.Equal(key, emailId);
#pragma warning disable CA5350 // Cyrus's GUID is SHA-1: compared here, as Bonnie does, never trusted.
            Assert.StartsWith(emailId[1..], BonnieOnCyrus.Hex(SHA1.HashData(bytes)), StringComparison.Ordinal);
#pragma warning restore CA5350
            Assert.Equal(origin, item.GetProperty("locations")[0].GetProperty("origin").GetString());
            Assert.Equal(bytes.Length, item.GetProperty("size").GetInt64());
        }
    }

    [Fact]
    public async Task BurstIntoOneMailbox_EveryAppendKeptWithItsPayload_EachFlagAfterItsAppend()
    {
        // One user's burst (what a migration into one account sends): the broker hands the worker runs of that mailbox,
        // stored in batches, fetched several payloads at once. Nothing may be lost, and nothing stored before what it
        // follows.
        using var cancel = new CancellationTokenSource(Timeout);
        var ct = cancel.Token;
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var messages = Enumerable.Range(0, 25).Select(i => CyrusFixture.NewMessage(Cyrus.Bob, $"Burst {suffix} {i}")).ToList();
        using (var client = await Cyrus.ConnectAsync(Cyrus.Bob, ct))
        {
            var inbox = client.Inbox;
            await inbox.OpenAsync(FolderAccess.ReadWrite, ct);
            foreach (var test in messages)
            {
                var uid = await inbox.AppendAsync(new AppendRequest(test.Message, MessageFlags.None), ct)
                    ?? throw new InvalidOperationException("Cyrus answered APPEND without APPENDUID");
                await inbox.AddFlagsAsync(uid, MessageFlags.Flagged, silent: true, ct);
            }
            await client.DisconnectAsync(quit: true, ct);
        }

        foreach (var test in messages)
        {
            var key = await MessageKeyAsync(test.MessageId, "MessageAppend");
            var history = await BonnieOnCyrus.EventuallyJsonAsync(async c =>
            {
                var h = await bonnie.GetAsync($"/api/messages/{Uri.EscapeDataString(key)}/history", c);
                return h?.GetProperty("changes").EnumerateArray().Any(ch => ch.GetProperty("key").GetString() == "\\Flagged") == true ? h : null;
            }, $"the flag on {test.MessageId}");
            var item = history.GetProperty("item");
            Assert.Equal("Stored", item.GetProperty("payloadStatus").GetString());
            Assert.Equal(BonnieOnCyrus.Hex(SHA256.HashData(await Cyrus.RawAsync(Cyrus.Bob, test.MessageId, ct))), item.GetProperty("payloadSha256").GetString());
            var story = history.GetProperty("changes").EnumerateArray()
                .Select(c => $"{c.GetProperty("aspect").GetString()} {c.GetProperty("key").GetString()} {c.GetProperty("to").GetString() ?? "-"}")
                .ToList();
            AssertInOrder(story, "Location appended", "Flag \\Flagged set");
        }
    }

    [Fact]
    public async Task FolderCreateSubscribeAclGrantRevokeRenameDelete_FolderHistoryShowsNamesAndAclEntries()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var ct = cancel.Token;
        var suffix = Guid.NewGuid().ToString("N")[..8];
        using (var client = await Cyrus.ConnectAsync(Cyrus.Alice, ct))
        {
            var folder = await client.Inbox.CreateAsync("Projects-" + suffix, isMessageFolder: true, ct);
            Assert.NotNull(folder);
            await folder.SubscribeAsync(ct);
            await folder.AddAccessRightsAsync(Cyrus.Bob, new AccessRights("lr"), ct);
            await folder.RemoveAccessAsync(Cyrus.Bob, ct);
            await folder.RenameAsync(client.Inbox, "Done-" + suffix, ct);
            await folder.UnsubscribeAsync(ct);
            await folder.DeleteAsync(ct);
            await client.DisconnectAsync(quit: true, ct);
        }

        var created = (await bonnie.WaitForEventsAsync($"event:MailboxCreate user:{Cyrus.Alice}", 1))
            .Last(e => e.GetProperty("folder").GetString() == $"user/alice/Projects-{suffix}@example.org");
        var folderId = created.GetProperty("folderId").GetString()!;
        var history = await BonnieOnCyrus.EventuallyJsonAsync(async c =>
        {
            var h = await bonnie.GetAsync($"/api/folders/{Uri.EscapeDataString(folderId)}/history", c);
            return h?.GetProperty("item").GetProperty("exists").GetBoolean() == false ? h : null;
        }, "the folder's deletion");

        var item = history.GetProperty("item");
        Assert.Equal($"user/alice/Done-{suffix}@example.org", item.GetProperty("name").GetString());
        var changes = history.GetProperty("changes").EnumerateArray()
            .Select(c => (Aspect: c.GetProperty("aspect").GetString(), Key: c.GetProperty("key").GetString(),
                From: c.GetProperty("from").GetString(), To: c.GetProperty("to").GetString()))
            .ToList();
        Assert.Equal(("Existence", null, "absent", "present"), changes[0]);
        var tail = changes.Where(c => c.Aspect != "Existence" || c.To == "absent").ToList();
        Assert.Contains(("Subscription", Cyrus.Alice, "unsubscribed", "subscribed"), tail);
        var grant = tail.FindIndex(c => c is { Aspect: "Acl", Key: "bob@example.org", From: null, To: "lr" });
        var revoke = tail.FindIndex(c => c is { Aspect: "Acl", Key: "bob@example.org", From: "lr", To: null });
        var rename = tail.FindIndex(c => c == ("Name", null, $"user/alice/Projects-{suffix}@example.org", $"user/alice/Done-{suffix}@example.org"));
        var unsubscribe = tail.FindIndex(c => c == ("Subscription", Cyrus.Alice, "subscribed", "unsubscribed"));
        var delete = tail.FindIndex(c => c == ("Existence", null, "present", "absent"));
        Assert.True(grant >= 0 && grant < revoke && revoke < rename && rename < delete && unsubscribe >= 0 && unsubscribe < delete,
            "changes out of order: " + string.Join("; ", changes));
    }

    [Fact]
    public async Task ParentRenamed_ChildFolderFollows_AndAMoveOutOfTheChildKeepsOneMessageHistory()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var ct = cancel.Token;
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var test = CyrusFixture.NewMessage(Cyrus.Alice, "Acme contract " + suffix);
        using (var client = await Cyrus.ConnectAsync(Cyrus.Alice, ct))
        {
            var parent = await client.Inbox.CreateAsync("Projects-" + suffix, isMessageFolder: true, ct);
            var child = await parent!.CreateAsync("Acme", isMessageFolder: true, ct);
            var uid = (await child!.AppendAsync(new AppendRequest(test.Message, MessageFlags.None), ct))!.Value;
            // Cyrus renames Projects-…/Acme with its parent and notifies only the parent's rename.
            await parent.RenameAsync(client.Inbox, "Clients-" + suffix, ct);
            var separator = client.Inbox.DirectorySeparator;
            var renamed = await client.GetFolderAsync($"INBOX{separator}Clients-{suffix}{separator}Acme", ct);
            await renamed.OpenAsync(FolderAccess.ReadWrite, ct);
            await renamed.MoveToAsync(uid, client.Inbox, ct);
            await client.DisconnectAsync(quit: true, ct);
        }

        var key = await MessageKeyAsync(test.MessageId, "MessageAppend");
        var history = await BonnieOnCyrus.EventuallyJsonAsync(async c =>
        {
            var h = await bonnie.GetAsync($"/api/messages/{Uri.EscapeDataString(key)}/history", c);
            var locations = h?.GetProperty("item").GetProperty("locations").EnumerateArray().ToList() ?? [];
            return locations.Count == 2 && locations[0].GetProperty("endReason").GetString() == "moved" ? h : null;
        }, "the message moved out of the renamed child folder");

        // One message: appended to the child, moved from it (under its new name) to INBOX; no second message made
        // up for a folder Bonnie did not know by that name.
        var places = history.GetProperty("item").GetProperty("locations").EnumerateArray()
            .Select(l => (Origin: l.GetProperty("origin").GetString(), Ended: l.GetProperty("endReason").GetString()))
            .ToList();
        Assert.Equal([("appended", "moved"), ("moved", (string?)null)], places);
        var keys = (await bonnie.WaitForEventsAsync($"messageid:{test.MessageId}", 3))
            .SelectMany(e => e.GetProperty("messageKeys").EnumerateArray().Select(k => k.GetString())).Distinct().ToList();
        Assert.Equal([key], keys);
        var move = history.GetProperty("changes").EnumerateArray().Single(c => c.GetProperty("key").GetString() == "moved");
        Assert.Equal("user/alice@example.org", move.GetProperty("folderName").GetString());

        var childId = (await bonnie.WaitForEventsAsync($"event:MailboxCreate user:{Cyrus.Alice}", 1))
            .Last(e => e.GetProperty("folder").GetString() == $"user/alice/Projects-{suffix}/Acme@example.org")
            .GetProperty("folderId").GetString()!;
        var folder = await bonnie.GetAsync($"/api/folders/{Uri.EscapeDataString(childId)}/history", ct);
        Assert.Equal($"user/alice/Clients-{suffix}/Acme@example.org", folder!.Value.GetProperty("item").GetProperty("name").GetString());
        Assert.Contains(folder.Value.GetProperty("changes").EnumerateArray(), c => c.GetProperty("aspect").GetString() == "Name"
            && c.GetProperty("from").GetString() == $"user/alice/Projects-{suffix}/Acme@example.org"
            && c.GetProperty("to").GetString() == $"user/alice/Clients-{suffix}/Acme@example.org");
    }

    [Fact]
    public async Task UserDeletedByTheAdministrator_EveryFolderOfTheUserAndTheirMessagesEnd()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var ct = cancel.Token;
        var user = "leaver-" + Guid.NewGuid().ToString("N")[..8];
        var inbox = $"user/{user}@{CyrusFixture.Domain}";
        var archive = $"user/{user}/Archive@{CyrusFixture.Domain}";
        await ImapAdmin.RunAsync(Cyrus, [$"CREATE \"{inbox}\"", $"CREATE \"{archive}\"", $"SETACL \"{archive}\" anyone p"], ct);
        var test = CyrusFixture.NewMessage($"{user}@{CyrusFixture.Domain}", "Handover notes " + user);
        Assert.All(await Cyrus.DeliverAsync(test.Message, [$"{user}+Archive@{CyrusFixture.Domain}"], ct), answer => Assert.StartsWith("250", answer));
        var key = await MessageKeyAsync(test.MessageId, "MessageNew");
        var archiveId = (await bonnie.WaitForEventsAsync($"event:MailboxCreate folder:\"{archive}\"", 1)).Single().GetProperty("folderId").GetString()!;

        // What an administrator does when someone leaves (cyradm's sam then dm): the right to delete the INBOX, then
        // DELETE user/x, which takes every folder of the user.
        await ImapAdmin.RunAsync(Cyrus, [$"SETACL \"{inbox}\" {Cyrus.Admin} x", $"DELETE \"{inbox}\""], ct);

        var folder = await BonnieOnCyrus.EventuallyJsonAsync(async c =>
        {
            var h = await bonnie.GetAsync($"/api/folders/{Uri.EscapeDataString(archiveId)}/history", c);
            return h?.GetProperty("item").GetProperty("exists").GetBoolean() == false ? h : null;
        }, "the user's Archive folder ended with the user");
        Assert.Contains(folder.GetProperty("changes").EnumerateArray(), c => c.GetProperty("aspect").GetString() == "Existence"
            && c.GetProperty("to").GetString() == "absent");
        var message = await bonnie.GetAsync($"/api/messages/{Uri.EscapeDataString(key)}/history", ct);
        var location = Assert.Single(message!.Value.GetProperty("item").GetProperty("locations").EnumerateArray());
        Assert.Equal("folder-deleted", location.GetProperty("endReason").GetString());
    }

    [Fact]
    public async Task OneDeliveryToAliceAndBob_OneMessage_EachRecipientsPlaceAndActionsInItsHistory()
    {
        // One LMTP transaction to two recipients: Cyrus stores the same bytes in both mailboxes, with one GUID, so
        // Bonnie keeps one message with a delivered place in each INBOX, and what each recipient then does.
        using var cancel = new CancellationTokenSource(Timeout);
        var ct = cancel.Token;
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var test = CyrusFixture.NewMessage(Cyrus.Alice, "Board minutes " + suffix);
        await Cyrus.DeliverAsync(test.Message, [Cyrus.Alice, Cyrus.Bob], ct);

        using (var client = await Cyrus.ConnectAsync(Cyrus.Alice, ct))
        {
            var archive = await client.Inbox.CreateAsync("Minutes-" + suffix, isMessageFolder: true, ct);
            await client.Inbox.OpenAsync(FolderAccess.ReadWrite, ct);
            var uid = (await client.Inbox.SearchAsync(MailKit.Search.SearchQuery.HeaderContains("Message-ID", test.MessageId), ct)).Single();
            await client.Inbox.MoveToAsync(uid, archive!, ct);
            await client.DisconnectAsync(quit: true, ct);
        }
        using (var client = await Cyrus.ConnectAsync(Cyrus.Bob, ct))
        {
            await client.Inbox.OpenAsync(FolderAccess.ReadWrite, ct);
            var uid = (await client.Inbox.SearchAsync(MailKit.Search.SearchQuery.HeaderContains("Message-ID", test.MessageId), ct)).Single();
            await client.Inbox.AddFlagsAsync(uid, MessageFlags.Flagged, silent: true, ct);
            await client.DisconnectAsync(quit: true, ct);
        }

        var deliveries = await bonnie.WaitForEventsAsync($"messageid:{test.MessageId} event:MessageNew", 2);
        var keys = deliveries.Select(e => e.GetProperty("messageKeys")[0].GetString()).Distinct().ToList();
        var key = Assert.Single(keys)!;
        Assert.StartsWith("M", key, StringComparison.Ordinal);
        var history = await BonnieOnCyrus.EventuallyJsonAsync(async c =>
        {
            var h = await bonnie.GetAsync($"/api/messages/{Uri.EscapeDataString(key)}/history", c);
            var flagged = h?.GetProperty("changes").EnumerateArray().Any(x => x.GetProperty("key").GetString() == "\\Flagged") ?? false;
            var moved = h?.GetProperty("changes").EnumerateArray().Any(x => x.GetProperty("key").GetString() == "moved") ?? false;
            return flagged && moved ? h : null;
        }, "bob's flag and alice's move in the one message's history");

        var places = history.GetProperty("item").GetProperty("locations").EnumerateArray()
            .Select(l => (Folder: l.GetProperty("folderName").GetString()!, Origin: l.GetProperty("origin").GetString(), Ended: l.GetProperty("endReason").GetString()))
            .OrderBy(p => p.Folder, StringComparer.Ordinal)
            .ToList();
        Assert.Equal(
            [("user/alice/Minutes-" + suffix + "@example.org", "moved", null), ("user/alice@example.org", "delivered", "moved"),
                ("user/bob@example.org", "delivered", null)],
            places);
        var flag = history.GetProperty("changes").EnumerateArray().Single(x => x.GetProperty("key").GetString() == "\\Flagged");
        Assert.Equal(Cyrus.Bob, flag.GetProperty("user").GetString());
        Assert.Equal("user/bob@example.org", flag.GetProperty("folderName").GetString());
    }

    [Fact]
    public async Task LoginThenLogout_SessionWithBothEndsInTheUsersSessions()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var ct = cancel.Token;
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        using (var client = await Cyrus.ConnectAsync(Cyrus.Bob, ct))
        {
            await client.NoOpAsync(ct);
            await client.DisconnectAsync(quit: true, ct);
        }

        var session = await BonnieOnCyrus.EventuallyJsonAsync(async c =>
        {
            var sessions = await bonnie.GetAsync($"/api/users/{Uri.EscapeDataString(Cyrus.Bob)}/sessions", c);
            return sessions!.Value.GetProperty("items").EnumerateArray()
                .Where(s => s.GetProperty("service").GetString() == "imap"
                    && s.GetProperty("loginAt").ValueKind == JsonValueKind.String && s.GetProperty("loginAt").GetDateTimeOffset() >= before
                    && s.GetProperty("logoutAt").ValueKind == JsonValueKind.String)
                .Select(s => (JsonElement?)s).FirstOrDefault();
        }, "bob's imap session with login and logout");

        var s = session;
        Assert.Equal("127.0.0.1", s.GetProperty("clientIp").GetString());
        Assert.False(s.GetProperty("open").GetBoolean());
        Assert.True(s.GetProperty("logoutAt").GetDateTimeOffset() >= s.GetProperty("loginAt").GetDateTimeOffset());
        Assert.NotNull(s.GetProperty("loginEventId").GetString());
        Assert.NotNull(s.GetProperty("logoutEventId").GetString());
    }

    private static string Short(string? folder) => folder switch
    {
        null => "",
        "user/alice@example.org" => "INBOX",
        _ => folder.Split('/')[^1].Split('-')[0],
    };

    private static void AssertInOrder(List<string> actual, params string[] expected)
    {
        var at = 0;
        foreach (var step in expected)
        {
            while (at < actual.Count && !actual[at].StartsWith(step, StringComparison.Ordinal))
            {
                at++;
            }
            Assert.True(at < actual.Count, $"'{step}' missing or out of order in:\n{string.Join('\n', actual)}");
            at++;
        }
    }

    private async Task<string> MessageKeyAsync(string messageId, string eventType)
    {
        var events = await bonnie.WaitForEventsAsync($"messageid:{messageId} event:{eventType}");
        return events[0].GetProperty("messageKeys")[0].GetString()!;
    }

    /// <summary>The message's exact bytes as Cyrus serves them (BODY.PEEK[]: reading them changes nothing).</summary>
    public sealed class Fixture : BonnieOnCyrus;
}
