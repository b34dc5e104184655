using System.Text;
using Bonnie.Shared.Events;

namespace Bonnie.Shared.Tests.Events;

public sealed class NotificationParserBadInputTests
{
    private const string Good = """{"event":"MessageRead","timestamp":"2026-11-29T11:20:39.645Z","uidset":"1","pid":11919}""";

    /// <summary>The good notification with <paramref name="field"/> set to <paramref name="value"/> (replaced or added).</summary>
    private static ParseResult ParseWith(string field, string value)
    {
        var json = System.Text.RegularExpressions.Regex.Replace(Good, $"\"{System.Text.RegularExpressions.Regex.Escape(field)}\":(\"[^\"]*\"|[0-9]+)", "");
        json = json.Replace(",,", ",", StringComparison.Ordinal).Replace("{,", "{", StringComparison.Ordinal).Replace(",}", "}", StringComparison.Ordinal);
        return Fixtures.ParseText(json.Replace("}", $",\"{field}\":{value}}}", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_GoodBaseline_Succeeds()
    {
        Assert.True(Fixtures.ParseText(Good).IsSuccess);
    }

    [Theory]
    [InlineData("{\"event\":\"Login\",", "line 1")]
    [InlineData("{\"event\":\"Login\" \"x\":1}", "line 1")]
    [InlineData("{\"event\":'Login'}", "line 1")]
    [InlineData(Good + "{}", "line 1")]
    [InlineData("{\"event\":\"Login\",\n\"timestamp\":}", "line 2")]
    public void Parse_MalformedJson_FailsNamingThePosition(string json, string where)
    {
        var result = Fixtures.ParseText(json);

        Assert.False(result.IsSuccess);
        Assert.Null(result.Event);
        Assert.Equal(ParseFailure.MalformedJson, result.Failure);
        Assert.Contains(where, result.Reason, StringComparison.Ordinal);
        Assert.Contains("byte", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"\\uD800\":1,\"event\":\"Login\",\"timestamp\":\"2026-11-29T11:19:47.997Z\"}")]
    [InlineData("{\"event\":\"Login\",\"timestamp\":\"2026-11-29T11:19:47.997Z\",\"x\\uDC00y\":\"v\"}")]
    [InlineData("{\"event\":\"Login\",\"timestamp\":\"2026-11-29T11:19:47.997Z\",\"user\":\"\\uD800\"}")]
    public void Parse_LoneSurrogateEscape_FailsWithReasonInsteadOfThrowing(string json)
    {
        var result = NotificationParser.Parse(Encoding.UTF8.GetBytes(json));

        Assert.False(result.IsSuccess);
        Assert.NotNull(result.Reason);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" \n")]
    public void Parse_Empty_MalformedJson(string json)
    {
        var result = Fixtures.ParseText(json);

        Assert.Equal(ParseFailure.MalformedJson, result.Failure);
        Assert.Contains("empty", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[]", "array")]
    [InlineData("\"Login\"", "string")]
    [InlineData("42", "number")]
    [InlineData("null", "null")]
    public void Parse_NotAnObject_SaysWhatItIs(string json, string kind)
    {
        var result = Fixtures.ParseText(json);

        Assert.Equal(ParseFailure.NotAnObject, result.Failure);
        Assert.Contains(kind, result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NoEvent_MissingEvent()
    {
        var result = Fixtures.ParseText("""{"timestamp":"2026-11-29T11:20:39.645Z","user":"alice@example.org"}""");

        Assert.Equal(ParseFailure.MissingEvent, result.Failure);
        Assert.Contains("\"event\"", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("MessageTeleport")]
    [InlineData("messagenew")]
    [InlineData("vnd.cmu.QuotaExceed")]
    // Bonnie's own backfill event: a notification claiming it is not taken for a backfill's record.
    [InlineData("vnd.bonnie.MessageFound")]
    [InlineData("MessageFound")]
    public void Parse_UnknownEventName_UnknownEventNamingIt(string name)
    {
        var result = Fixtures.ParseText(Good.Replace("MessageRead", name, StringComparison.Ordinal));

        Assert.Equal(ParseFailure.UnknownEvent, result.Failure);
        Assert.Contains(name, result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("pid", "\"x\"", "string")]
    [InlineData("pid", "1.5", "whole number")]
    [InlineData("pid", "99999999999", "out of range")]
    [InlineData("clientPort", "70000", "TCP port")]
    [InlineData("modseq", "true", "boolean")]
    [InlineData("messages", "\"3\"", "string")]
    [InlineData("user", "5", "number")]
    [InlineData("vnd.cmu.midset", "\"<a@b>\"", "array")]
    [InlineData("vnd.cmu.midset", "[1]", "only strings")]
    [InlineData("uri", "\"http://imap.example.org/x\"", "imap://")]
    [InlineData("uri", "\"imap://imap.example.org/user/alice%4\"", "percent-encoding")]
    [InlineData("uri", "\"imap://imap.example.org/user/alice;UIDVALIDITY=x\"", "UIDVALIDITY")]
    [InlineData("oldMailboxID", "\"imap://imap.example.org/user/%FF\"", "not UTF-8")]
    [InlineData("vnd.cmu.mailboxACL", "\"alice\\tlrs\\tbob\\t\"", "bob")]
    [InlineData("vnd.cmu.envelope", "\"(\\\"date\\\" \\\"subject\\\"\"", "envelope")]
    [InlineData("vnd.cmu.envelope", "\"(NIL NIL NIL NIL NIL NIL NIL NIL NIL)\"", "10 fields")]
    [InlineData("messageContent", "{\"x\":\"body\"}", "not a UID")]
    [InlineData("messageContent", "{\"1\":5}", "number")]
    [InlineData("messageHeaders", "[]", "object keyed by UID")]
    [InlineData("event", "5", "number")]
    [InlineData("user", "\"\\ud800\"", "surrogate")]
    public void Parse_WrongFieldValue_InvalidFieldNamingTheField(string field, string value, string expected)
    {
        var result = ParseWith(field, value);

        Assert.Equal(ParseFailure.InvalidField, result.Failure);
        Assert.Contains($"\"{field}\"", result.Reason, StringComparison.Ordinal);
        Assert.Contains(expected, result.Reason, StringComparison.Ordinal);
        Assert.Contains("at byte", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("9999-12-31T23:59:59.999-01:00", "outside the times there are in UTC")]
    [InlineData("0001-01-01T00:30:00+01:00", "outside the times there are in UTC")]
    [InlineData("2026-11-29T11:20:51", "not an ISO 8601 time with a UTC offset")]
    [InlineData("yesterday", "not an ISO 8601 time with a UTC offset")]
    public void Parse_TimestampNotUsable_TheReasonSaysWhich(string timestamp, string expected)
    {
        // Found by a review: a time with an offset, past the last one in UTC, was said to have no offset.
        var result = Fixtures.ParseText(Good.Replace("2026-11-29T11:20:39.645Z", timestamp, StringComparison.Ordinal));

        Assert.Equal(ParseFailure.InvalidField, result.Failure);
        Assert.Contains(expected, result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_EmptyMailboxId_NamesNoFolder()
    {
        // Found by a review: "" was taken as a folder's unique id, so every such event shared one folder object.
        var result = Fixtures.ParseText(Good.Replace("\"pid\":11919", "\"pid\":11919,\"mailboxID\":\"\"", StringComparison.Ordinal));

        Assert.Equal(ParseFailure.None, result.Failure);
        Assert.Null(result.Event!.MailboxId);
    }

    [Theory]
    [InlineData("5", "found a number")]
    [InlineData("\"*\"", "'*'")]
    [InlineData("\"1:*\"", "'*'")]
    [InlineData("\"0\"", "UID 0")]
    [InlineData("\"1,,2\"", "position 2")]
    [InlineData("\"1 2\"", "' '")]
    [InlineData("\"\"", "empty")]
    [InlineData("\"4294967296\"", "larger than a UID")]
    public void Parse_BadUidset_InvalidFieldWithReason(string value, string expected)
    {
        var result = Fixtures.ParseText(Good.Replace("\"uidset\":\"1\"", $"\"uidset\":{value}", StringComparison.Ordinal));

        Assert.Equal(ParseFailure.InvalidField, result.Failure);
        Assert.Contains("\"uidset\"", result.Reason, StringComparison.Ordinal);
        Assert.Contains(expected, result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_DuplicateField_InvalidField()
    {
        var result = Fixtures.ParseText(Good.Replace("}", ",\"pid\":1}", StringComparison.Ordinal));

        Assert.Equal(ParseFailure.InvalidField, result.Failure);
        Assert.Contains("appears twice", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_DuplicateUnknownField_InvalidField()
    {
        var result = Fixtures.ParseText(Good.Replace("}", ",\"x\":1,\"x\":2}", StringComparison.Ordinal));

        Assert.Equal(ParseFailure.InvalidField, result.Failure);
        Assert.Contains("\"x\" appears twice", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_InvalidUtf8_NamesTheByteOffset()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"event":"Login","user":"al?ce"}""");
        var offset = Array.IndexOf(bytes, (byte)'?');
        bytes[offset] = 0xC3;

        var result = NotificationParser.Parse(bytes);

        Assert.Equal(ParseFailure.InvalidUtf8, result.Failure);
        Assert.Contains($"byte {offset} (0xC3)", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_OverMaxBytes_TooLargeBeforeReadingIt()
    {
        // Not even JSON: the size check comes first, so a huge body is never parsed.
        var bytes = new byte[1025];

        var result = NotificationParser.Parse(bytes, new ParserOptions { MaxNotificationBytes = 1024 });

        Assert.Equal(ParseFailure.TooLarge, result.Failure);
        Assert.Contains("1025", result.Reason, StringComparison.Ordinal);
        Assert.Contains("1024", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_DefaultLimit_TwentyMegabytes()
    {
        var justOver = new byte[20 * 1024 * 1024 + 1];

        Assert.Equal(ParseFailure.TooLarge, NotificationParser.Parse(justOver).Failure);
    }

    [Fact]
    public void Parse_MissingTimestamp_InvalidFieldSayingHowToFixCyrus()
    {
        var result = Fixtures.ParseText("""{"event":"Login","user":"alice@example.org"}""");

        Assert.Equal(ParseFailure.InvalidField, result.Failure);
        Assert.Contains("timestamp", result.Reason, StringComparison.Ordinal);
        Assert.Contains("event_extra_params", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"yesterday\"")]
    [InlineData("\"2026-11-29T11:20:39.645\"")]
    [InlineData("\"2026-13-29T11:20:39.645Z\"")]
    [InlineData("\"2026-02-30T11:20:39.645Z\"")]
    [InlineData("\"2026-11-29T24:00:00.000Z\"")]
    [InlineData("\"2026-11-29T11:20:39.64xZ\"")]
    [InlineData("1795951230")]
    public void Parse_InvalidTimestamp_InvalidField(string value)
    {
        var result = Fixtures.ParseText(Good.Replace("\"2026-11-29T11:20:39.645Z\"", value, StringComparison.Ordinal));

        Assert.Equal(ParseFailure.InvalidField, result.Failure);
        Assert.Contains("\"timestamp\"", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NullFields_TreatedAsAbsent()
    {
        var result = Fixtures.ParseText(Good.Replace("}", ",\"user\":null,\"modseq\":null,\"uri\":null}", StringComparison.Ordinal));

        Assert.True(result.IsSuccess, result.Reason);
        Assert.Null(result.Event!.User);
        Assert.Null(result.Event.Modseq);
        Assert.Null(result.Event.Mailbox);
    }

    [Fact]
    public void Parse_EscapedFieldNameAndTrailingNewline_Read()
    {
        var result = Fixtures.ParseText("{\"\\u0065vent\":\"Logout\",\"timestamp\":\"2026-11-29T11:19:48.040Z\"}\n");

        Assert.True(result.IsSuccess, result.Reason);
        Assert.Equal(EventType.Logout, result.Event!.Type);
    }

    [Theory]
    [InlineData("\"x\":{\"deep\":[1,{\"a\":null}]}")]
    [InlineData("\"x\":\"text\"")]
    public void Parse_UnknownField_KeptAsJsonThatOutlivesTheBuffer(string extra)
    {
        var bytes = Encoding.UTF8.GetBytes(Good.Replace("}", "," + extra + "}", StringComparison.Ordinal));
        var result = NotificationParser.Parse(bytes);
        var expected = extra[4..];

        Array.Clear(bytes);

        Assert.Equal(expected, result.Event!.Extra["x"].GetRawText());
    }
}
