using System.Globalization;
using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;

namespace Bonnie.Web.Hosting;

/// <summary>
/// What the trail holds over time: its first and last event, and the events of each of the last days (up to today, or
/// up to the last event when there is none since).
/// </summary>
/// <param name="Query">The window as a query: the search it links to finds exactly the events it counted.</param>
/// <param name="PerDay">Every day of the window, oldest first, a day without events counted 0.</param>
/// <param name="InWindow">The events of the window, every one (the days' counts add up to it).</param>
/// <param name="Oldest">The trail's earliest event by the time it happened; null for an empty store.</param>
/// <param name="Newest">Its latest.</param>
/// <param name="CountedAt">When the store was read: the page says so, as the counts are kept a little while.</param>
internal sealed record StoredTimeline(
    string Query,
    IReadOnlyList<FacetCount> PerDay,
    long InWindow,
    StoredEvent? Oldest,
    StoredEvent? Newest,
    DateTimeOffset CountedAt)
{
    /// <summary>The window is the last days up to today; otherwise it ends at the trail's last event, before today.</summary>
    public bool EndsToday { get; init; } = true;
}

/// <summary>
/// The home page's view of the trail over time. Counting a month of events reads every one of them (about a second
/// at a million), so one count serves every officer's home page for <see cref="KeptFor"/>; a count that failed is
/// kept only a few seconds.
/// </summary>
internal sealed class StoredEventsTimeline(IBonnieStore store, TimeProvider time)
{
    /// <summary>The days shown, today (UTC) included.</summary>
    public const int Days = 30;

    public static readonly TimeSpan KeptFor = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a failed count is answered as failed: a store that keeps reaching its time limit would otherwise be asked
    /// for a whole month again by every home page opened.
    /// </summary>
    public static readonly TimeSpan FailureKeptFor = TimeSpan.FromSeconds(10);

    private readonly Lock _gate = new();
    private Task<StoredTimeline>? _last;
    private DateTimeOffset _lastEnded;

    /// <summary>The last count while it is fresh (or on its way), otherwise a new one.</summary>
    public Task<StoredTimeline> GetAsync()
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            // A count still on its way is awaited, however long it takes: a second one beside it would only slow both.
            if (_last is null || (_last.IsCompleted && now - _lastEnded >= (_last.IsCompletedSuccessfully ? KeptFor : FailureKeptFor)))
            {
                // Not the page's token: the count is shared, and an officer leaving must not cancel another's.
                _last = Task.Run(() => CountAndNoteTheEndAsync(now));
            }
            return _last;
        }
    }

    private async Task<StoredTimeline> CountAndNoteTheEndAsync(DateTimeOffset now)
    {
        try
        {
            return await CountAsync(now).ConfigureAwait(false);
        }
        finally
        {
            lock (_gate)
            {
                _lastEnded = time.GetUtcNow();
            }
        }
    }

    private async Task<StoredTimeline> CountAsync(DateTimeOffset now)
    {
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var oldest = await FirstAsync(SortOrder.OldestFirst).ConfigureAwait(false);
        var newest = await FirstAsync(SortOrder.NewestFirst).ConfigureAwait(false);
        // A trail whose last event is older than the window (an archive imported, a Cyrus that stopped sending) showed
        // thirty empty days: the window ends at its last event then, and the page says so.
        var end = newest is not null && DateOnly.FromDateTime(newest.Timestamp.UtcDateTime) is var last && last < today.AddDays(-(Days - 1)) ? last : today;
        var from = end.AddDays(-(Days - 1));
        // Up to the end of that day: an event stamped in the future (a server's clock ahead) is no day of the chart's.
        var query = FormattableString.Invariant($"after:{from:yyyy-MM-dd} before:{end.AddDays(1):yyyy-MM-dd}");
        var window = QueryParser.Parse(query);
        var counted = await store.SearchEventsAsync(new EventSearch { Query = window, Limit = 1, Facets = Facets.Day }).ConfigureAwait(false);

        var counts = (counted.Facets.TryGetValue("day", out var days) ? days : [])
            .ToDictionary(d => d.Value, d => d.Count, StringComparer.Ordinal);
        var perDay = Enumerable.Range(0, Days)
            .Select(i => from.AddDays(i).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))
            .Select(day => new FacetCount(day, counts.GetValueOrDefault(day)))
            .ToList();
        return new StoredTimeline(query, perDay, counted.Total, oldest, newest, now) { EndsToday = end == today };
    }

    private async Task<StoredEvent?> FirstAsync(SortOrder order)
    {
        var page = await store.SearchEventsAsync(new EventSearch { Query = new ParsedQuery(new MatchAllNode(), order, ""), Limit = 1 }).ConfigureAwait(false);
        return page.Items.Count > 0 ? page.Items[0] : null;
    }
}
