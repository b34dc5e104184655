using System.Text.Json;
using MailKit;

namespace Bonnie.EndToEnd.Tests.Neighbours;

/// <summary>The test environment itself: a live Cyrus sends the notifications the recorded fixtures show.</summary>
[Collection(CyrusCollection.Name)]
public sealed class CyrusNotificationTests(CapturingCyrusFixture cyrus) : IClassFixture<CapturingCyrusFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ImapAppend_ByAlice_SendsMessageAppendShapedLikeTheRecording()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var message = CyrusFixture.NewMessage(cyrus.Alice, "appended via IMAP");

        var uid = await cyrus.AppendAsync(cyrus.Alice, "INBOX", message.Message, MessageFlags.Seen, ["$Label1"], cancel.Token);

        var live = await cyrus.Notifications.WaitForAsync(
            n => Is(n, "MessageAppend") && CarriesMessageId(n, message.MessageId), Timeout, cancel.Token);
        AssertSameShape(Recorded("MessageAppend.json"), live);
        Assert.Equal(cyrus.Alice, live.GetProperty("user").GetString());
        Assert.Equal("imap", live.GetProperty("service").GetString());
        Assert.EndsWith($"/;UID={uid.Id}", live.GetProperty("uri").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("imap://imap.example.org/user/alice%40example.org;UIDVALIDITY=", live.GetProperty("uri").GetString(), StringComparison.Ordinal);
        Assert.Matches("^M[0-9a-f]{24}$", live.GetProperty("vnd.cmu.emailid").GetString());
    }

    [Fact]
    public async Task LmtpDelivery_ToAliceAndBob_SendsMessageNewForEach()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var message = CyrusFixture.NewMessage(cyrus.Alice, "lmtp delivery");

        var answers = await cyrus.DeliverAsync(message.Message, [cyrus.Alice, cyrus.Bob], cancel.Token);

        Assert.All(answers, answer => Assert.StartsWith("250 2.1.5", answer, StringComparison.Ordinal));
        foreach (var user in cyrus.Users)
        {
            var live = await cyrus.Notifications.WaitForAsync(
                n => Is(n, "MessageNew") && CarriesMessageId(n, message.MessageId) && n.GetProperty("user").GetString() == user,
                Timeout, cancel.Token);
            AssertSameShape(Recorded("MessageNew.json"), live);
            Assert.Equal("lmtp", live.GetProperty("service").GetString());
        }

        Assert.Single(await cyrus.FindInInboxAsync(cyrus.Bob, message.MessageId, cancel.Token));
    }

    [Fact]
    public async Task ImapLogin_ByBob_SendsLoginAndLogoutOfOneSession()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);

        using (var client = await cyrus.ConnectAsync(cyrus.Bob, cancel.Token))
        {
            await client.DisconnectAsync(quit: true, cancel.Token);
        }

        var login = await cyrus.Notifications.WaitForAsync(
            n => Is(n, "Login") && n.GetProperty("user").GetString() == cyrus.Bob && After(n, before), Timeout, cancel.Token);
        var session = login.GetProperty("vnd.cmu.sessionId").GetString();
        var logout = await cyrus.Notifications.WaitForAsync(
            n => Is(n, "Logout") && n.GetProperty("vnd.cmu.sessionId").GetString() == session, Timeout, cancel.Token);
        AssertSameShape(Recorded("Login.json"), login);
        Assert.Equal(cyrus.Bob, logout.GetProperty("user").GetString());
    }

    [Fact]
    public void Start_WithCapture_TookLessThanTenSeconds()
    {
        // Cyrus is restarted per test class: a slow start multiplies over the suite.
        Assert.InRange(cyrus.StartDuration, TimeSpan.Zero, TimeSpan.FromSeconds(10));
    }

    private static bool Is(JsonElement notification, string name) => notification.GetProperty("event").GetString() == name;

    private static bool After(JsonElement notification, DateTimeOffset moment) =>
        notification.GetProperty("timestamp").GetDateTimeOffset() >= moment;

    private static bool CarriesMessageId(JsonElement notification, string messageId) =>
        notification.TryGetProperty("vnd.cmu.midset", out var ids)
        && ids.EnumerateArray().Any(id => id.GetString() == $"<{messageId}>");

    private static JsonElement Recorded(string file)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(RepositoryRoot.Combine("tests", "TestData", "cyrus", "events", file)));
        return document.RootElement.Clone();
    }

    /// <summary>Same field names and the same JSON kinds: what the parser and the dealer are built against.</summary>
    private static void AssertSameShape(JsonElement recorded, JsonElement live)
    {
        var expected = recorded.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind);
        var actual = live.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind);
        Assert.Equal(expected.OrderBy(p => p.Key, StringComparer.Ordinal), actual.OrderBy(p => p.Key, StringComparer.Ordinal));
    }
}
