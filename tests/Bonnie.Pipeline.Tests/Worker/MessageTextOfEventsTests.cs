using Bonnie.Pipeline.Tests.Storage;
using Bonnie.Shared.Search;

namespace Bonnie.Pipeline.Tests.Worker;

/// <summary>
/// Who read, flagged or deleted a message is found by its subject and sender (found by a review against the real
/// Cyrus: <c>subject:invoice event:MessageExpunge</c> found nothing, as only deliveries carry an envelope).
/// </summary>
public sealed class MessageTextOfEventsTests
{
    [Theory]
    [InlineData("subject:\"lmtp one\" event:MessageRead", "MessageRead")]
    [InlineData("subject:lmtp event:FlagsSet", "FlagsSet")]
    [InlineData("from:sender@example.net event:FlagsSet", "FlagsSet")]
    [InlineData("lmtp event:MessageRead", "MessageRead")]
    public async Task EventsOfADeliveredMessage_FoundByItsSubjectAndSender(string query, string type)
    {
        await using var p = await TestPipeline.CreateAsync();
        await p.RunAllAsync(Fixture.Event("MessageNew"), Fixture.Event("MessageRead"), Fixture.Event("FlagsSet"));

        var hits = await p.Store.SearchEventsAsync(new EventSearch { Query = QueryParser.Parse(query) });

        var hit = Assert.Single(hits.Items);
        Assert.Equal(type, hit.Type.ToString());
        Assert.Equal("lmtp one", hit.Subject);
        Assert.Equal(["M743974037cbef97becd11ce5"], hit.MessageKeys);
    }

    [Fact]
    public async Task EventOfAMessageNeverDelivered_NoSubjectMadeUp()
    {
        await using var p = await TestPipeline.CreateAsync();
        await p.RunAllAsync(Fixture.Event("FlagsSet"));

        var stored = await p.Store.GetEventAsync(TestPipeline.JobFor(Fixture.Event("FlagsSet")).Id);

        Assert.Null(stored!.Subject);
        Assert.Empty(stored.From);
    }
}
