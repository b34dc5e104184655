using Bonnie.Shared.Search;
using Bonnie.Web.Search;
using Bonnie.Web.Tests.Infrastructure;

namespace Bonnie.Web.Tests.Items;

public sealed class QueryTermsTests
{
    [Theory]
    [InlineData("customer OR review", "(customer OR review) user:user379@example.org")]
    [InlineData("customer review", "customer review user:user379@example.org")]
    [InlineData("(customer OR review)", "(customer OR review) user:user379@example.org")]
    [InlineData("(customer OR review) user:user379@example.org", "(customer OR review) user:user379@example.org")]
    [InlineData("customer OR user:user379@example.org", "(customer OR user:user379@example.org) user:user379@example.org")]
    [InlineData("customer OR review sort:oldest", "(customer OR review) user:user379@example.org sort:oldest")]
    [InlineData("sort:oldest customer OR \"sort:of review\"", "(customer OR \"sort:of review\") user:user379@example.org sort:oldest")]
    [InlineData("-customer OR NOT review", "(-customer OR NOT review) user:user379@example.org")]
    public void Append_Query_TermNarrowsTheWholeQuery(string query, string expected)
    {
        var result = QueryTerms.Append(query, QueryTerms.Term("user", "user379@example.org"));

        Assert.Equal(expected, result);
        Assert.Equal(expected, QueryParser.Parse(result).Text);
    }

    [Theory]
    // Found by a review: an accented name parses as an OR of its two spellings, and "sort:oldest" became "()".
    [InlineData("sort:oldest", "user", "jörg@example.org", "user:jörg@example.org sort:oldest")]
    // A '*' inside a value is quoted (unquoted it is refused); at its end it stays a prefix typed in the builder.
    [InlineData("", "user", "a*b@example.org", "user:\"a*b@example.org\"")]
    [InlineData("", "user", "al*", "user:al*")]
    public void Append_TermsTheUiBuilds_AlwaysParse(string query, string field, string value, string expected)
    {
        var result = QueryTerms.Append(query, QueryTerms.Term(field, value));

        Assert.Equal(expected, result);
        Assert.NotNull(QueryParser.Parse(result).Root);
    }

    [Theory]
    [InlineData("user:bob after:2026-11-01 before:2026-11-08", "user:bob")]
    [InlineData("user:bob on:2026-11-01", "user:bob")]
    [InlineData("user:bob \"meeting on:monday now\"", "user:bob \"meeting on:monday now\"")]
    // Where taking a date out could change what the rest means, the query is left as it was (a review).
    [InlineData("(after:2026-11-01 OR user:bob) before:2026-11-08", "(after:2026-11-01 OR user:bob) before:2026-11-08")]
    [InlineData("a OR after:2026-11-01", "a OR after:2026-11-01")]
    [InlineData("NOT before:2026-01-01 user:alice", "NOT before:2026-01-01 user:alice")]
    [InlineData("user:a OR before:2026-01-01 user:b", "user:a OR before:2026-01-01 user:b")]
    [InlineData("subject:\"x \\\" after:2026-01-01 y\"", "subject:\"x \\\" after:2026-01-01 y\"")]
    public void WithoutDateTerms_TheDatePickerReplacesTheQuerysDates(string query, string expected)
    {
        // A second range beside the first made a query no event can match, refused (a review).
        Assert.Equal(expected, QueryTerms.WithoutDateTerms(query));
    }

    [Fact]
    public void WithSort_PhraseHoldingSortColon_KeepsThePhrase()
    {
        var result = QueryTerms.WithSort("\"the sort:of review\" sort:oldest", SortOrder.NewestFirst);

        Assert.Equal("\"the sort:of review\"", result);
    }

    // Each sort: term goes with the space after it, so the words either side keep one space between them.
    [Theory]
    [InlineData("sort:oldest user:bob", "user:bob")]
    [InlineData("user:bob sort:oldest", "user:bob")]
    [InlineData("user:bob sort:oldest event:Login", "user:bob event:Login")]
    [InlineData("user:bob\tsort:OLDEST  event:Login", "user:bob\tevent:Login")]
    [InlineData("sort:oldest a sort:newest b", "a b")]
    [InlineData("sort:oldest", "")]
    [InlineData("(a OR b)sort:oldest", "(a OR b)")]
    // sort:"oldest" is one term (a field and its quoted value), so the phrase does not stay behind as text.
    [InlineData("sort:\"oldest\" a", "a")]
    // Inside a phrase a sort: is text, also after an escaped quote in it.
    [InlineData("\"sort:oldest\" a", "\"sort:oldest\" a")]
    [InlineData("subject:\"say \\\"hi\\\" sort:oldest\" sort:oldest", "subject:\"say \\\"hi\\\" sort:oldest\"")]
    [InlineData("\"a\\\\\" sort:oldest", "\"a\\\\\"")]
    // Queries that do not parse: their sort: terms go as the parser's lexer finds them (so choosing an order
    // replaces a mistyped one and never leaves two); a phrase without its closing quote runs to the end, as the
    // parser reads it, so what follows its quote stays untouched; other errors stay where the officer put them.
    [InlineData("user:bob sort:sideways", "user:bob")]
    [InlineData("(a sort:oldest)", "(a )")]
    [InlineData("colour:red sort:oldest", "colour:red")]
    [InlineData("a - sort:oldest b", "a - b")]
    [InlineData("a \"unclosed sort:oldest", "a \"unclosed sort:oldest")]
    [InlineData("sort:oldest a \"unclosed sort:oldest", "a \"unclosed sort:oldest")]
    public void WithSort_NewestFirst_RemovesEverySortTermTheParserSees(string query, string expected)
    {
        Assert.Equal(expected, QueryTerms.WithSort(query, SortOrder.NewestFirst));
    }

    [Theory]
    [InlineData("", "sort:oldest")]
    [InlineData("a sort:newest b", "a b sort:oldest")]
    [InlineData("\"sort:of\" sort:newest", "\"sort:of\" sort:oldest")]
    [InlineData("user:bob sort:sideways", "user:bob sort:oldest")]
    public void WithSort_OldestFirst_OneSortTermAtTheEnd(string query, string expected)
    {
        var result = QueryTerms.WithSort(query, SortOrder.OldestFirst);

        Assert.Equal(expected, result);
        Assert.Equal(SortOrder.OldestFirst, QueryParser.Parse(result).Sort);
    }

    [Fact]
    public async Task Append_FacetOfAnOrQuery_FindsAsManyEventsAsTheFacetCounted()
    {
        await using var store = await TestStore.CreateAsync();
        await store.FillAsync("Subject: x\r\n\r\nx\r\n"u8.ToArray());
        const string query = "event:Login OR event:MessageRead";
        var page = await store.Store.SearchEventsAsync(new EventSearch { Query = QueryParser.Parse(query), Facets = Facets.EventType });
        var read = Assert.Single(page.Facets["event"], f => f.Value == "MessageRead");

        var clicked = QueryTerms.Append(query, QueryTerms.Term("event", read.Value));
        var narrowed = await store.Store.SearchEventsAsync(new EventSearch { Query = QueryParser.Parse(clicked) });

        Assert.Equal(2, page.Total);
        Assert.Equal(read.Count, narrowed.Total);
    }
}
