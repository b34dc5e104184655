using System.Globalization;
using Bonnie.Shared.Storage;
using Bonnie.Shared.Search;
using Bonnie.Web.Search;
using Bonnie.Web.Audit;
using Bonnie.Web.Folders;
using Microsoft.AspNetCore.Components;

namespace Bonnie.Web.Components.Pages;

public sealed partial class FolderHistory
{
    private FolderObject? _folder;
    private long _eventCount;
    private int _activeDays;
    private FacetCount? _busiestDay;
    private IReadOnlyList<ChangeRecord> _changes = [];
    private IReadOnlyList<ChangeRecord> _names = [];
    private IReadOnlyList<ChangeRecord> _acl = [];
    private IReadOnlyList<ChangeRecord> _metadata = [];
    private IReadOnlyList<FolderContentRow> _contents = [];
    private IReadOnlyDictionary<string, string> _aclAt = new Dictionary<string, string>();
    private DateTimeOffset? _contentsAt;
    private DateTime? _date;
    private TimeSpan? _time;
    private bool _busy;

    [Parameter]
    public string Id { get; set; } = "";

    [Inject]
    private TimeProvider Clock { get; set; } = default!;

    protected override string RouteItem => Id;

    protected override void Forget()
    {
        _folder = null;
        _contentsAt = null;
        _contents = [];
        _aclAt = new Dictionary<string, string>();
        _busy = false;
    }

    protected override async Task LoadAsync(string id)
    {
        if (await OffCircuit.Read(() => Store.GetFolderAsync(id)) is not { } folder)
        {
            return;
        }
        await RecordReadAsync(OfficerActions.FolderViewed, id);
        _changes = await OffCircuit.Read(() => Store.GetChangesAsync(ObjectKind.Folder, id));
        _names = Folders.FolderHistory.Names(_changes);
        _acl = Folders.FolderHistory.Acl(_changes);
        _metadata = Folders.FolderHistory.Metadata(_changes);
        // How much happened in it, at a glance (a review found no count on the page, only the link to its events).
        try
        {
            var activity = await OffCircuit.Read(() => Store.SearchEventsAsync(new EventSearch
            {
                Query = QueryParser.Parse(QueryTerms.Term("folder", folder.Id)), Limit = 1, Facets = Facets.Day,
            }));
            _eventCount = activity.Total;
            var days = activity.Facets.GetValueOrDefault("day") ?? [];
            _activeDays = days.Count;
            _busiestDay = days.OrderByDescending(d => d.Count).ThenByDescending(d => d.Value, StringComparer.Ordinal).FirstOrDefault();
        }
        catch (QuerySyntaxException)
        {
            // The store stopped the count (its search time-out on a folder of very many events): the page opens without it.
            _eventCount = -1;
        }
        _folder = folder;
        var now = Clock.GetUtcNow().UtcDateTime;
        _date = now.Date;
        _time = new TimeSpan(now.Hour, now.Minute, now.Second);
    }

    /// <summary>The moment the pickers show, in UTC; the end of the chosen second, so events within it count.</summary>
    internal DateTimeOffset ChosenMoment =>
        new DateTimeOffset(DateTime.SpecifyKind((_date ?? Clock.GetUtcNow().UtcDateTime).Date, DateTimeKind.Utc))
            .Add(_time ?? TimeSpan.Zero).AddTicks(TimeSpan.TicksPerSecond - 1);

    private async Task ShowContentsAsync()
    {
        if (_folder is not { } folder)
        {
            return;
        }
        var changes = _changes;
        _busy = true;
        try
        {
            var at = ChosenMoment;
            // The messages it held then (subjects, senders) are evidence too, read anew for each moment.
            await RecordReadAsync(OfficerActions.FolderViewed, folder.Id,
                new Dictionary<string, string?> { ["contentsAt"] = at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture) });
            var contents = await OffCircuit.Read(() => Folders.FolderHistory.ContentsAtAsync(Store, folder.Id, at));
            if (!ReferenceEquals(_folder, folder))
            {
                // The officer went to another folder meanwhile (a link, Back): these contents are not its.
                return;
            }
            _contents = contents;
            _aclAt = Folders.FolderHistory.AclAt(folder.Acl, changes, at, folder.FirstSeen);
            _contentsAt = at;
        }
        finally
        {
            if (ReferenceEquals(_folder, folder))
            {
                _busy = false;
            }
        }
    }

    /// <summary>Who the identifier named when its rights were last set (the folder's snapshot); null when not kept.</summary>
    private SubjectIdentity? SubjectOf(string identifier) =>
        _folder?.AclSubjects.GetValueOrDefault(identifier);

    /// <summary>Who the identifier named at a change: the snapshot in force then (see <see cref="FolderObject.SubjectAt"/>).</summary>
    private SubjectIdentity? SubjectAt(string identifier, DateTimeOffset at) => _folder?.SubjectAt(identifier, at);

    // An empty cell under "Looked up in the directory" read as a missing value (a review): said, when no directory was
    // asked (none configured, or the entry recorded before one was).
    private const string NotLookedUp = "not looked up";

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";
}
