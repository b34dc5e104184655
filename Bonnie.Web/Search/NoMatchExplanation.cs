using System.Globalization;
using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;

namespace Bonnie.Web.Search;

/// <summary>
/// Why a query matches nothing, term by term: each term the query asks for is counted alone, and the ones that match
/// no event at all are named. "0 events match" alone could not tell a misspelt folder (<c>folder:Archve</c>) from a
/// real absence, and an officer could report "nothing found" over a typing mistake (a review).
/// </summary>
internal static class NoMatchExplanation
{
    /// <summary>Terms counted at most: each is a count of its own in the store.</summary>
    public const int MostTerms = 6;

    /// <summary>One term the query asks for, as it can be typed again, and whether it matches any event alone.</summary>
    public sealed record Term(string Text, QueryNode Node, bool MatchesAlone)
    {
        /// <summary>What the page says of a term that matches nothing alone, in an officer's words.</summary>
        public string Why => Node switch
        {
            KeywordNode { Field: KeywordField.Folder, IsPrefix: false } k =>
                $"No event was in a folder called “{k.Value}”: folder: takes a folder's full name (user/alice/Archive@example.org), the name its owner sees (Archive, INBOX/Archive), its last part, or its unique id.",
            KeywordNode { Field: KeywordField.User, IsPrefix: false } k => $"No event of the user “{k.Value}” is stored.",
            TimeRangeNode r => $"No event is stored {Range(r)}.",
            _ => $"{Text} alone matches no event.",
        };
    }

    /// <summary>
    /// The terms of <paramref name="query"/> an event must match, each counted alone; excluded terms (<c>NOT</c>) are
    /// left out: alone they match what the query keeps out, which says nothing of why it is empty.
    /// </summary>
    public static async Task<IReadOnlyList<Term>> ExplainAsync(IBonnieStore store, ParsedQuery query, CancellationToken cancellationToken)
    {
        var terms = new List<Term>();
        foreach (var (text, node) in Wanted(query.Root).DistinctBy(t => t.Text, StringComparer.Ordinal).Take(MostTerms))
        {
            var alone = new EventSearch { Query = new ParsedQuery(node, SortOrder.NewestFirst, text), Limit = 1 };
            var page = await OffCircuit.Read(() => store.SearchEventsAsync(alone, cancellationToken), cancellationToken);
            terms.Add(new Term(text, node, page.Total > 0));
        }
        return terms;
    }

    /// <summary>The leaves of the query outside any <c>NOT</c>, with the text that asks for each alone.</summary>
    internal static IEnumerable<(string Text, QueryNode Node)> Wanted(QueryNode node) => node switch
    {
        AndNode a => a.Children.SelectMany(Wanted),
        OrNode o => o.Children.SelectMany(Wanted),
        NotNode or MatchAllNode => [],
        _ => TextOf(node) is { } text ? [(text, node)] : [],
    };

    /// <summary>A leaf as the query language spells it, so that it can be read and typed again.</summary>
    internal static string? TextOf(QueryNode node) => node switch
    {
        EventTypeNode e => "event:" + e.Type,
        KeywordNode k => Field(k.Field) + ":" + QueryTerms.Quote(k.Value) + (k.IsPrefix && !k.Value.EndsWith('*') ? "*" : ""),
        TextNode t => (t.Field == TextField.Any ? "" : t.Field.ToString().ToLowerInvariant() + ":")
            + (t.IsPhrase ? QueryTerms.Phrase(t.Text) : QueryTerms.Quote(t.Text)) + (t.IsPrefix ? "*" : ""),
        // on: is the only term with both bounds (after: and before: are a term each).
        TimeRangeNode { From: { } day, Until: { } next } when next - day == TimeSpan.FromDays(1) && day.UtcDateTime.TimeOfDay == TimeSpan.Zero =>
            "on:" + Day(day),
        TimeRangeNode r => string.Join(' ', new[]
        {
            r.From is { } from ? "after:" + Day(from) : null,
            r.Until is { } until ? "before:" + Day(until) : null,
        }.OfType<string>()) is { Length: > 0 } range ? range : null,
        _ => null,
    };

    private static string Field(KeywordField field) => field switch
    {
        KeywordField.MessageId => "messageid",
        _ => field.ToString().ToLowerInvariant(),
    };

    // after: and before: take days; a bound that is not midnight (a time typed in full) keeps its time.
    private static string Day(DateTimeOffset t) => t.UtcDateTime.TimeOfDay == TimeSpan.Zero
        ? t.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
        : t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.FFFFFFFZ", CultureInfo.InvariantCulture);

    private static string Range(TimeRangeNode r) => (r.From, r.Until) switch
    {
        ({ } from, { } until) when until - from == TimeSpan.FromDays(1) && from.UtcDateTime.TimeOfDay == TimeSpan.Zero => $"on {Day(from)} (UTC)",
        ({ } from, { } until) => $"from {Day(from)} up to {Day(until)} (UTC)",
        ({ } from, null) => $"from {Day(from)} (UTC) on",
        (null, { } until) => $"before {Day(until)} (UTC)",
        _ => "at any time",
    };
}
