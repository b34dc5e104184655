using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Bonnie.Shared.Search;

namespace Bonnie.Web.Search;

/// <summary>Writes terms of the query language so that what the builder and the facet chips add always parses.</summary>
internal static partial class QueryTerms
{
    /// <summary><c>field:value</c>, the value quoted when it holds spaces, quotes or parentheses.</summary>
    public static string Term(string field, string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(field);
        return field + ":" + Quote(value.Trim());
    }

    public static string Quote(string value)
    {
        if (value.Length > 0 && !value.Any(c => char.IsWhiteSpace(c) || c is '"' or '(' or ')' or '\\'))
        {
            return value;
        }
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

    /// <summary>The query with <paramref name="term"/> added (AND), unless it is already there.</summary>
    public static string Append(string? query, string term)
    {
        var q = (query ?? "").Trim();
        if (q.Length == 0)
        {
            return term;
        }
        var words = q.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return words.Contains(term, StringComparer.Ordinal) ? q : q + " " + term;
    }

    public static string Date(DateTime date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The query with its <c>sort:</c> term replaced by the order asked for (newest first is the default, so it is dropped).</summary>
    public static string WithSort(string? query, SortOrder order)
    {
        var q = SortTerm().Replace(query ?? "", "").Trim();
        return order == SortOrder.OldestFirst ? (q.Length == 0 ? "sort:oldest" : q + " sort:oldest") : q;
    }

    [GeneratedRegex(@"(?<=^|\s)sort:\S*", RegexOptions.IgnoreCase)]
    private static partial Regex SortTerm();
}
