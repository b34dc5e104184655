using System.Globalization;
using Bonnie.Shared.Events;
using Bonnie.Shared.Search;

namespace Bonnie.Shared.Tests.Search;

public sealed class QueryParserTests
{
    [Fact]
    public void Parse_Empty_MatchesAll()
    {
        Assert.IsType<MatchAllNode>(QueryParser.Parse("   ").Root);
    }

    [Fact]
    public void Parse_FieldsAndFreeText_ImplicitAnd()
    {
        var root = Assert.IsType<AndNode>(QueryParser.Parse("user:Alice@Example.org event:vnd.cmu.MessageMove contract").Root);

        Assert.Equal(new KeywordNode(KeywordField.User, "alice@example.org", false) { Position = 0 }, root.Children[0]);
        Assert.Equal(EventType.MessageMove, Assert.IsType<EventTypeNode>(root.Children[1]).Type);
        Assert.Equal(new TextNode(TextField.Any, "contract", false, false) { Position = 49 }, root.Children[2]);
    }

    [Fact]
    public void Parse_AndBindsTighterThanOr()
    {
        var root = Assert.IsType<OrNode>(QueryParser.Parse("a OR b c").Root);

        Assert.IsType<TextNode>(root.Children[0]);
        Assert.Equal(2, Assert.IsType<AndNode>(root.Children[1]).Children.Count);
    }

    [Fact]
    public void Parse_NegationAndParentheses_Nested()
    {
        var root = Assert.IsType<AndNode>(QueryParser.Parse("-flag:\\Seen NOT (from:bob OR to:\"Park, Sam\")").Root);

        Assert.Equal("\\seen", Assert.IsType<KeywordNode>(Assert.IsType<NotNode>(root.Children[0]).Child).Value);
        var or = Assert.IsType<OrNode>(Assert.IsType<NotNode>(root.Children[1]).Child);
        Assert.Equal(new TextNode(TextField.To, "Park, Sam", true, false) { Position = 29 }, or.Children[1]);
    }

    [Fact]
    public void Parse_PhraseWithEscapedQuote_Kept()
    {
        var node = Assert.IsType<TextNode>(QueryParser.Parse("subject:\"say \\\"hi\\\"\"").Root);

        Assert.Equal("say \"hi\"", node.Text);
        Assert.True(node.IsPhrase);
    }

