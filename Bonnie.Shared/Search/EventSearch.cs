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
}

/// <summary>One page of results. <see cref="Total"/> counts every match; <see cref="Next"/> is null on the last page.</summary>
public sealed record EventPage(long Total, IReadOnlyList<StoredEvent> Items, string? Next)
{
    /// <summary>Facet name (<c>event</c>, <c>user</c>, <c>folder</c>, <c>day</c>) to value and count, largest first.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<FacetCount>> Facets { get; init; } = new Dictionary<string, IReadOnlyList<FacetCount>>();
}

public sealed record FacetCount(string Value, long Count);

/// <summary>A query parsed once: its tree and the sort it asked for (<c>sort:oldest</c>).</summary>
public sealed record ParsedQuery(QueryNode Root, SortOrder Sort, string Text);
