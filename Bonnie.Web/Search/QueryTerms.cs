using System.Globalization;
using System.Text;
using Bonnie.Shared.Search;

namespace Bonnie.Web.Search;

/// <summary>Writes terms of the query language so that what the builder and the facet chips add always parses.</summary>
internal static class QueryTerms
{
    /// <summary><c>field:value</c>, the value quoted when it holds spaces, quotes or parentheses.</summary>
    public static string Term(string field, string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(field);
        return field + ":" + Quote(value.Trim());
    }

    public static string Quote(string value)
    {
        // A '*' inside a value (a login or Message-ID that holds one) is refused unquoted; at its end it is a prefix
        // an officer typed in the builder, and stays one.
        if (value.Length > 0 && !value.Any(c => char.IsWhiteSpace(c) || c is '"' or '(' or ')' or '\\') && value.IndexOf('*', StringComparison.Ordinal) is var star
            && (star < 0 || star == value.Length - 1))
        {
            return value;
        }
        return Phrase(value);
    }

    /// <summary><paramref name="value"/> as one phrase, quoted and escaped whatever characters it holds.</summary>
    public static string Phrase(string value)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in value)
        {
            if (c is '"' or '\\')
            {
                sb.Append('\\');
            }
            sb.Append(c);
        }
        return sb.Append('"').ToString();
    }

    /// <summary>
    /// The query with <paramref name="term"/> added (AND), unless it is already there. A query whose top level is an
    /// OR is put in parentheses first: AND binds tighter than OR, so <c>a OR b user:x</c> would narrow only <c>b</c>
    /// and find more than the facet that offered <c>user:x</c> counted.
    /// </summary>
    public static string Append(string? query, string term)
    {
        var q = (query ?? "").Trim();
        if (q.Length == 0)
        {
            return term;
        }
        // A query of nothing but its order has no branch to join: parenthesized it became "()" and was refused (a
        // review: an accented name's chip, which parses as an OR of its two spellings, after "oldest first").
        if (string.IsNullOrWhiteSpace(WithoutSortTerms(q)))
        {
            return term + " " + q;
        }
        if (JoinsOnlyTheLastOrBranch(q, term, out var sort))
        {
            // sort: is refused inside parentheses, so it moves after them.
            var grouped = "(" + WithoutSortTerms(q) + ") " + term;
            return sort == SortOrder.OldestFirst ? grouped + " sort:oldest" : grouped;
        }
        var words = q.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return words.Contains(term, StringComparer.Ordinal) ? q : q + " " + term;
    }

    /// <summary>
    /// Whether <paramref name="term"/> added without parentheses would join only the query's last OR branch. A query
    /// that does not parse is left as typed: the page shows the error where the officer put it.
    /// </summary>
    private static bool JoinsOnlyTheLastOrBranch(string query, string term, out SortOrder sort)
    {
        sort = SortOrder.NewestFirst;
        try
        {
            sort = QueryParser.Parse(query).Sort;
            // Parsed with the term, not alone: "(a OR b)" alone is an OR too, but the term then joins the whole group.
            return QueryParser.Parse(query + " " + term).Root is OrNode;
        }
        catch (QuerySyntaxException)
        {
            return false;
        }
    }

    /// <summary>
    /// The query without its date terms (<c>after:</c>, <c>before:</c>, <c>on:</c>) when they are plain conditions of
    /// the whole query: only in a query of terms side by side, without OR, NOT, parentheses or escaped quotes, where
    /// taking a date out cannot change what the rest means (a review found "NOT before:X user:a" made "NOT user:a").
    /// Any other query is left as it was.
    /// </summary>
    public static string WithoutDateTerms(string? query)
    {
        var q = query ?? "";
        if (q.Contains('(', StringComparison.Ordinal) || q.Contains('\\', StringComparison.Ordinal)
            || q.Split((char[])[' ', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries).Any(w => w is "OR" or "NOT" or "AND"))
        {
            return q;
        }
        var depth = 0;
        var inPhrase = false;
        var kept = new List<string>();
        foreach (var word in q.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var isDate = depth == 0 && !inPhrase && (word.StartsWith("after:", StringComparison.OrdinalIgnoreCase)
                || word.StartsWith("before:", StringComparison.OrdinalIgnoreCase) || word.StartsWith("on:", StringComparison.OrdinalIgnoreCase))
                && !word.Contains('(', StringComparison.Ordinal) && !word.Contains(')', StringComparison.Ordinal) && !word.Contains('"', StringComparison.Ordinal);
            depth += word.Count(c => c == '(') - word.Count(c => c == ')');
            inPhrase ^= word.Count(c => c == '"') % 2 == 1;
            if (!isDate)
            {
                kept.Add(word);
            }
        }
        var without = string.Join(' ', kept);
        try
        {
            QueryParser.Parse(without);
            return without;
        }
        catch (QuerySyntaxException)
        {
            return q;
        }
    }

    public static string Date(DateTime date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The query with its <c>sort:</c> term replaced by the order asked for (newest first is the default, so it is dropped).</summary>
    public static string WithSort(string? query, SortOrder order)
    {
        var q = WithoutSortTerms(query ?? "");
        return order == SortOrder.OldestFirst ? (q.Length == 0 ? "sort:oldest" : q + " sort:oldest") : q;
    }

    /// <summary>
    /// The query without its <c>sort:</c> terms, found by the parser (<see cref="QueryParser.FindSortTerms"/>): a
    /// phrase such as <c>"sort:of"</c> is text and stays. A query that does not parse loses its sort: terms too (the
    /// lexer reads every query to its end), so choosing an order replaces a mistyped <c>sort:sideways</c> and never
    /// leaves two; any other error stays where the officer put it, for the page to show.
    /// </summary>
    private static string WithoutSortTerms(string query)
    {
        var kept = new StringBuilder(query.Length);
        var from = 0;
        foreach (var term in QueryParser.FindSortTerms(query))
        {
            kept.Append(query, from, term.Start.Value - from);
            // The space after it goes too, so the words either side keep one space between them.
            from = term.End.Value;
            while (from < query.Length && char.IsWhiteSpace(query[from]))
            {
                from++;
            }
        }
        kept.Append(query, from, query.Length - from);
        return kept.ToString().Trim();
    }
}
