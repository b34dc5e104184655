using System.Text;
using System.Text.Json;
using Bonnie.Shared.Events;

namespace Bonnie.Shared.Tests.Events;

/// <summary>The envelope and body structure are built on first read, and unknown fields share one document.</summary>
public sealed class NotificationParserDeferredTests
{
    private const string Envelope =
        "(\\\"Sun, 29 Nov 2026 11:20:28 -0000\\\" \\\"=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\\\" ((\\\"Probe \\\\\\\"Q\\\\\\\" Sender\\\" NIL \\\"sender\\\" \\\"example.net\\\")) " +
        "NIL NIL ((NIL NIL \\\"alice\\\" \\\"example.org\\\")) NIL NIL NIL \\\"<id@example.net>\\\")";

    private static CyrusEvent Parse(string fields)
    {
        var json = "{\"event\":\"MessageNew\",\"timestamp\":\"2026-11-29T11:20:28.951Z\"," + fields + "}";
        var result = NotificationParser.Parse(Encoding.UTF8.GetBytes(json));
        Assert.True(result.IsSuccess, result.Reason);
        return result.Event!;
    }

    [Fact]
    public void Envelope_ReadTwice_SameDecodedInstance()
    {
        var message = Parse($"\"vnd.cmu.envelope\":\"{Envelope}\"");

        var first = message.Envelope!;

        Assert.Same(first, message.Envelope);
        Assert.Equal("Grüße", first.Subject);
        Assert.Equal(new DateTimeOffset(2026, 11, 29, 11, 20, 28, TimeSpan.Zero), first.Date);
        Assert.Equal([new EmailAddress("Probe \"Q\" Sender", "sender@example.net")], first.From);
        Assert.Equal([new EmailAddress(null, "alice@example.org")], first.To);
        Assert.Equal("<id@example.net>", first.MessageId);
    }

    [Fact]
    public async Task Envelope_ReadFromManyThreadsAtOnce_EveryoneGetsTheSameInstance()
    {
        var message = Parse($"\"vnd.cmu.envelope\":\"{Envelope}\"");
        using var start = new Barrier(4);

        var reads = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            start.SignalAndWait(TimeSpan.FromSeconds(10));
            return message.Envelope!;
        }))).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.All(reads, read => Assert.Same(reads[0], read));
    }

    [Fact]
    public void Envelope_MalformedInsideAnAddress_ParseStillFailsNamingIt()
    {
        var json = "{\"event\":\"MessageNew\",\"timestamp\":\"2026-11-29T11:20:28.951Z\"," +
            "\"vnd.cmu.envelope\":\"(NIL NIL ((\\\"a\\\" NIL \\\"b\\\")) NIL NIL NIL NIL NIL NIL NIL)\"}";

        var result = NotificationParser.Parse(Encoding.UTF8.GetBytes(json));

        Assert.Equal(ParseFailure.InvalidField, result.Failure);
        Assert.Contains("vnd.cmu.envelope", result.Reason, StringComparison.Ordinal);
        Assert.Contains("(name adl mailbox host)", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Envelope_SetByHand_ReadBackAsIs()
    {
        var envelope = new Envelope { Subject = "by hand" };

        var message = Parse("\"user\":\"alice\"") with { Envelope = envelope };

        Assert.Same(envelope, message.Envelope);
    }

    [Fact]
    public void BodyStructure_Escaped_DecodedOnRead()
    {
        var message = Parse("\"bodyStructure\":\"(\\\"TEXT\\\" \\\"PLAIN\\\" (\\\"CHARSET\\\" \\\"us-ascii\\\") NIL NIL \\\"7BIT\\\" 23 1)\"");

        Assert.Equal("(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 23 1)", message.BodyStructure);
        Assert.Same(message.BodyStructure, message.BodyStructure);
    }

    [Fact]
    public void BodyStructure_LoneSurrogateEscape_StillRefused()
    {
        var json = "{\"event\":\"MessageNew\",\"timestamp\":\"2026-11-29T11:20:28.951Z\",\"bodyStructure\":\"(\\uD800)\"}";

        var result = NotificationParser.Parse(Encoding.UTF8.GetBytes(json));

        Assert.Equal(ParseFailure.InvalidField, result.Failure);
        Assert.Contains("bodyStructure", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Extra_ManyKindsWithSpacingAndEscapedNames_EachKeptAsSent()
    {
        var message = Parse("\"a\" : [1, {\"b\": null}], \"c\\u0041\":\"x\\ty\", \"n\": -1.5e3, \"t\":true, \"o\":{}");

        Assert.Equal(["a", "cA", "n", "o", "t"], message.Extra.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("[1, {\"b\": null}]", message.Extra["a"].GetRawText());
        Assert.Equal("x\ty", message.Extra["cA"].GetString());
        Assert.Equal(-1500, message.Extra["n"].GetDouble());
        Assert.Equal(JsonValueKind.True, message.Extra["t"].ValueKind);
        Assert.Equal(JsonValueKind.Object, message.Extra["o"].ValueKind);
        Assert.Equal(5, message.Extra.Count);
    }

    [Fact]
    public void Extra_SameUnknownFieldTwice_Refused()
    {
        var json = "{\"event\":\"MessageNew\",\"timestamp\":\"2026-11-29T11:20:28.951Z\",\"x\":1,\"y\":2,\"x\":3}";

        var result = NotificationParser.Parse(Encoding.UTF8.GetBytes(json));

        Assert.Equal(ParseFailure.InvalidField, result.Failure);
        Assert.Contains("\"x\" appears twice", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Extra_MalformedValue_MalformedJson()
    {
        var json = "{\"event\":\"MessageNew\",\"timestamp\":\"2026-11-29T11:20:28.951Z\",\"x\":[1,}";

        var result = NotificationParser.Parse(Encoding.UTF8.GetBytes(json));

        Assert.Equal(ParseFailure.MalformedJson, result.Failure);
    }
}
