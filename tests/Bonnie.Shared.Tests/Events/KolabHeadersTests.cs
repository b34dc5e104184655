using System.Text.Json;
using Bonnie.Shared.Events;

namespace Bonnie.Shared.Tests.Events;

public sealed class KolabHeadersTests
{
    [Fact]
    public void Envelope_Kolab25Delivery_SubjectSendersAndRecipientsFromMessageHeaders()
    {
        var e = Fixtures.Parse("events-2.5", "MessageNew.json");

        var envelope = e.Envelope;

        // 2.5 sends no envelope: the parser builds it from the message's headers.
        Assert.DoesNotContain("vnd.cmu.envelope", System.Text.Encoding.UTF8.GetString(e.Raw.Span), StringComparison.Ordinal);
        Assert.Equal("Contract draft v2", envelope!.Subject);
        Assert.Equal([new EmailAddress("Erin Müller", "erin@example.net")], envelope.From);
        // Kolab split the header already: the comma in "Park, Sam" is part of the name.
        Assert.Equal([new EmailAddress("Park, Sam", "sam.park@example.org")], envelope.To);
        Assert.Equal("<c0ffee01.4411@example.net>", envelope.MessageId);
        Assert.Equal(new DateTimeOffset(2015, 3, 3, 8, 12, 31, TimeSpan.Zero), envelope.Date);
    }

    [Fact]
    public void EnvelopeOf_OddHeaders_WhatCanBeReadIsKeptAndNothingThrows()
    {
        var headers = new Dictionary<uint, JsonElement>
        {
            [7] = JsonDocument.Parse("""{"Subject": ["first", "second"], "From": "bare@example.net", "To": [42, "", "\"Quoted\" <q@example.org>"], "Date": "not a date", "Cc": {}}""").RootElement,
        };

        var envelope = KolabHeaders.EnvelopeOf(headers)!;

        Assert.Equal("first", envelope.Subject);
        Assert.Equal([new EmailAddress(null, "bare@example.net")], envelope.From);
        Assert.Equal([new EmailAddress("Quoted", "q@example.org")], envelope.To);
        Assert.Null(envelope.Date);
        Assert.Equal("not a date", envelope.DateText);
        Assert.Empty(envelope.Cc);
        Assert.Null(KolabHeaders.EnvelopeOf(new Dictionary<uint, JsonElement>()));
        Assert.Null(KolabHeaders.EnvelopeOf(new Dictionary<uint, JsonElement> { [1] = JsonDocument.Parse("[]").RootElement }));
    }
}
