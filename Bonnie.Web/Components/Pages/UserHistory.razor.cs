using System.Globalization;
using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;
using Bonnie.Web.Audit;
using Bonnie.Web.Search;
using Microsoft.AspNetCore.Components;

namespace Bonnie.Web.Components.Pages;

public sealed partial class UserHistory
{
    private const int SessionLimit = 1000;

    /// <summary>The page shows and counts the latest <see cref="SessionLimit"/> sessions; this says when there may be more.</summary>
    private bool SessionsCut => _sessions.Count >= SessionLimit;
    private const int ActionLimit = 50;

    private string? _login;
    private IReadOnlyList<SessionObject> _sessions = [];
    private IReadOnlyList<(string Address, int Sessions, int Logins, DateTimeOffset? Last)> _byAddress = [];
    private IReadOnlyList<StoredEvent> _actions = [];
    private long _actionsTotal;
    private IReadOnlyList<(string PersonId, string DisplayName)> _people = [];

    [Parameter]
    public string Login { get; set; } = "";

    protected override string RouteItem => Login;

    protected override void Forget() => _login = null;

    protected override async Task LoadAsync(string id)
    {
        _login = id;
        // The sessions are evidence of their own, recorded as the API records them (a search would not name them).
        await RecordReadAsync(OfficerActions.SessionsViewed, _login,
            new Dictionary<string, string?> { ["limit"] = SessionLimit.ToString(CultureInfo.InvariantCulture) });
        _sessions = await OffCircuit.Read(() => Store.GetSessionsForUserAsync(id, SessionLimit));
        _byAddress = _sessions
            .GroupBy(s => s.ClientIp ?? "(unknown)", StringComparer.Ordinal)
            // A session whose login Bonnie never saw (only its logout) is a session, not a login seen (a review found
            // 47 "logins" from an address with none).
            .Select(g => (g.Key, g.Count(), g.Count(s => s.LoginAt is not null), g.Max(s => s.LoginAt)))
            .OrderByDescending(g => g.Item2)
            .ToList();

        // The user's actions are a search like any other, and audited as one.
        var query = QueryTerms.Term("user", _login);
        await RecordReadAsync(OfficerActions.Search, query);
        var page = await OffCircuit.Read(() => Store.SearchEventsAsync(new EventSearch { Query = QueryParser.Parse(query), Limit = ActionLimit }));
        _actions = page.Items;
        _actionsTotal = page.Total;
        // Who carried the name, as the latest events' snapshots recorded them.
        _people = _actions
            .Where(e => string.Equals(e.User, _login, StringComparison.OrdinalIgnoreCase))
            .Select(e => e.Identity)
            .Where(i => i is { Status: IdentityStatus.Resolved, PersonId: not null })
            .GroupBy(i => i!.PersonId!, StringComparer.Ordinal)
            .Select(g => (g.Key, g.First()!.DisplayName ?? g.Key))
            .ToList();
    }

    // A logout stamped before its login (a clock stepped back, or a session id reused) gives a negative duration: shown
    // with its sign and days, as recorded, rather than as a plausible positive time.
    private static string Duration(SessionObject s) => s.Duration is { } d
        ? (d < TimeSpan.Zero ? "−" : "") + d.Duration().ToString(d.Duration().TotalDays >= 1 ? @"d\ \d\ hh\:mm\:ss" : @"hh\:mm\:ss", CultureInfo.InvariantCulture)
            + (d < TimeSpan.Zero ? " (logout before login)" : "")
        // Not "open": weeks later that read as a session still going, when all that is known is that no logout came.
        : s.LoginAt is null ? "login not seen" : "no logout seen";

    /// <summary>A moment as its date over its time, each kept whole: one line of both made the grid too wide at 1024 px.</summary>
    private static RenderFragment DateOverTime(DateTimeOffset? t) => builder =>
    {
        if (t is not { } at)
        {
            return;
        }
        builder.AddContent(0, at.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        builder.AddMarkupContent(1, "<br>");
        builder.AddContent(2, at.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture));
    };

    // Cyrus's session ids (cyrus-1795951187-11381-2-14971745235264492537) are as long as the rest of a row: the start
    // and the end say which it is at a glance, the link's title and the search it opens give it whole.
    private const int SessionIdShown = 16;

    private static string Shortened(string id) =>
        id.Length <= SessionIdShown ? id : string.Concat(id.AsSpan(0, SessionIdShown / 2), "…", id.AsSpan(id.Length - SessionIdShown / 2 + 1));

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
