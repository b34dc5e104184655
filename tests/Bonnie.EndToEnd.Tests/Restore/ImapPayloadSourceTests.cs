using System.Text;
using Bonnie.EndToEnd.Tests.Neighbours;
using Bonnie.Pipeline.Worker;
using Bonnie.Pipeline.Worker.Payloads;
using Bonnie.Shared.Events;
using MailKit;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bonnie.EndToEnd.Tests.Restore;

/// <summary>The worker's IMAP payload source against the real Cyrus: the bytes, and the mailbox's ACL left as it was.</summary>
[Collection(CyrusCollection.Name)]
public sealed class ImapPayloadSourceTests(CapturingCyrusFixture cyrus) : IClassFixture<CapturingCyrusFixture>
{
    private ImapPayloadSource Source() => new(
        new ImapPayloadOptions { Host = cyrus.Host, Port = cyrus.ImapPort, Security = "None", User = cyrus.Admin, Password = cyrus.Password },
        NullLogger<ImapPayloadSource>.Instance);

    /// <summary>A MessageAppend of <paramref name="uid"/> in the folder of this URI path (as Cyrus escapes it).</summary>
    private static CyrusEvent AppendAt(string path, UniqueId uid) => new()
    {
        Type = EventType.MessageAppend, Name = "MessageAppend", Timestamp = DateTimeOffset.UtcNow,
        Mailbox = MailboxUri.Parse($"imap://imap.example.org/{path};UIDVALIDITY={uid.Validity}/;UID={uid.Id}"), Raw = Encoding.UTF8.GetBytes("{}"),
    };

    [Fact]
    public async Task TryFetch_UserFolderTheAdminCannotRead_BytesAndTheAclLeftAsItWas()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var message = CyrusFixture.NewMessage(cyrus.Alice, "payload over IMAP");
        var uid = await cyrus.AppendAsync(cyrus.Alice, "INBOX", message.Message, MessageFlags.None, [], cancel.Token);
        using var client = await cyrus.ConnectAsync(cyrus.Admin, cancel.Token);
        var inbox = await client.GetFolderAsync("user/alice@example.org", cancel.Token);
        // Cyrus keeps its mailboxes between runs: start from an ACL without the admin, whatever an earlier run left.
        if ((await inbox.GetAccessControlListAsync(cancel.Token)).Any(a => a.Name == cyrus.Admin))
        {
            await inbox.RemoveAccessAsync(cyrus.Admin, cancel.Token);
        }
        var aclBefore = (await inbox.GetAccessControlListAsync(cancel.Token)).Select(a => $"{a.Name}={a.Rights}").Order().ToList();
        var source = Source();
        var e = AppendAt("user/alice%40example.org", uid);

        var answer = await source.TryFetchAsync(e, new Job("x", e.Raw, 0, DateTimeOffset.UtcNow), cancel.Token);

