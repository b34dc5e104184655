using System.Text;
using Bonnie.Shared.Events;

namespace Bonnie.Shared.Search;

/// <summary>A keyword field matched exactly (or by prefix with a trailing <c>*</c>).</summary>
public enum KeywordField
{
    Event,
    User,
    Folder,
    MessageId,
    Session,
    Ip,
    Flag,
}

/// <summary>A text field matched by words; <see cref="Any"/> is free text over subject, addresses and body.</summary>
public enum TextField
{
    Any,
    Subject,
    From,
    To,
}

/// <summary>
/// The parsed query, shared by every translator (SQLite/FTS5 today, Elasticsearch later). Values are already
/// normalised (event names folded to <see cref="EventType"/>, keywords lower-cased) so translators only map.
/// </summary>
public abstract record QueryNode
{
    /// <summary>Where the node starts in the query text (0-based), for messages.</summary>
    public int Position { get; init; }
}

public sealed record MatchAllNode : QueryNode;

public sealed record AndNode(IReadOnlyList<QueryNode> Children) : QueryNode;

public sealed record OrNode(IReadOnlyList<QueryNode> Children) : QueryNode;

public sealed record NotNode(QueryNode Child) : QueryNode;

/// <summary><c>user:alice@example.org</c>, <c>folder:INBOX/Archive</c>, <c>ip:10.0.*</c>.</summary>
public sealed record KeywordNode(KeywordField Field, string Value, bool IsPrefix) : QueryNode;

/// <summary><c>event:MessageNew</c>, folded onto the event model's type.</summary>
public sealed record EventTypeNode(EventType Type) : QueryNode;

/// <summary>
/// Words or a phrase in a text field; <see cref="IsPrefix"/> for <c>contr*</c> and <c>"contract dra"*</c> (the last
/// word a prefix). <see cref="Text"/> always has a letter or digit (<see cref="HasSearchableText"/>): the node cannot
/// be built, nor copied with <c>with</c>, without one, so translators never have to decide what such a term means.
/// </summary>
public sealed record TextNode(TextField Field, string Text, bool IsPhrase, bool IsPrefix) : QueryNode
{
    private readonly string _text = Searchable(Text);

    public string Text
    {
        get => _text;
        init => _text = Searchable(value);
    }

    /// <summary>
    /// Whether text has a word to search for: a letter or a number (Unicode L or N, also outside the BMP). Text is
    /// searched by its words, and '&amp;' or '*' alone would match nothing and take a whole AND with it (or, excluded,
    /// exclude nothing) without a word said.
    /// </summary>
    public static bool HasSearchableText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var r in text.EnumerateRunes())
        {
            if (Rune.IsLetter(r) || Rune.IsNumber(r))
            {
                return true;
            }
        }
        return false;
    }

    // The parser refuses such text first, with the position and a message an officer can act on; this is the
    // invariant for every other caller.
    private static string Searchable(string text) => HasSearchableText(text)
        ? text
        : throw new ArgumentException($"Text '{text}' has no letter or digit to search for.", nameof(text));
}

/// <summary>A time bound: events at or after <see cref="From"/> (inclusive) and before <see cref="Until"/> (exclusive); either may be open.</summary>
public sealed record TimeRangeNode(DateTimeOffset? From, DateTimeOffset? Until) : QueryNode;
