using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;

namespace Bonnie.Web.Search;

/// <summary>
/// The search page's state: the query as typed, the one that ran, its error, the current page and the cursors of the
/// pages before it (the store pages by keyset, so "previous" is a stack of cursors, not an offset).
/// </summary>
internal sealed class SearchViewModel
{
    public const int PageSize = 50;
    public const Shared.Search.Facets AllFacets = Shared.Search.Facets.All;

    private readonly Stack<string?> _previous = new();

    // Pages before the first one the stack knows: a page opened from its address (page and cursor) has no stack behind it.
    private int _skippedPages;

    /// <summary>What is in the query box.</summary>
    public string Query { get; set; } = "";

    /// <summary>The query of the results shown; null before the first search.</summary>
    public string? AppliedQuery { get; private set; }

    /// <summary><see cref="AppliedQuery"/> as parsed when it ran: its pages, its counts and the page's notes read it, not a new parse.</summary>
    public ParsedQuery? Applied { get; private set; }

    public QuerySyntaxException? Error { get; private set; }

    /// <summary>
    /// The error is about the page's address (a cursor the store refused), not about the query: the caret under the
    /// query pointed at its first character, which meant nothing (a review).
    /// </summary>
    public bool ErrorIsTheAddresses { get; private set; }

    /// <summary>
    /// The error is the store's (it stopped the search at its time limit), not about a place in the query: no caret.
    /// </summary>
    public bool ErrorIsTheStores { get; private set; }

    public EventPage? Page { get; private set; }

    public IReadOnlyDictionary<string, IReadOnlyList<FacetCount>> Facets { get; private set; } = new Dictionary<string, IReadOnlyList<FacetCount>>();

    /// <summary>The counts by type, user, folder and day of the query shown are being made (its rows are already shown).</summary>
    public bool CountingFacets { get; private set; }

    /// <summary>Why the counts of the query shown are missing (they ran out of time or failed); null when they are not.</summary>
    public string? FacetsError { get; private set; }

    // Each search's number: counts that come back for a query no longer shown are dropped.
    private int _search;

    public string? CurrentCursor { get; private set; }

    /// <summary>The number of the last search started: a page that loads after another search began is not shown.</summary>
    public int SearchNumber => _search;

    /// <summary>1-based number of the page shown.</summary>
    public int PageNumber => _skippedPages + _previous.Count + 1;

    public bool HasPrevious => _previous.Count > 0;

    /// <summary>The cursor <see cref="PreviousAsync"/> loads (null for the first page, or when there is none before).</summary>
    public string? PreviousCursor => _previous.TryPeek(out var cursor) ? cursor : null;

    public bool HasNext => Page?.Next is not null;

    public SortOrder Sort { get; private set; }

    public IReadOnlyList<StoredEvent> Items => Page?.Items ?? [];

    /// <summary>Days with matches, oldest first, for the timeline chart.</summary>
    public IReadOnlyList<FacetCount> Days =>
        Facets.TryGetValue("day", out var days) ? days.OrderBy(d => d.Value, StringComparer.Ordinal).ToList() : [];

    /// <summary>
    /// <see cref="Days"/> with the days between them that had no match (count 0), so the chart's axis is time: a bar per
    /// day with matches only put 11-29 where 11-25 would be. Left as they are past a year, or when a value is not a date.
    /// </summary>
    public IReadOnlyList<FacetCount> ChartDays => WithEmptyDays(Days);

    internal static IReadOnlyList<FacetCount> WithEmptyDays(IReadOnlyList<FacetCount> days)
    {
        var parsed = days.Select(d => DateOnly.TryParseExact(d.Value, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.None, out var day) ? day : (DateOnly?)null).ToList();
        if (days.Count < 2 || parsed.Any(p => p is null) || parsed[^1]!.Value.DayNumber - parsed[0]!.Value.DayNumber > 366)
        {
            return days;
        }
        var counts = days.ToDictionary(d => d.Value, d => d.Count, StringComparer.Ordinal);
        var filled = new List<FacetCount>();
        for (var day = parsed[0]!.Value; day <= parsed[^1]!.Value; day = day.AddDays(1))
        {
            var value = day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
            filled.Add(new FacetCount(value, counts.GetValueOrDefault(value)));
        }
        return filled;
    }

    /// <summary>Parses <see cref="Query"/>; on success returns the parsed query and clears the error.</summary>
    public ParsedQuery? TryParse()
    {
        try
        {
            var parsed = QueryParser.Parse(Query);
            Error = null;
            ErrorIsTheAddresses = false;
            ErrorIsTheStores = false;
            return parsed;
        }
        catch (QuerySyntaxException ex)
        {
            Error = ex;
            return null;
        }
    }

