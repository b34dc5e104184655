using System.Globalization;
using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;
using Bonnie.Web.Audit;
using Bonnie.Web.People;
using Bonnie.Web.Search;
using Microsoft.AspNetCore.Components;

namespace Bonnie.Web.Components.Pages;

public sealed partial class PersonHistory
{
    private const int TrailLimit = 50;

    private PersonRecord? _person;
    private IReadOnlyList<PersonState> _states = [];
    private bool _truncated;
    private List<StoredEvent> _trail = [];
    private long _trailTotal;
    private int _othersLeftOut;
    private string? _query;

    [Parameter]
    public string Id { get; set; } = "";

    protected override string RouteItem => Id;

    protected override void Forget() => _person = null;

    protected override async Task LoadAsync(string id)
    {
        if (await OffCircuit.Read(() => Store.GetPersonAsync(id)) is not { } person)
        {
            return;
        }
        // Who the person is (every name, groups and roles over time) is recorded as the API records it; the trail below as a search.
        await RecordReadAsync(OfficerActions.PersonViewed, person.PersonId);
        _person = person;
        if (PersonTimeline.SearchName(person) is not { } name)
        {
            return;
        }
        // The person's events are a search like any other, and audited as one.
        _query = PersonTimeline.Query(name);
        await RecordReadAsync(OfficerActions.Search, _query, new Dictionary<string, string?> { ["person"] = person.PersonId });
        var query = _query;
        var page = await OffCircuit.Read(() => Store.SearchEventsAsync(new EventSearch { Query = QueryParser.Parse(query), Limit = TrailLimit }));
        // The search is by name, and a name can pass from one person to another: an event the directory put on someone
        // else is theirs, not this person's (found by reading the code in a review). Events no one was resolved for stay.
        var personId = person.PersonId;
        _trail = page.Items.Where(e => e.Identity is not { Status: IdentityStatus.Resolved, PersonId: { } other } || string.Equals(other, personId, StringComparison.Ordinal))
            .ToList();
        _othersLeftOut = page.Items.Count - _trail.Count;
        _trailTotal = page.Total;
        (_states, _truncated) = await OffCircuit.Read(() => PersonTimeline.ReadAsync(Store, person));
    }

    private static string Count(long n, string what) =>
        n.ToString("N0", CultureInfo.InvariantCulture) + " " + what + (n == 1 ? "" : "s");

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
