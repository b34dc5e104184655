using System.Security.Cryptography;
using System.Text;

namespace Bonnie.Shared.Search;

/// <summary>
/// Binds a store's page cursor to the query and order that produced it. A cursor is a position in one result set:
/// taken to another query it silently skipped or repeated events (a review found a page of <c>user:bob</c> that began
/// where a page of <c>user:alice</c> had ended). It is refused instead, saying why.
/// </summary>
public static class SearchCursor
{
    private const char Separator = '.';

    /// <summary>The store's cursor, prefixed with the query's fingerprint.</summary>
    public static string Bind(string storeCursor, ParsedQuery query) => Fingerprint(query) + Separator + storeCursor;

    /// <summary>The store's cursor inside <paramref name="cursor"/>, or a syntax error when it belongs to another query.</summary>
    public static string Unbind(string cursor, ParsedQuery query)
    {
        var dot = cursor.IndexOf(Separator, StringComparison.Ordinal);
        if (dot <= 0)
        {
            throw new QuerySyntaxException("The cursor is not one this server gave out; start again without it.", 0, "a cursor from a previous page");
        }
        if (!cursor.AsSpan(0, dot).SequenceEqual(Fingerprint(query)))
        {
            throw new QuerySyntaxException(
                "The cursor belongs to another query or order: use it with the query it came with, or start again without it.", 0,
                "a cursor from a previous page of this query");
        }
        return cursor[(dot + 1)..];
    }

    // The query as the parser understood it (its text, blanks at either end aside) and its order; 64 bits is plenty to
    // tell an officer's queries apart, and keeps the cursor short enough for a URL.
    private static string Fingerprint(ParsedQuery query) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(query.Sort + "\n" + query.Text.Trim())))[..16];
}
