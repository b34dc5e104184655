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
/// word a prefix). <see cref="Text"/> always has a letter or digit (<see cref="QueryParser.HasSearchableText"/>).
/// </summary>
public sealed record TextNode(TextField Field, string Text, bool IsPhrase, bool IsPrefix) : QueryNode;

/// <summary>A time bound: events at or after <see cref="From"/> (inclusive) and before <see cref="Until"/> (exclusive); either may be open.</summary>
public sealed record TimeRangeNode(DateTimeOffset? From, DateTimeOffset? Until) : QueryNode;
