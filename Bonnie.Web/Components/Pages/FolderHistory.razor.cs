using System.Globalization;
using Bonnie.Shared.Storage;
using Bonnie.Web.Audit;
using Bonnie.Web.Folders;
using Bonnie.Web.Officers;
using Bonnie.Web.Search;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace Bonnie.Web.Components.Pages;

public sealed partial class FolderHistory
{
    private FolderObject? _folder;
    private IReadOnlyList<ChangeRecord> _changes = [];
    private IReadOnlyList<ChangeRecord> _names = [];
    private IReadOnlyList<ChangeRecord> _acl = [];
    private IReadOnlyList<ChangeRecord> _metadata = [];
    private IReadOnlyList<FolderContentRow> _contents = [];
    private IReadOnlyDictionary<string, string> _aclAt = new Dictionary<string, string>();
    private DateTimeOffset? _contentsAt;
    private DateTime? _date;
    private TimeSpan? _time;
    private bool _loading = true;
    private bool _busy;
    private string? _loadedId;

    [Parameter]
    public string Id { get; set; } = "";

    [Inject]
    private IBonnieStore Store { get; set; } = default!;

    [Inject]
    private TimeProvider Clock { get; set; } = default!;

    [Inject]
    private IOfficerAudit Audit { get; set; } = default!;

    [Inject]
    private OfficerCircuit Circuit { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    protected override async Task OnParametersSetAsync()
    {
        // Loaded (and audited) once per folder once the circuit is live, not on every render nor during prerendering.
        if (!RendererInfo.IsInteractive || Id == _loadedId)
        {
            return;
        }
        _loadedId = Id;
        _loading = true;
        _folder = null;
        _contentsAt = null;
        try
        {
            if (ItemLinks.Decode(Id) is not { } id || await Store.GetFolderAsync(id) is not { } folder)
            {
                return;
            }
            await Audit.RecordPageReadAsync(AuthenticationState, Circuit, OfficerActions.FolderViewed, id);
            _changes = await Store.GetChangesAsync(ObjectKind.Folder, id);
            _names = Folders.FolderHistory.Names(_changes);
            _acl = Folders.FolderHistory.Acl(_changes);
            _metadata = Folders.FolderHistory.Metadata(_changes);
            _folder = folder;
            var now = Clock.GetUtcNow().UtcDateTime;
            _date = now.Date;
            _time = new TimeSpan(now.Hour, now.Minute, now.Second);
        }
        finally
        {
            _loading = false;
        }
    }

    /// <summary>The moment the pickers show, in UTC; the end of the chosen second, so events within it count.</summary>
    internal DateTimeOffset ChosenMoment =>
        new DateTimeOffset(DateTime.SpecifyKind((_date ?? Clock.GetUtcNow().UtcDateTime).Date, DateTimeKind.Utc))
            .Add(_time ?? TimeSpan.Zero).AddTicks(TimeSpan.TicksPerSecond - 1);

    private async Task ShowContentsAsync()
    {
        if (_folder is null)
        {
            return;
        }
        _busy = true;
        try
        {
            var at = ChosenMoment;
            // The messages it held then (subjects, senders) are evidence too, read anew for each moment.
            await Audit.RecordPageReadAsync(AuthenticationState, Circuit, OfficerActions.FolderViewed, _folder.Id,
                new Dictionary<string, string?> { ["contentsAt"] = at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture) });
            _contents = await Folders.FolderHistory.ContentsAtAsync(Store, _folder.Id, at);
            _aclAt = Folders.FolderHistory.AclAt(_folder.Acl, _changes, at, _folder.FirstSeen);
            _contentsAt = at;
        }
        finally
        {
            _busy = false;
        }
    }

    /// <summary>Who the identifier named when its rights were last set (the folder's snapshot); null when not kept.</summary>
    private SubjectIdentity? SubjectOf(string identifier) =>
        _folder?.AclSubjects.GetValueOrDefault(identifier);

    /// <summary>Who the identifier named at a change: the snapshot in force then (see <see cref="FolderObject.SubjectAt"/>).</summary>
    private SubjectIdentity? SubjectAt(string identifier, DateTimeOffset at) => _folder?.SubjectAt(identifier, at);

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";
}
