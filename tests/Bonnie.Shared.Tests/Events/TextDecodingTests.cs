using Bonnie.Shared.Events;

namespace Bonnie.Shared.Tests.Events;

public sealed class TextDecodingTests
{
    [Theory]
    [InlineData("INBOX", "INBOX")]
    [InlineData("M&AOQ-rz", "März")]
    [InlineData("Entw&APw-rfe", "Entwürfe")]
    [InlineData("&ZeVnLIqe-", "日本語")]
    [InlineData("Tom &- Jerry", "Tom & Jerry")]
    [InlineData("&2D3eAA-", "😀")]
    [InlineData("~peter/mail/&U,BTFw-/&ZeVnLIqe-", "~peter/mail/台北/日本語")]
    public void ModifiedUtf7Decode_Valid_Decoded(string encoded, string expected)
    {
        Assert.Equal(expected, ModifiedUtf7.Decode(encoded));
    }

    [Theory]
    // What the METADATA reader sends: the other way, and back. "&" escaped, ASCII untouched, a run ended by ASCII,
    // a character outside the basic plane as one run of its surrogate pair.
    [InlineData("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-")]
    [InlineData("user/alice/R&D@example.org", "user/alice/R&-D@example.org")]
    [InlineData("user/alice/Archive@example.org", "user/alice/Archive@example.org")]
    [InlineData("user/alice/Verträge@example.org", "user/alice/Vertr&AOQ-ge@example.org")]
    [InlineData("user/alice/📁@example.org", "user/alice/&2D3cwQ-@example.org")]
    public void ModifiedUtf7Encode_MailboxName_AsImapExpectsIt_AndDecodesBack(string name, string expected)
    {
        Assert.Equal(expected, ModifiedUtf7.Encode(name));
        Assert.Equal(name, ModifiedUtf7.Decode(expected));
    }

    [Theory]
    [InlineData("Tom & Jerry")]
    [InlineData("&AOQ")]
    [InlineData("&A!Q-")]
    [InlineData("&2D0-")]
    public void ModifiedUtf7Decode_Invalid_FormatException(string encoded)
    {
        Assert.Throws<FormatException>(() => ModifiedUtf7.Decode(encoded));
        Assert.False(ModifiedUtf7.TryDecode(encoded, out var kept));
        Assert.Equal(encoded, kept);
    }

    [Theory]
    [InlineData("plain subject", "plain subject")]
    [InlineData("=?UTF-8?Q?Erin_M=C3=BCller?=", "Erin Müller")]
    [InlineData("=?utf-8?b?RXJpbiBNw7xsbGVy?=", "Erin Müller")]
    [InlineData("=?ISO-8859-1?Q?Gr=FC=DFe?=", "Grüße")]
    [InlineData("=?iso-8859-1?B?R3L832U=?=", "Grüße")]
    [InlineData("=?windows-1252?Q?=80uro?=", "€uro")]
    [InlineData("=?KOI8-R?B?8NLJ18XU?=", "Привет")]
    [InlineData("=?UTF-8?Q?a?= =?UTF-8?Q?b?=", "ab")]
    [InlineData("=?UTF-8?Q?a?= b =?UTF-8?Q?c?=", "a b c")]
    [InlineData("Re: =?UTF-8?Q?f=C3=BCr?= you", "Re: für you")]
    [InlineData("=?UTF-8?B?w7w=?==?UTF-8?B?w7w=?=", "üü")]
    [InlineData("=?UTF-8?B?8J+Y?= =?UTF-8?B?gA==?=", "😀")]
    [InlineData("=?UTF-8*de?Q?Gr=C3=BC=C3=9Fe?=", "Grüße")]
    [InlineData("=?UTF-8?B?w7w?=", "ü")]
    [InlineData("=?x-unknown?Q?abc?=", "=?x-unknown?Q?abc?=")]
    [InlineData("=?UTF-8?X?abc?=", "=?UTF-8?X?abc?=")]
    [InlineData("=?UTF-8?B?!!!!?=", "=?UTF-8?B?!!!!?=")]
    [InlineData("a =? b", "a =? b")]
    public void EncodedWordsDecode_Rfc2047_DecodedOrKeptAsSent(string text, string expected)
    {
        Assert.Equal(expected, EncodedWords.Decode(text));
    }

    [Theory]
    [InlineData("Sun, 29 Nov 2026 11:20:38 -0000", "2026-11-29T11:20:38+00:00")]
    [InlineData("Tue, 3 Mar 2015 09:12:31 +0100 (CET)", "2015-03-03T09:12:31+01:00")]
    [InlineData("3 Mar 2015 09:12 -0530", "2015-03-03T09:12:00-05:30")]
    [InlineData("Tue, 03 Mar 15 09:12:31 GMT", "2015-03-03T09:12:31+00:00")]
    [InlineData("Tue, 03 Mar 99 09:12:31 EST", "1999-03-03T09:12:31-05:00")]
    [InlineData("Tue,3 Mar 2015 09:12:31 +0100", "2015-03-03T09:12:31+01:00")]
    [InlineData("Wed, 31 Dec 2008 23:59:60 +0000", "2008-12-31T23:59:59+00:00")]
    public void MessageDateTryParse_Rfc5322_Parsed(string text, string expected)
    {
        Assert.True(MessageDate.TryParse(text, out var date));
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), date);
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture).Offset, date.Offset);
    }

    [Theory]
    [InlineData("")]
    [InlineData("yesterday")]
    [InlineData("31 Feb 2015 10:00:00 +0000")]
    [InlineData("3 Foo 2015 10:00:00 +0000")]
    [InlineData("3 Mar 2015 25:00:00 +0000")]
    [InlineData("3 Mar 2015 10:00:00 +9900")]
    [InlineData("3 Mar 2015 10:00:00 Mars")]
    public void MessageDateTryParse_NotADate_False(string text)
    {
        Assert.False(MessageDate.TryParse(text, out _));
    }

    [Fact]
    public void EnvelopeTryRead_LiteralCountsUtf8Octets()
    {
        var ok = EnvelopeReader.TryRead("(NIL {6}\r\nGrüß NIL NIL NIL NIL NIL NIL NIL NIL)", out var envelope, out var error);

        Assert.True(ok, error);
        Assert.Equal("Grüß", envelope.Subject);
    }

    [Theory]
    [InlineData("(NIL {90}\r\nGrüß NIL)", "announces 90 octets but has 11")]
    [InlineData("(NIL {x}\r\nabc NIL NIL NIL NIL NIL NIL NIL NIL)", "no valid")]
    [InlineData("(NIL \"open NIL NIL NIL NIL NIL NIL NIL NIL)", "not closed")]
    [InlineData("(NIL NIL \"bad\" NIL NIL NIL NIL NIL NIL NIL)", "address list")]
    [InlineData("(NIL NIL ((NIL NIL \"a\")) NIL NIL NIL NIL NIL NIL NIL)", "(name adl mailbox host)")]
    [InlineData("(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) x", "after the envelope")]
    [InlineData(")", "unexpected ')'")]
    public void EnvelopeTryRead_Malformed_SaysWhat(string text, string expected)
    {
        Assert.False(EnvelopeReader.TryRead(text, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }
}