    [Fact]
    public void Parse_Dates_InclusiveAfterExclusiveBeforeAndWholeDay()
    {
        var root = Assert.IsType<AndNode>(QueryParser.Parse("after:2026-11-01 before:2026-12-01T08:30:00Z on:2026-11-29").Root);

        Assert.Equal(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), ((TimeRangeNode)root.Children[0]).From);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 8, 30, 0, TimeSpan.Zero), ((TimeRangeNode)root.Children[1]).Until);
        var on = (TimeRangeNode)root.Children[2];
        Assert.Equal(TimeSpan.FromDays(1), on.Until - on.From);
    }

    [Fact]
    public void Parse_PrefixAndMessageIdWithoutBrackets_Normalised()
    {
        var root = Assert.IsType<AndNode>(QueryParser.Parse("ip:10.0.* messageid:ABC@example.org").Root);

        Assert.Equal(new KeywordNode(KeywordField.Ip, "10.0.", true) { Position = 0 }, root.Children[0]);
        Assert.Equal("<abc@example.org>", ((KeywordNode)root.Children[1]).Value);
    }

    [Theory]
    [InlineData("sort:oldest user:bob", SortOrder.OldestFirst)]
    [InlineData("user:bob sort:newest", SortOrder.NewestFirst)]
    [InlineData("user:bob", SortOrder.NewestFirst)]
    public void Parse_Sort_TakenFromTopLevel(string q, SortOrder expected)
    {
        var parsed = QueryParser.Parse(q);

        Assert.Equal(expected, parsed.Sort);
        Assert.IsType<KeywordNode>(parsed.Root);
    }

    [Theory]
    [InlineData("sort:oldest a", "sort:oldest")]
    [InlineData("a sort:oldest", "sort:oldest")]
    [InlineData("a (b Sort:Newest) \"sort:of\"", "Sort:Newest")]
    [InlineData("a sort:\"oldest\" b", "sort:\"oldest\"")]
    [InlineData("\"x \\\" sort:oldest\" sort:newest", "sort:newest")]
    [InlineData("a sort:x \"unclosed sort:oldest", "sort:x")]
    [InlineData("a - sort:oldest", "sort:oldest")]
    [InlineData("\"sort:oldest\" sorted sort", "")]
    public void FindSortTerms_Query_SpansOfTheSortTermsTheParserReads(string q, string expected)
    {
        var terms = QueryParser.FindSortTerms(q);

        Assert.Equal(expected, string.Join('|', terms.Select(t => q[t])));
    }

    [Theory]
    [InlineData("ip:10.0.0.0/8", "10.")]
    [InlineData("ip:192.0.2.0/24", "192.0.2.")]
    [InlineData("ip:192.0.2.7/32", "192.0.2.7")]
    public void Parse_Ipv4NetworkOnAByteBoundary_TheAddressesPrefix(string q, string value)
    {
        var node = Assert.IsType<KeywordNode>(QueryParser.Parse(q).Root);

        Assert.Equal(value, node.Value);
        Assert.Equal(!q.EndsWith("/32", StringComparison.Ordinal), node.IsPrefix);
    }

    [Theory]
    [InlineData("after:2026-10-01 before:2026-11-01")]
    // Taking the sort: term out leaves a whole query: these meant "a OR b" and "user:x AND event:Login", oldest first.
    [InlineData("a sort:oldest OR b")]
    [InlineData("user:x sort:oldest AND event:Login")]
    // A Message-ID may hold a '*'; quoted, anything may.
    [InlineData("messageid:<a*b@example.org>")]
    [InlineData("-(after:2026-11-02 before:2026-11-01)")]
    [InlineData("after:2026-11-01 OR before:2026-10-01")]
    [InlineData("(after:2026-11-01 user:bob) OR (before:2026-10-01 user:carol)")]
    [InlineData("folder:\"a*b\"")]
    public void Parse_DatesThatOverlapOrInOtherBranches_AndQuotedStars_Accepted(string q) => Assert.NotNull(QueryParser.Parse(q).Root);

    [Theory]
    [InlineData("(user:bob", 9, "')'")]
    [InlineData("user:bob)", 8, "a term, AND, OR or the end of the query")]
    [InlineData("user:", 5, "a value for user:")]
    [InlineData("a OR", 4, "a term after OR")]
    [InlineData("a AND OR b", 6, "a term after AND")]
    [InlineData("\"unclosed phrase", 16, "a closing '\"'")]
    [InlineData("colour:red", 0, "a field name")]
    [InlineData("event:MessageExploded", 6, "an event type")]
    [InlineData("after:yesterday", 6, "a date like 2026-11-29 or a time like 2026-11-29T11:20:00Z")]
    [InlineData("on:2026-11-29T10:00:00Z", 3, "a date like 2026-11-29")]
    [InlineData("a - b", 3, "a term after '-'")]
    [InlineData("()", 1, "a term inside '(' ')'")]
    [InlineData("(sort:oldest)", 1, "sort: at the top level")]
    [InlineData("sort:sideways", 5, "newest or oldest")]
    [InlineData("ip:*", 3, "characters before '*'")]
    [InlineData("sort:oldest a sort:newest", 14, "one sort: term")]
    [InlineData("after:2026-11-29T11:20:00+25:00", 6, "a time with a UTC offset between -14:00 and +14:00, or Z")]
    [InlineData("zanzibar OR", 11, "a term after OR")]
    // Found by a review: each of these quietly found nothing.
    [InlineData("a OR sort:oldest", 5, "sort: beside the terms, not joined by OR or AND")]
    [InlineData("sort:oldest OR a", 0, "sort: beside the terms, not joined by OR or AND")]
    [InlineData("a AND sort:oldest", 6, "sort: beside the terms, not joined by OR or AND")]
    [InlineData("user:*@example.org", 5, "'*' only at the end of a value")]
    [InlineData("folder:*Archive", 7, "'*' only at the end of a value")]
    [InlineData("user:d*ve", 6, "'*' only at the end of a value")]
    [InlineData("ip:10.0.0.0/12", 11, "an address or a prefix")]
    [InlineData("ip:2001:db8::/32", 13, "an address or a prefix")]
    [InlineData("ip:10.1.0.0/8", 11, "a network address")]
    // Not an address at all: it found nothing and said nothing (a review).
    [InlineData("ip:not-an-ip", 3, "an address or a prefix")]
    [InlineData("ip:192.0.2.7,", 12, "an address or a prefix")]
    [InlineData("ip:alice*", 4, "an address or a prefix")]
    [InlineData("(after:2026-11-01) (before:2026-10-01)", 20, "dates that overlap")]
    [InlineData("a OR sort:oldest OR b", 5, "sort: beside the terms, not joined by OR or AND")]
    [InlineData("user:a (after:2026-11-01 before:2026-10-01)", 25, "dates that overlap")]
    [InlineData("after:2026-11-01 before:2026-10-01", 17, "dates that overlap")]
    [InlineData("on:2026-11-01 on:2026-11-02", 14, "dates that overlap")]
    public void Parse_BadQuery_PointsAtProblem(string q, int position, string expected)
    {
        var ex = Assert.Throws<QuerySyntaxException>(() => QueryParser.Parse(q));

        Assert.Equal(position, ex.Position);
        Assert.Equal(expected, ex.Expected);
        Assert.Contains("position", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_TermMissingAfterOr_TheMessageSaysThePositionTheErrorPointsAt()
    {
        // Found by a review: the message said position 9 (the OR) where the answer's position was 11.
        var ex = Assert.Throws<QuerySyntaxException>(() => QueryParser.Parse("zanzibar OR"));

        Assert.StartsWith("Expected a term at position 11,", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_TooLong_Refused()
    {
        var ex = Assert.Throws<QuerySyntaxException>(() => QueryParser.Parse(new string('a', QueryParser.MaxLength + 1)));

        Assert.Contains("limit is 4096", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_DeepNesting_RefusedWithoutStackOverflow()
    {
        var q = new string('(', 2000) + "a" + new string(')', 2000);

        var ex = Assert.Throws<QuerySyntaxException>(() => QueryParser.Parse(q));

        Assert.Equal("fewer nested parentheses or NOTs", ex.Expected);
    }

    [Fact]
    public void Parse_ManyNots_RefusedAtDepthLimit()
    {
        var q = string.Concat(Enumerable.Repeat("NOT ", 200)) + "a";

        Assert.Throws<QuerySyntaxException>(() => QueryParser.Parse(q));
    }

    [Fact]
    public void Parse_TooManyTerms_Refused()
    {
        var q = string.Join(" OR ", Enumerable.Range(0, QueryParser.MaxTerms + 1).Select(i => "w" + i));

        var ex = Assert.Throws<QuerySyntaxException>(() => QueryParser.Parse(q));

        Assert.Equal("fewer terms", ex.Expected);
    }

    [Fact]
    public void Parse_LowercaseOperators_AreWords()
    {
        var root = Assert.IsType<AndNode>(QueryParser.Parse("salt and pepper").Root);

        Assert.Equal(3, root.Children.Count);
    }

    [Theory]
    [InlineData("event:LOGIN", EventType.Login)]
    [InlineData("event:vnd.cmu.messagemove", EventType.MessageMove)]
    [InlineData("event:quotaexceeded", EventType.QuotaExceed)]
    public void Parse_EventName_AnyCase(string q, EventType expected)
    {
        Assert.Equal(expected, Assert.IsType<EventTypeNode>(QueryParser.Parse(q).Root).Type);
    }

    [Theory]
    [InlineData("event:Login,Logout")]
    [InlineData("event:Login,Login")]
    [InlineData("event:MessageNew,Login")]
    public void Parse_EventList_RefusedNotFoldedIntoAnotherType(string q)
    {
        var ex = Assert.Throws<QuerySyntaxException>(() => QueryParser.Parse(q));

        Assert.Equal(6, ex.Position);
        Assert.Equal("one event type", ex.Expected);
        Assert.Contains("(event:", ex.Message, StringComparison.Ordinal);
        Assert.Contains(" OR event:", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("event:3")]
    [InlineData("event:-1")]
    [InlineData("event:Unknown")]
    [InlineData("event:Login,Bogus")]
    [InlineData("event:\" Login\"")]
    public void Parse_EventNotAName_Refused(string q)
    {
        var ex = Assert.Throws<QuerySyntaxException>(() => QueryParser.Parse(q));

        Assert.Equal(6, ex.Position);
        Assert.Equal("an event type", ex.Expected);
        Assert.Contains("MessageNew", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_EventTypo_SuggestsClosest()
    {
        var ex = Assert.Throws<QuerySyntaxException>(() => QueryParser.Parse("event:MesageMove"));

        Assert.Contains("did you mean MessageMove?", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("messageid:750.39250@Example.org", "<750.39250@example.org>", false)]
    [InlineData("messageid:<750.39250@example.org>", "<750.39250@example.org>", false)]
    [InlineData("messageid:750.39250@example.org>", "<750.39250@example.org>", false)]
    [InlineData("messageid:<750.39250@Example.org", "<750.39250@example.org>", false)]
    [InlineData("messageid:\"<750.39250@example.org\"", "<750.39250@example.org>", false)]
    [InlineData("messageid:\" <750.39250@example.org \"", "<750.39250@example.org>", false)]
    [InlineData("messageid:750.39250*", "<750.39250", true)]
    [InlineData("messageid:<750.39250*", "<750.39250", true)]
    [InlineData("messageid:<750.39250@example.org>*", "<750.39250@example.org>", true)]
    [InlineData("messageid:\"750.39250\"*", "<750.39250", true)]
    public void Parse_MessageId_BracketsAddedButNeverCloseAPrefix(string q, string value, bool prefix)
    {
        Assert.Equal(new KeywordNode(KeywordField.MessageId, value, prefix) { Position = 0 }, QueryParser.Parse(q).Root);
    }

    // Stored ids go through the same normalisation, so every shape an officer types meets every shape stored.
    [Theory]
    [InlineData("<750.39250@example.org>")]
    [InlineData("750.39250@example.org")]
    [InlineData("<750.39250@example.org")]
    [InlineData("750.39250@example.org>")]
    [InlineData(" <750.39250@EXAMPLE.org> ")]
    public void NormalizeKeyword_MessageIdWithOrWithoutEitherBracket_TheStoredForm(string id)
    {
        Assert.Equal("<750.39250@example.org>", QueryParser.NormalizeKeyword(KeywordField.MessageId, id));
    }

    [Fact]
    public void Parse_OnLastDay_OpenEndedInsteadOfOverflowing()
    {
        var on = Assert.IsType<TimeRangeNode>(QueryParser.Parse("on:9999-12-31").Root);

        Assert.Equal(new DateTimeOffset(9999, 12, 31, 0, 0, 0, TimeSpan.Zero), on.From);
        Assert.Null(on.Until);
    }

    [Theory]
    [InlineData("on:0001-01-01", "0001-01-01T00:00:00Z", "0001-01-02T00:00:00Z")]
    [InlineData("after:9999-12-31", "9999-12-31T00:00:00Z", null)]
    [InlineData("before:9999-12-31", null, "9999-12-31T00:00:00Z")]
    [InlineData("after:0001-01-01", "0001-01-01T00:00:00Z", null)]
    [InlineData("before:0001-01-01T00:00:00Z", null, "0001-01-01T00:00:00Z")]
    [InlineData("after:9999-12-31T23:59:59.9999999Z", "9999-12-31T23:59:59.9999999Z", null)]
    [InlineData("before:9999-12-31T20:00:00-03:00", null, "9999-12-31T23:00:00Z")]
    [InlineData("after:0001-01-01T01:00:00+01:00", "0001-01-01T00:00:00Z", null)]
    public void Parse_DatesAtTheEdges_Kept(string q, string? from, string? until)
    {
        var r = Assert.IsType<TimeRangeNode>(QueryParser.Parse(q).Root);

        Assert.Equal(from is null ? null : DateTimeOffset.Parse(from, CultureInfo.InvariantCulture), r.From);
        Assert.Equal(until is null ? null : DateTimeOffset.Parse(until, CultureInfo.InvariantCulture), r.Until);
    }

    [Theory]
    [InlineData("before:9999-12-31T23:00:00-05:00", 7)]
    [InlineData("a after:0001-01-01T00:00:00+01:00", 8)]
    [InlineData("after:9999-12-31T23:59:59-00:01", 6)]
    public void Parse_TimeZoneMovesPastTheEdge_RefusedAtTheValue(string q, int position)
    {
        var ex = Assert.Throws<QuerySyntaxException>(() => QueryParser.Parse(q));

        Assert.Equal(position, ex.Position);
        Assert.Equal("a time between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z", ex.Expected);
        Assert.Contains($"at position {position} is outside the times that can be searched", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("contract\0draft", 8, "U+0000")]
    [InlineData("subject:\"a\u0001b\"", 10, "U+0001")]
    [InlineData("user:bob\u001b[2J", 8, "U+001B")]
    [InlineData("a \u007f", 2, "U+007F")]
    [InlineData("a \u0085\u009b", 3, "U+009B")]
    public void Parse_ControlCharacter_RefusedAtItsPosition(string q, int position, string code)
    {
        var ex = Assert.Throws<QuerySyntaxException>(() => QueryParser.Parse(q));

        Assert.Equal(position, ex.Position);
        Assert.Equal("no control characters", ex.Expected);
        Assert.Contains($"control character {code} at position {position}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_TabsAndLineBreaks_SeparateLikeSpaces()
    {
        var root = Assert.IsType<AndNode>(QueryParser.Parse("user:bob\tcontract\r\ndraft\u000b\u000c\u0085x").Root);

        Assert.Equal(4, root.Children.Count);
    }

    [Theory]
    [InlineData("(customer)-review")]
    [InlineData("(customer) -review")]
    [InlineData("customer -review")]
    [InlineData("\"customer\"-review")]
    [InlineData("subject:\"customer\"-review")]
    public void Parse_MinusAfterParenthesisOrQuote_Excludes(string q)
    {
        var root = Assert.IsType<AndNode>(QueryParser.Parse(q).Root);

        Assert.Equal(2, root.Children.Count);
        Assert.Equal("review", Assert.IsType<TextNode>(Assert.IsType<NotNode>(root.Children[1]).Child).Text);
    }

    [Theory]
    [InlineData("e-mail")]
    [InlineData("x-spam")]
    [InlineData("customer-review")]
    public void Parse_HyphenInsideWord_StaysOneWord(string q)
    {
        Assert.Equal(new TextNode(TextField.Any, q, false, false) { Position = 0 }, QueryParser.Parse(q).Root);
    }

    [Fact]
    public void Parse_MinusAfterParenthesisWithNothingToExclude_Refused()
    {
        var ex = Assert.Throws<QuerySyntaxException>(() => QueryParser.Parse("(customer)- review"));

        Assert.Equal(11, ex.Position);
        Assert.Equal("a term after '-'", ex.Expected);
    }

    [Theory]
    [InlineData("\"contract dra\"*", TextField.Any)]
    [InlineData("subject:\"contract dra\"*", TextField.Subject)]
    public void Parse_PhraseFollowedByStar_PhrasePrefix(string q, TextField field)
    {
        Assert.Equal(new TextNode(field, "contract dra", true, true) { Position = 0 }, QueryParser.Parse(q).Root);
    }

    [Fact]
    public void Parse_StarInsidePhrase_IsText()
    {
        Assert.Equal(new TextNode(TextField.Any, "contract dra*", true, false) { Position = 0 }, QueryParser.Parse("\"contract dra*\"").Root);
    }

    [Fact]
    public void Parse_KeywordPhraseFollowedByStar_Prefix()
    {
        Assert.Equal(new KeywordNode(KeywordField.Folder, "shared/legal hold", true) { Position = 0 }, QueryParser.Parse("folder:\"Shared/Legal hold\"*").Root);
    }

    [Theory]
    [InlineData("customer &", 9, "'&' at position 9 has no letters or digits to search for.")]
    [InlineData("customer *", 9, "'*' at position 9 has no letters or digits to search for; a prefix needs letters or digits before its '*'.")]
    [InlineData("customer -&", 10, "'&' at position 10 has no letters or digits to search for.")]
    [InlineData("customer OR &*", 12, "'&*' at position 12 has no letters or digits to search for; a prefix needs letters or digits before its '*'.")]
    [InlineData("subject:&", 8, "'&' at position 8 has no letters or digits to search for.")]
    [InlineData("subject:\"- -\"", 8, "The phrase '- -' at position 8 has no letters or digits to search for.")]
    [InlineData("from:\"\\\"\"", 5, "The phrase '\"' at position 5 has no letters or digits to search for.")]
    [InlineData("\"contract dra\" *", 15, "'*' at position 15 has no letters or digits to search for; a prefix needs letters or digits before its '*'.")]
    [InlineData("!!! ???", 0, "'!!!' at position 0 has no letters or digits to search for.")]
    [InlineData("user:bob subject:\"!!!\"", 17, "The phrase '!!!' at position 17 has no letters or digits to search for.")]
    [InlineData("subject:\"!!!\"*", 8, "The phrase '!!!' at position 8 has no letters or digits to search for.")]
    public void Parse_TextWithoutLettersOrDigits_RefusedAtTheTerm(string q, int position, string message)
    {
        var ex = Assert.Throws<QuerySyntaxException>(() => QueryParser.Parse(q));

        Assert.Equal(position, ex.Position);
        Assert.Equal("a word with letters or digits", ex.Expected);
        Assert.Equal(message, ex.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("*")]
    [InlineData("!!! ???")]
    [InlineData("\"")]
    public void TextNode_TextWithoutLettersOrDigits_CannotBeBuilt(string text)
    {
        Assert.Throws<ArgumentException>(() => new TextNode(TextField.Subject, text, IsPhrase: true, IsPrefix: false));
    }

    [Fact]
    public void TextNode_CopiedWithTextWithoutLettersOrDigits_CannotBeBuilt()
    {
        var node = new TextNode(TextField.Any, "contract", IsPhrase: false, IsPrefix: false);

        Assert.Throws<ArgumentException>(() => node with { Text = "!!!" });
        Assert.Equal("draft", (node with { Text = "draft" }).Text);
    }

    [Theory]
    [InlineData("2026")]
    [InlineData("\U0001D400")]
    [InlineData("- é -")]
    public void TextNode_LetterOrDigitAnywhere_Built(string text)
    {
        Assert.Equal(text, new TextNode(TextField.Any, text, IsPhrase: true, IsPrefix: false).Text);
    }

    [Theory]
    [InlineData("\"o'brien\"")]
    [InlineData("\"a-b\"")]
    [InlineData("a&b")]
    [InlineData("\"contract & draft\"")]
    [InlineData("x²")]
    [InlineData("\U00020000")]
    public void Parse_TextWithALetterOrDigitAmongPunctuation_Kept(string q)
    {
        Assert.IsType<TextNode>(QueryParser.Parse(q).Root);
    }

    [Theory]
    [InlineData("flag:\\Seen")]
    [InlineData("ip:::1")]
    [InlineData("ip:[fe80::1%eth0]")]
    [InlineData("ip:2001:DB8::*")]
    [InlineData("ip:\"not an address, searched as written\"")]
    [InlineData("folder:-")]
    public void Parse_KeywordOfPunctuation_KeptAsTyped(string q)
    {
        Assert.IsType<KeywordNode>(QueryParser.Parse(q).Root);
    }

    [Fact]
    public void Parse_StarAfterQuotedEventName_RefusedNotSwallowed()
    {
        var ex = Assert.Throws<QuerySyntaxException>(() => QueryParser.Parse("event:\"Login\"*"));

        Assert.Equal(13, ex.Position);
    }
}