        Assert.NotNull(answer.Bytes);
        Assert.Contains("payload over IMAP", Encoding.UTF8.GetString(answer.Bytes));
        var aclAfter = (await inbox.GetAccessControlListAsync(cancel.Token)).Select(a => $"{a.Name}={a.Rights}").Order().ToList();
        Assert.Equal(aclBefore, aclAfter);
        Assert.DoesNotContain(aclAfter, a => a.StartsWith(cyrus.Admin + "=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TryFetchMany_ThreeMessagesOfOneFolderAndOneExpunged_OneGrantForAllEachAnswered()
    {
        // A live review: one login and one grant per message took about 0.7 s each, one after another, and each grant
        // and revocation is an AclChange in the trail. One folder's messages are now read over one session and grant.
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var tag = "many" + Guid.NewGuid().ToString("N")[..8];
        var uids = new List<UniqueId>();
        for (var i = 0; i < 3; i++)
        {
            uids.Add(await cyrus.AppendAsync(cyrus.Alice, "INBOX", CyrusFixture.NewMessage(cyrus.Alice, $"{tag} number {i}").Message, MessageFlags.None, [], cancel.Token));
        }
        var gone = await cyrus.AppendAsync(cyrus.Alice, "INBOX", CyrusFixture.NewMessage(cyrus.Alice, $"{tag} expunged").Message, MessageFlags.Deleted, [], cancel.Token);
        using (var alice = await cyrus.ConnectAsync(cyrus.Alice, cancel.Token))
        {
            await alice.Inbox.OpenAsync(FolderAccess.ReadWrite, cancel.Token);
            await alice.Inbox.ExpungeAsync([gone], cancel.Token);
            await alice.DisconnectAsync(true, cancel.Token);
        }
        using (var admin = await cyrus.ConnectAsync(cyrus.Admin, cancel.Token))
        {
            var inbox = await admin.GetFolderAsync("user/alice@example.org", cancel.Token);
            if ((await inbox.GetAccessControlListAsync(cancel.Token)).Any(a => a.Name == cyrus.Admin))
            {
                await inbox.RemoveAccessAsync(cyrus.Admin, cancel.Token);
            }
            await admin.DisconnectAsync(true, cancel.Token);
        }
        var grantsBefore = AdminGrants();

        var answers = await Source().TryFetchManyAsync([.. uids.Select(u => AppendAt("user/alice%40example.org", u)), AppendAt("user/alice%40example.org", gone)], cancel.Token);

        for (var i = 0; i < 3; i++)
        {
            Assert.Contains($"{tag} number {i}", Encoding.UTF8.GetString(answers[i].Bytes!), StringComparison.Ordinal);
        }
        Assert.Null(answers[3].Bytes);
        Assert.True(answers[3].Gone, answers[3].Reason);
        // notifyd runs the dealer after each command: wait for the grant's and the revocation's events, and a moment more
        // for any further ones (one pair per message before), then count.
        while (AdminGrants() < grantsBefore + 2)
        {
            await Task.Delay(100, cancel.Token);
        }
        await Task.Delay(TimeSpan.FromSeconds(1), cancel.Token);
        Assert.Equal(grantsBefore + 2, AdminGrants());
    }

    // The AclChange events about the admin's own entry: a grant and a revocation per session that needed one.
    private int AdminGrants() => cyrus.Notifications.ReadAll().Count(IsAdminAcl);

    private bool IsAdminAcl(System.Text.Json.JsonElement n) =>
        n.TryGetProperty("event", out var e) && e.GetString() == "AclChange"
        && n.TryGetProperty("aclSubject", out var s) && s.GetString() == cyrus.Admin;

    [Fact]
    public async Task TryFetch_MessageExpungedBeforeTheFetch_GoneNotAskAgain()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var message = CyrusFixture.NewMessage(cyrus.Alice, "expunged at once");
        var uid = await cyrus.AppendAsync(cyrus.Alice, "INBOX", message.Message, MessageFlags.Deleted, [], cancel.Token);
        using (var alice = await cyrus.ConnectAsync(cyrus.Alice, cancel.Token))
        {
            await alice.Inbox.OpenAsync(FolderAccess.ReadWrite, cancel.Token);
            await alice.Inbox.ExpungeAsync([uid], cancel.Token);
            await alice.DisconnectAsync(true, cancel.Token);
        }
        var source = Source();
        var e = AppendAt("user/alice%40example.org", uid);

        var answer = await source.TryFetchAsync(e, new Job("x", e.Raw, 0, DateTimeOffset.UtcNow), cancel.Token);

        Assert.Null(answer.Bytes);
        Assert.True(answer.Gone, answer.Reason);
        Assert.Contains("expunged before it could be fetched", answer.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TryFetch_FolderRenamedBeforeTheFetch_GoneNotAskAgain()
    {
        // Found by a review: five tries 30 s apart by the old name held up the owner's later events for minutes.
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var name = "Renamed-" + Guid.NewGuid().ToString("N")[..8];
        UniqueId uid;
        using (var alice = await cyrus.ConnectAsync(cyrus.Alice, cancel.Token))
        {
            var folder = await alice.Inbox.CreateAsync(name, true, cancel.Token);
            Assert.NotNull(folder);
            await alice.DisconnectAsync(true, cancel.Token);
        }
        uid = await cyrus.AppendAsync(cyrus.Alice, "INBOX/" + name, CyrusFixture.NewMessage(cyrus.Alice, "renamed away").Message, MessageFlags.None, [], cancel.Token);
        using (var alice = await cyrus.ConnectAsync(cyrus.Alice, cancel.Token))
        {
            var folder = await alice.GetFolderAsync("INBOX/" + name, cancel.Token);
            await folder.RenameAsync(alice.Inbox, name + "X", cancel.Token);
            await alice.DisconnectAsync(true, cancel.Token);
        }
        var source = Source();
        var e = AppendAt($"user/alice/{name}%40example.org", uid);

        var answer = await source.TryFetchAsync(e, new Job("x", e.Raw, 0, DateTimeOffset.UtcNow), cancel.Token);

        Assert.Null(answer.Bytes);
        Assert.True(answer.Gone, answer.Reason);
        Assert.Contains("no longer exists under this name", answer.Reason, StringComparison.Ordinal);
    }
}
