using Bonnie.Shared.Storage;

namespace Bonnie.Shared.Search;

public enum SortOrder
{
    NewestFirst,
    OldestFirst,
}

/// <summary>What can be counted beside a result page.</summary>
[Flags]
public enum Facets
{
    None = 0,
    EventType = 1,
    User = 2,
    Folder = 4,
    Day = 8,
    All = EventType | User | Folder | Day,
}

/// <summary>A parsed query plus paging: what <see cref="IBonnieStore.SearchEventsAsync"/> takes.</summary>
public sealed record EventSearch
{
    public required ParsedQuery Query { get; init; }
    public int Limit { get; init; } = 50;
    /// <summary>The <see cref="EventPage.Next"/> of the previous page; null for the first.</summary>
    public string? Cursor { get; init; }
    public Facets Facets { get; init; }

    public const int MaxLimit = 1000;

    /// <summary>Buckets a facet gives at most (its largest), every store alike; the day facet gives every day.</summary>
    public const int FacetBuckets = 50;
}

/// <summary>One page of results. <see cref="Total"/> counts every match; <see cref="Next"/> is null on the last page.</summary>
public sealed record EventPage(long Total, IReadOnlyList<StoredEvent> Items, string? Next)
{
    /// <summary>Facet name (<c>event</c>, <c>user</c>, <c>folder</c>, <c>day</c>) to value and count, largest first.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<FacetCount>> Facets { get; init; } = new Dictionary<string, IReadOnlyList<FacetCount>>();
}

/// <param name="Value">What the facet's term searches: for <c>folder</c> the folder's unique id, so that a click finds
/// exactly what was counted (a name a folder had, or one another folder has now, found other folders' events too).</param>
public sealed record FacetCount(string Value, long Count)
{
    /// <summary>What to show for <see cref="Value"/> when it is not readable itself: a folder's name now.</summary>
    public string? Label { get; init; }
}

/// <summary>
/// What <see cref="IBonnieStore.ReadFeedAsync"/> takes: the events a query matches in the order they were stored, from
/// <see cref="After"/> (a <see cref="FeedPage.Next"/>; null: from the first stored). The query's <c>sort:</c> is not used.
/// </summary>
public sealed record FeedRequest
{
    public required ParsedQuery Query { get; init; }
    public string? After { get; init; }
    public int Limit { get; init; } = 100;
}

/// <summary>
/// Events in the order they were stored. <see cref="Next"/> is where to go on from, given also when nothing matched
/// (each call looks at a bounded number of stored events); <see cref="CaughtUp"/> is true when this call reached the
/// last event stored so far, so the next call may wait a while.
/// </summary>
public sealed record FeedPage(IReadOnlyList<StoredEvent> Items, string Next, bool CaughtUp);

/// <summary>A query parsed once: its tree and the sort it asked for (<c>sort:oldest</c>).</summary>
public sealed record ParsedQuery(QueryNode Root, SortOrder Sort, string Text)
{
    /// <summary>Where the query said <c>sort:</c>; null when it did not (the feed, which has one order, refuses it).</summary>
    public int? SortAt { get; init; }
}
