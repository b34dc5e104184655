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

    [Fact]
    public void WithSort_PhraseHoldingSortColon_KeepsThePhrase()
    {
        var result = QueryTerms.WithSort("\"the sort:of review\" sort:oldest", SortOrder.NewestFirst);

        Assert.Equal("\"the sort:of review\"", result);
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
