using System.Globalization;
using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;
using Bonnie.Web.Audit;
using Bonnie.Web.Components.Shared;
using Bonnie.Web.Officers;
using Bonnie.Web.Search;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.JSInterop;
using MudBlazor;

namespace Bonnie.Web.Components.Pages;

public sealed partial class Search : IDisposable
{
    private static readonly CultureInfo Culture = CultureInfo.InvariantCulture;

    private static readonly (string Field, string Label)[] BuilderFields =
    [
        ("user", "User"), ("folder", "Folder"), ("event", "Event type"), ("from", "From"), ("to", "To"),
        ("subject", "Subject"), ("messageid", "Message-ID"), ("session", "Session"), ("ip", "Client address"), ("flag", "Flag"),
    ];

    private static readonly (string Facet, string Field, string Label)[] FacetGroups =
    [
        ("event", "event", "Event type"), ("user", "user", "User"), ("folder", "folder", "Folder"), ("day", "on", "Day"),
    ];

    private readonly SearchViewModel Vm = new();
    private IReadOnlyList<SavedSearch> _saved = [];
    private string _builderField = "user";
    private string? _builderValue;
    private DateRange? _range;
    private string? _saveName;
    private bool _busy;
    private ElementReference _rows;
    private IReadOnlyList<(string Id, string Name)> _foldersNamed = [];
    // The query explained with its explanation: shown only while that query's rows are.
    private (ParsedQuery Of, NoMatchExplanation.Explanation Explanation)? _noMatch;
    private string? _officer;

    [Inject]
    private IBonnieStore Store { get; set; } = default!;

    [Inject]
    private SavedSearches SavedSearches { get; set; } = default!;

    [Inject]
    private IOfficerAudit Audit { get; set; } = default!;