    /// <summary>
    /// Runs <see cref="Query"/> from its first page with its total, without the counts by type, user, folder and day
    /// (<see cref="CountFacetsAsync"/> makes them next). False when it does not parse.
    /// </summary>
    /// <remarks>
    /// The counts read every matching event: over a million events, a broad query's first page and total took 45 ms and
    /// its counts 2.3 s more, and a query whose counts ran past the store's time limit showed no rows at all. The rows
    /// come first; the counts follow, or say why they cannot.
    /// </remarks>
    public async Task<bool> SearchAsync(IBonnieStore store, CancellationToken cancellationToken = default)
    {
        if (TryParse() is not { } parsed)
        {
            return false;
        }
        var query = Query;
        var search = ++_search;
        EventPage page;
        try
        {
            page = await InBackground(store, new EventSearch { Query = parsed, Limit = PageSize }, cancellationToken);
        }
        catch (QuerySyntaxException ex) when (search == _search)
        {
            // The store stopped it (its time limit): said under the box, where the officer narrows the query. The rows
            // below stay the last query's; their counts, given up for this search, are not awaited any more.
            Error = ex;
            ErrorIsTheStores = true;
            CountingFacets = false;
            return false;
        }
        if (search != _search)
        {
            // Another search was started meanwhile: its rows are the ones to show.
            return false;
        }
        _previous.Clear();
        _skippedPages = 0;
        CurrentCursor = null;
        AppliedQuery = query;
        Applied = parsed;
        Sort = parsed.Sort;
        Page = page;
        Facets = new Dictionary<string, IReadOnlyList<FacetCount>>();
        FacetsError = null;
        CountingFacets = true;
        return true;
    }

    /// <summary>
    /// The counts by type, user, folder and day of the query shown. A store that stops the count (its time limit) or
    /// fails leaves the rows as they are and says so in <see cref="FacetsError"/>; counts of a query that is no longer the
    /// one shown are dropped.
    /// </summary>
    public async Task CountFacetsAsync(IBonnieStore store, CancellationToken cancellationToken = default)
    {
        if (Applied is not { } query || !CountingFacets)
        {
            return;
        }
        var search = _search;
        try
        {
            var counted = await InBackground(store, new EventSearch { Query = query, Limit = 1, Facets = AllFacets }, cancellationToken);
            if (search == _search)
            {
                Facets = counted.Facets;
            }
        }
        catch (QuerySyntaxException ex) when (search == _search)
        {
            FacetsError = ex.Message;
        }
        catch (Exception ex) when (ex is not OperationCanceledException && search == _search)
        {
            // The caller logs what went wrong; the officer is told the rows are still whole.
            FacetsError = "The counts could not be made: the store answered with an error. The rows shown are complete.";
            throw;
        }
        finally
        {
            if (search == _search)
            {
                CountingFacets = false;
            }
        }
    }

    public async Task NextAsync(IBonnieStore store, CancellationToken cancellationToken = default)
    {
        if (Page?.Next is not { } next || AppliedQuery is null)
        {
            return;
        }
        if (await LoadForThisSearchAsync(store, next, cancellationToken) is not { } page)
        {
            return;
        }
        _previous.Push(CurrentCursor);
        CurrentCursor = next;
        Page = page;
    }

    public async Task PreviousAsync(IBonnieStore store, CancellationToken cancellationToken = default)
    {
        if (_previous.Count == 0 || AppliedQuery is null)
        {
            return;
        }
        var cursor = _previous.Peek();
        if (await LoadForThisSearchAsync(store, cursor, cancellationToken) is not { } page)
        {
            return;
        }
        Page = page;
        _previous.Pop();
        CurrentCursor = cursor;
    }

    /// <summary>
    /// Shows the page at <paramref name="cursor"/> of the query that ran, numbered <paramref name="pageNumber"/> as its
    /// address said (a page bookmarked or sent). A cursor the store refuses (another query's, or not one it gave) is
    /// the error shown, and the page shown stays.
    /// </summary>
    public async Task OpenAtAsync(IBonnieStore store, string cursor, int pageNumber, CancellationToken cancellationToken = default)
    {
        if (AppliedQuery is null)
        {
            return;
        }
        var search = _search;
        EventPage? page;
        try
        {
            page = await LoadForThisSearchAsync(store, cursor, cancellationToken);
        }
        catch (QuerySyntaxException ex) when (search == _search)
        {
            Error = ex;
            ErrorIsTheAddresses = true;
            return;
        }
        if (page is null)
        {
            return;
        }
        Page = page;
        _previous.Clear();
        _skippedPages = Math.Max(1, pageNumber - 1);
        CurrentCursor = cursor;
    }

    /// <summary>Back to the query's first page.</summary>
    public async Task FirstAsync(IBonnieStore store, CancellationToken cancellationToken = default)
    {
        if (AppliedQuery is null)
        {
            return;
        }
        if (await LoadForThisSearchAsync(store, null, cancellationToken) is not { } page)
        {
            return;
        }
        Page = page;
        _previous.Clear();
        _skippedPages = 0;
        CurrentCursor = null;
    }

    /// <summary>The first row's 1-based number on this page.</summary>
    public long FirstRow => ((long)(PageNumber - 1) * PageSize) + 1;

    /// <summary>
    /// The page at <paramref name="cursor"/> of the query that ran (facets do not change between its pages, so only the
    /// first counts them); null when another search began while it loaded: that search's rows are the ones to show.
    /// </summary>
    private async Task<EventPage?> LoadForThisSearchAsync(IBonnieStore store, string? cursor, CancellationToken cancellationToken)
    {
        var search = _search;
        var page = await InBackground(store, new EventSearch { Query = Applied!, Limit = PageSize, Cursor = cursor }, cancellationToken);
        return search == _search ? page : null;
    }

    private static Task<EventPage> InBackground(IBonnieStore store, EventSearch search, CancellationToken cancellationToken) =>
        OffCircuit.Read(() => store.SearchEventsAsync(search, cancellationToken), cancellationToken);
}
