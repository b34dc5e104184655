namespace Bonnie.EndToEnd.Tests.Neighbours;

[Collection(CyrusCollection.Name)]
public sealed class PostfixRelayTests(CapturingCyrusFixture cyrus, PostfixFixture postfix)
    : IClassFixture<CapturingCyrusFixture>, IClassFixture<PostfixFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Smtp_ToAlice_ReachesHerInboxAndTheLogFollowsTheQueueId()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var message = CyrusFixture.NewMessage(cyrus.Alice, "through postfix");

        var queueId = await postfix.SendAsync(message.Message, cancel.Token);

        var sent = await postfix.WaitForLogLineAsync(
            line => line.Contains($"{queueId}: to=<{cyrus.Alice}>", StringComparison.Ordinal)
                && line.Contains("status=sent", StringComparison.Ordinal),
            Timeout, cancel.Token);
        Assert.Contains($"relay=127.0.0.1[127.0.0.1]:{cyrus.LmtpPort}", sent, StringComparison.Ordinal);
        Assert.Matches(@"SESSIONID=<cyrus-[0-9-]+>", sent);
        await postfix.WaitForLogLineAsync(
            line => line.Contains($"{queueId}: message-id=<{message.MessageId}>", StringComparison.Ordinal), Timeout, cancel.Token);
        Assert.Single(await cyrus.FindInInboxAsync(cyrus.Alice, message.MessageId, cancel.Token));
    }
}