    [Inject]
    private OfficerCircuit Circuit { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    [Inject]
    private ILogger<Search> Logger { get; set; } = default!;

    [Inject]
    private IJSRuntime JS { get; set; } = default!;

    // Rows loaded from the address (a Back, a Forward, a link): once they and their counts are on the screen, the view
    // returns to where the officer left this address, if they came back to it (bonnie.js).
    private bool _returnToPosition;

    // The counts of the query shown, made after its rows are on the screen; cancelled by the next search or by leaving.
    private CancellationTokenSource? _counting;

    // The search on its way (cancelled by another, or by leaving), its query, and each search's number: only the newest
    // one's end clears the busy state.
    private CancellationTokenSource? _searching;
    private string? _running;
    private int _runs;

    // The query the store just stopped at its time limit: the address that then follows it must not run it again.
    private string? _stopped;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    /// <summary>The query in the address bar, so a search can be bookmarked and shared.</summary>
    [SupplyParameterFromQuery(Name = "q")]
    public string? Q { get; set; }

    /// <summary>The page of the results in the address bar (with <see cref="At"/>), so a page can be bookmarked and shared too.</summary>
    [SupplyParameterFromQuery(Name = "page")]
    public int? PageInAddress { get; set; }

    /// <summary>The cursor the page shown starts at; none for the first page.</summary>
    [SupplyParameterFromQuery(Name = "at")]
    public string? At { get; set; }

    // Chips per facet: a row or two, so the rows stay near the top of the page.
    private const int ChipsShown = 12;

    /// <summary>
    /// What the chips leave out, said (a review took the twelve days shown for all the days there were); null when
    /// they show everything.
    /// </summary>
    private static string? MoreThanShown(string facet, IReadOnlyList<FacetCount> counts)
    {
        if (counts.Count <= ChipsShown)
        {
            return null;
        }
        if (facet == "day")
        {
            return $"The newest {ChipsShown} of {counts.Count.ToString("N0", Culture)} days; the chart above has every day.";
        }
        // Named, and the count said as a floor where the store stopped counting buckets: "the 12 largest of 50 or more"
        // read as 50 users in all to a review, beside a thousand.
        var noun = facet switch { "event" => "event types", "user" => "users", "folder" => "folders", _ => "values" };
        var of = counts.Count >= EventSearch.FacetBuckets
            ? $"at least {EventSearch.FacetBuckets.ToString("N0", Culture)} {noun} match (only the {EventSearch.FacetBuckets.ToString("N0", Culture)} with the most are counted)"
            : $"{counts.Count.ToString("N0", Culture)} {noun} match";
        return $"The {ChipsShown} {noun} with the most matches shown; {of}. Add a term to narrow the query and see the others.";
    }

    private List<ChartSeries<double>> ChartSeries =>
        [new() { Name = "Events", Data = Vm.ChartDays.Select(d => (double)d.Count).ToArray() }];

    // About eight labels whatever the number of days (every day's label overlapped into a smear), half of them on a phone
    // (bonnie.css), shortened to the month and day unless the days span years; the bar's tooltip and the day facet still
    // give each day in full.
    private string[] ChartLabels
    {
        get
        {
            var days = Vm.ChartDays;
            var every = Math.Max(1, (int)Math.Ceiling(days.Count / 8.0));
            var years = days.Select(d => d.Value.Length >= 4 ? d.Value[..4] : d.Value).Distinct(StringComparer.Ordinal).Count();
            return [.. days.Select((d, i) => i % every != 0 ? "" : years == 1 && d.Value.Length == 10 ? d.Value[5..] : d.Value)];
        }
    }

    // A few round ticks up the axis (it showed only 0 and the top).
    private BarChartOptions ChartOptions => new()
    {
        ShowLegend = false,
        YAxisTicks = Bonnie.Web.LiveSystem.LiveView.TickStep(Vm.Days.Select(d => (double)d.Count)),
        YAxisTitle = "events",
    };

    private string PageLabel
    {
        get
        {
            if (Vm.Page is not { } page || page.Items.Count == 0)
            {
                return "No rows";
            }
            var last = Vm.FirstRow + page.Items.Count - 1;
            return $"Page {Vm.PageNumber}: rows {Vm.FirstRow.ToString("N0", Culture)}–{last.ToString("N0", Culture)} of {page.Total.ToString("N0", Culture)}";
        }
    }

    protected override async Task OnInitializedAsync()
    {
        _officer = (await AuthenticationState).User.Identity?.Name ?? "?";
        if (RendererInfo.IsInteractive)
        {
            _saved = await SavedSearches.ListAsync(_officer);
        }
    }

    protected override async Task OnParametersSetAsync()
    {
        // Searches run once the circuit is live, never during prerendering, so each is run and audited once.
        if (!RendererInfo.IsInteractive || Q is null)
        {
            if (Q is not null)
            {
                // Until then the page says what it is about to search, not "Type a query" under an empty box (a review
                // saw a broad search's 2-3 s that way).
                Vm.Query = Q;
                _busy = true;
            }
            return;
        }
        if (Q == _stopped && At is null)
        {
            // The address followed a query the store has just stopped: running it again would wait as long once more,
            // and record it in the audit twice for one Enter (a review). Enter runs it again, if the officer wants.
            return;
        }
        if (Q == Vm.AppliedQuery && Vm.Error is null)
        {
            // The same query: the address changed page (Back or Forward), or is the page's own after Next or Previous.
            if (At != Vm.CurrentCursor)
            {
                await OpenPageAsync();
            }
            // Also when the rows are those already shown: Back from an event finds them in the circuit at once, but the
            // browser had tried to restore the position while the event was still on the screen.
            _returnToPosition = true;
            return;
        }
        Vm.Query = Q;
        await RunAsync();
        if (At is not null && Vm.Error is null && Vm.AppliedQuery == Q)
        {
            await OpenPageAsync();
        }
        _returnToPosition = true;
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        // After the counts too: they come above the rows, and a position restored before them would be off by their height.
        if (!_returnToPosition || Vm.Page is null || Vm.CountingFacets)
        {
            return;
        }
        _returnToPosition = false;
        await InBrowserAsync(() => JS.InvokeAsync<bool>("bonnieScroll.restoreAfterReturn").AsTask(), "return to the position in the results");
    }

    /// <summary>The page the address names, recorded as read like any other page; the address already shows it.</summary>
    private Task OpenPageAsync()
    {
        if (At is not { } at)
        {
            return TurnAsync(null, 1, () => Vm.FirstAsync(Store), showInAddress: false);
        }
        var page = Math.Max(2, PageInAddress ?? 2);
        return TurnAsync(at, page, () => Vm.OpenAtAsync(Store, at, page), showInAddress: false);
    }

    private Task FirstAsync() => Vm.PageNumber == 1 ? Task.CompletedTask : TurnAsync(null, 1, () => Vm.FirstAsync(Store));

    /// <summary>
    /// Shows another page of the query that ran: recorded as read first, with its cursor and number, then loaded; the
    /// address then follows it, so Back returns to the page before and a page can be bookmarked.
    /// </summary>
    private async Task TurnAsync(string? cursor, int pageNumber, Func<Task> load, bool showInAddress = true)
    {
        if (Vm.AppliedQuery is not { } query)
        {
            return;
        }
        var run = ++_runs;
        var search = Vm.SearchNumber;
        _busy = true;
        try
        {
            await RecordAsync(query, cursor, pageNumber);
            await load();
        }
        finally
        {
            if (run == _runs)
            {
                _busy = false;
            }
        }
        if (search != Vm.SearchNumber)
        {
            // A search began while the page loaded: its rows are shown, and the address is its own.
            return;
        }
        if (showInAddress && Vm.Error is null)
        {
            Navigation.NavigateTo(ItemLinks.Search(query, Vm.PageNumber, Vm.CurrentCursor));
            // A page the officer turned to; one the address opened (Back, Forward) returns to where it was left instead.
            await InBrowserAsync(() => JS.InvokeVoidAsync("bonnieScroll.showRows", _rows).AsTask(), "bring the new page's rows into view");
        }
    }

    /// <summary>The query builder or the saved searches, brought into view from the box (below 1920 px they follow the rows).</summary>
    private Task ShowPanelAsync(string id) =>
        InBrowserAsync(() => JS.InvokeVoidAsync("bonnieScroll.showPanel", id).AsTask(), "bring a panel into view");

    /// <summary>
    /// A call into the browser that only helps the officer find their place: if the browser cannot be reached (the
    /// officer left, the connection dropped, the script did not load), the page goes on as it would without it,
    /// instead of the exception ending the circuit.
    /// </summary>
    private async Task InBrowserAsync(Func<Task> call, string what)
    {
        try
        {
            await call();
        }
        catch (Exception e) when (e is JSException or JSDisconnectedException or OperationCanceledException)
        {
            Logger.LogDebug(e, "Could not {What} in the browser", what);
        }
    }

    private async Task SubmitAsync()
    {
        await RunAsync();
        // The address bar follows the query so it can be bookmarked; the page sees its own query and does not run it twice.
        // The same query run again shows its first page: an address still naming page 3 would reopen page 3 (a review).
        if (!string.Equals(Q ?? "", Vm.Query, StringComparison.Ordinal) || (At is not null && Vm.Error is null))
        {
            Navigation.NavigateTo(ItemLinks.Search(Vm.Query));
        }
    }

    private async Task RunAsync()
    {
        if (Vm.TryParse() is null)
        {
            return;
        }
        if (_busy && string.Equals(_running, Vm.Query, StringComparison.Ordinal))
        {
            // Enter pressed again while the same query is on its way: a review saw three such presses run three full
            // searches one after another, each recorded in the officers' audit.
            return;
        }
        if (_searching is not null)
        {
            await _searching.CancelAsync();
            _searching.Dispose();
        }
        if (_counting is not null)
        {
            // The last query's counts are no one's now: they would keep the store busy up to its time limit.
            await _counting.CancelAsync();
        }
        _searching = new CancellationTokenSource();
        var token = _searching.Token;
        var run = ++_runs;
        _busy = true;
        _running = Vm.Query;
        _stopped = null;
        bool ran;
        try
        {
            await RecordAsync(Vm.Query, cursor: null, pageNumber: 1);
            ran = await Vm.SearchAsync(Store, token);
            if (Vm.ErrorIsTheStores && run == _runs)
            {
                _stopped = Vm.Query;
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Another query replaced this one, or the officer left the page.
            return;
        }
        finally
        {
            if (run == _runs)
            {
                _busy = false;
                _running = null;
            }
        }
        if (ran)
        {
            // Not awaited: the rows are shown now, and Next, another query or the address's page need not wait for the counts.
            _ = CountFacetsAsync();
            await NameFoldersAsync();
        }
    }

    /// <summary>
    /// The folders the query that ran names by their unique id, with their names now. A folder's chip adds
    /// <c>folder:&lt;id&gt;</c>, exactly what it counted, but a review could no longer read its own query, nor tell a
    /// colleague what it meant.
    /// </summary>
    private async Task NameFoldersAsync()
    {
        _foldersNamed = [];
        if (Vm.Applied is not { } query)
        {
            return;
        }
        var named = new List<(string Id, string Name)>();
        foreach (var id in FolderTerms(query.Root).Distinct(StringComparer.Ordinal).Take(10))
        {
            try
            {
                if (await OffCircuit.Read(() => Store.GetFolderAsync(id)) is { } folder && !string.Equals(folder.Name, id, StringComparison.Ordinal))
                {
                    named.Add((id, folder.Name));
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Only a help to read the query: the results stand without it.
                Logger.LogWarning(e, "Could not look up a folder named in a query");
            }
        }
        if (ReferenceEquals(Vm.Applied, query))
        {
            _foldersNamed = named;
        }
    }

    /// <summary>
    /// Addresses searched as free text (<c>alice@example.org</c>), not excluded: each finds the messages whose subject,
    /// addresses or body hold it, which is not what that user did.
    /// </summary>
    internal static IReadOnlyList<string> AddressesAsText(QueryNode? node)
    {
        static IEnumerable<string> Of(QueryNode? n) => n switch
        {
            TextNode { Field: TextField.Any, IsPrefix: false } t when t.Text.Contains('@', StringComparison.Ordinal) && !t.Text.Any(char.IsWhiteSpace) => [t.Text],
            AndNode a => a.Children.SelectMany(Of),
            OrNode o => o.Children.SelectMany(Of),
            _ => [],
        };
        return Of(node).Distinct(StringComparer.OrdinalIgnoreCase).Take(3).ToList();
    }

    private static IEnumerable<string> FolderTerms(QueryNode node) => node switch
    {
        KeywordNode { Field: KeywordField.Folder, IsPrefix: false } k => [k.Value],
        AndNode a => a.Children.SelectMany(FolderTerms),
        OrNode o => o.Children.SelectMany(FolderTerms),
        NotNode n => FolderTerms(n.Child),
        _ => [],
    };

    private async Task CountFacetsAsync()
    {
        if (_counting is not null)
        {
            await _counting.CancelAsync();
            _counting.Dispose();
        }
        _counting = new CancellationTokenSource();
        var token = _counting.Token;
        try
        {
            await Vm.CountFacetsAsync(Store, token);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Another search, or the officer left the page: these counts are no one's.
            return;
        }
        catch (Exception ex)
        {
            Logger.LogError(ex, "Counting the facets of a search failed");
        }
        StateHasChanged();
        // Once the counts are shown: the return to a position waits for them, not for this.
        if (await ExplainNoMatchAsync(token))
        {
            StateHasChanged();
        }
    }

    /// <summary>
    /// For a query that matches nothing, each term it asks for counted alone (off the circuit): the page names those
    /// that match nothing at all. Recorded first as a search that was only counted, as the export page's counts are:
    /// a term's count alone says whether it is anywhere in the store.
    /// </summary>
    private async Task<bool> ExplainNoMatchAsync(CancellationToken token)
    {
        if (Vm.Applied is not { } query || Vm.Page is not { Total: 0 } || Vm.AppliedQuery is not { } text)
        {
            return false;
        }
        var (counted, more) = NoMatchExplanation.TermsOf(query);
        if (counted.Count == 0)
        {
            return false;
        }
        try
        {
            await Audit.RecordPageReadAsync(AuthenticationState, Circuit, OfficerActions.Search, text, new Dictionary<string, string?>
            {
                ["counted"] = "each term alone, to say why nothing matches",
                ["terms"] = string.Join(" | ", counted.Select(t => t.Text)),
            }, token);
            var explained = await NoMatchExplanation.ExplainAsync(Store, query, counted, more,
                near => Audit.RecordPageReadAsync(AuthenticationState, Circuit, OfficerActions.Search, near,
                    new Dictionary<string, string?> { ["counted"] = "names near a term that matches nothing", ["query"] = text }, token),
                Logger, token);
            if (!ReferenceEquals(Vm.Applied, query))
            {
                return false;
            }
            _noMatch = (query, explained);
            return true;
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Only a help (the audit could not record it, so nothing was counted): "0 events match" stands.
            Logger.LogWarning(e, "Could not explain a query that matched nothing");
            return false;
        }
    }

    /// <summary>The explanation of the query shown, if it is the one that was explained and has something to say.</summary>
    private NoMatchExplanation.Explanation? NoMatch =>
        _noMatch is var (of, explained) && ReferenceEquals(of, Vm.Applied) && Vm.Page is { Total: 0 }
        && string.Equals(Vm.Query, Vm.AppliedQuery, StringComparison.Ordinal) && explained.SaysAnything
            ? explained
            : null;

    public void Dispose()
    {
        _counting?.Cancel();
        _counting?.Dispose();
        _searching?.Cancel();
        _searching?.Dispose();
    }

    private Task NextAsync() => Vm.Page?.Next is { } next ? TurnAsync(next, Vm.PageNumber + 1, () => Vm.NextAsync(Store)) : Task.CompletedTask;

    private Task PreviousAsync() => Vm.HasPrevious ? TurnAsync(Vm.PreviousCursor, Vm.PageNumber - 1, () => Vm.PreviousAsync(Store)) : Task.CompletedTask;

    // Each page of results is evidence read, not only the first: every one is recorded with the query that ran
    // (not what the box holds now) and where in it the officer is, as the API records its pages.
    private Task RecordAsync(string query, string? cursor, int pageNumber) =>
        Audit.RecordPageReadAsync(AuthenticationState, Circuit, OfficerActions.Search, query,
            AuditDetails.PagedRead(SearchViewModel.PageSize, cursor, ("page", pageNumber.ToString(Culture))));

    private Task SortChangedAsync(SortOrder order)
    {
        Vm.Query = QueryTerms.WithSort(Vm.Query, order);
        return SubmitAsync();
    }

    private Task AddFacetAsync(string field, string value)
    {
        Vm.Query = QueryTerms.Append(Vm.Query, QueryTerms.Term(field, value));
        return SubmitAsync();
    }

    private void AddBuilderTerm()
    {
        if (!string.IsNullOrWhiteSpace(_builderValue))
        {
            Vm.Query = QueryTerms.Append(Vm.Query, QueryTerms.Term(_builderField, _builderValue));
            _builderValue = null;
        }
    }

    private void AddDateRange()
    {
        // The range picked replaces the dates the query had: added beside them, a second range that does not overlap
        // the first made a query no event can match, which is refused (a review).
        if (_range is { Start: not null } or { End: not null })
        {
            Vm.Query = QueryTerms.WithoutDateTerms(Vm.Query);
        }
        if (_range?.Start is { } start)
        {
            Vm.Query = QueryTerms.Append(Vm.Query, "after:" + QueryTerms.Date(start));
        }
        if (_range?.End is { } end)
        {
            // before: is exclusive; the range's last day is meant to be included.
            Vm.Query = QueryTerms.Append(Vm.Query, "before:" + QueryTerms.Date(end.Date.AddDays(1)));
        }
        _range = null;
    }

    private async Task SaveAsync()
    {
        if (string.IsNullOrWhiteSpace(_saveName) || string.IsNullOrWhiteSpace(Vm.Query))
        {
            return;
        }
        await SavedSearches.SaveAsync(_officer ?? "?", _saveName, Vm.Query);
        _saveName = null;
        _saved = await SavedSearches.ListAsync(_officer ?? "?");
    }

    private async Task DeleteSavedAsync(string name)
    {
        await SavedSearches.DeleteAsync(_officer ?? "?", name);
        _saved = await SavedSearches.ListAsync(_officer ?? "?");
    }

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", Culture);

    private static string Day(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd", Culture);

    private static string TimeOfDay(DateTimeOffset t) => t.UtcDateTime.ToString("HH:mm:ss.fff", Culture);

    private static string Caret(int position) => new string(' ', Math.Max(0, position)) + "^";
}
