using System.Globalization;
using Bonnie.Shared.Storage;
using Bonnie.Web.Audit;
using Bonnie.Web.Messages;
using Bonnie.Web.Search;
using Bonnie.Web.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Bonnie.Web.Components.Pages;

public sealed partial class MessageHistory
{
    private const int EventLimit = 10_000;
    private static readonly CultureInfo Culture = CultureInfo.InvariantCulture;

    private MessageObject? _message;
    private IReadOnlyList<TimelineEntry> _timeline = [];

    // A message flagged and unflagged thousands of times made a page hundreds of thousands of pixels tall that took
    // seconds to draw (a review): the timeline shows this many entries at a time, more on request.
    private const int TimelinePage = 250;
    private int _timelineShown = TimelinePage;
    private bool _eventsCut;

    private void ShowMoreOfTheTimeline() => _timelineShown += TimelinePage * 4;
    private MessageContent? _content;
    private string? _contentError;
    // The bytes are in the payload store: only then can a restore put the message back (RestorePlanner.KeptBytesOf).
    private bool _bytesKept;

    private const string NotRestorable = "Cannot be restored: the message's bytes were not kept, and a restore puts back the message exactly as it was received.";
    // Each location's folder as it is called now (a location keeps the name it had when the message arrived).
    private Dictionary<string, string> _folderNamesNow = new(StringComparer.Ordinal);

    [Parameter]
    public string Key { get; set; } = "";

    [Inject]
    private IPayloadStore Payloads { get; set; } = default!;

    [Inject]
    private OfficerAuditLog AuditLog { get; set; } = default!;

    [Inject]
    private IAuthorizationService Authorization { get; set; } = default!;

    // Who ran a restore is the officers' audit log's, which administrators read: others see that Bonnie restored it.
    private bool _mayNameOfficers;

    private List<RestoredHere> _restores = [];

    /// <summary>A restore that put this message into a folder, as the officers' audit log recorded how it ended.</summary>
    private sealed record RestoredHere(DateTimeOffset At, string Officer, string Job, string Folder, string? Uid);

    private string PayloadText => _message?.PayloadStatus switch
    {
        PayloadStatus.Stored => "kept byte-exact",
        PayloadStatus.DigestMismatch => "kept, but its SHA-1 does not match the GUID Cyrus reported",
        PayloadStatus.Missing => "not available: no source could give the bytes",
        _ => "not kept",
    } + (_message?.PayloadSha256 is { } sha ? $" (SHA-256 {sha})" : "");

    protected override string RouteItem => Key;

    protected override void Forget()
    {
        _message = null;
        _folderNamesNow = new(StringComparer.Ordinal);
        _content = null;
        _contentError = null;
        _bytesKept = false;
        _restores = [];
    }

    protected override async Task LoadAsync(string id)
    {
        if (await OffCircuit.Read(() => Bonnie.Shared.Storage.MessageHistory.ResolveAsync(Store, id)) is not { } message)
        {
            return;
        }
        await RecordReadAsync(OfficerActions.MessageViewed, message.Key);
        var changes = await OffCircuit.Read(() => Bonnie.Shared.Storage.MessageHistory.ChangesAsync(Store, message));
        var events = await OffCircuit.Read(() => Bonnie.Shared.Storage.MessageHistory.EventsAsync(Store, message, EventLimit));
        _timeline = MessageTimeline.Build(message, changes, events);
        _eventsCut = events.Count >= EventLimit;
        _timelineShown = TimelinePage;
        _folderNamesNow = await OffCircuit.Read(() => Bonnie.Shared.Storage.MessageHistory.FolderNamesNowAsync(Store, message));
        _message = message;
        _restores = await OffCircuit.Read(() => RestoresOfAsync(message));
        _mayNameOfficers = _restores.Count > 0
            && (await Authorization.AuthorizeAsync((await AuthenticationState).User, BonniePolicies.CanAdminister)).Succeeded;
        await LoadContentAsync(message);
    }

    /// <summary>
    /// Cyrus reports a restore's APPEND as the mailbox owner's (the restore acts with the owner's rights), so the trail
    /// alone would say the owner put the message back. The officers' audit log lists, for each restore that ended, every
    /// message it stored with folder, UID and GUID: this message's lines say which arrival was Bonnie's.
    /// </summary>
    private async Task<List<RestoredHere>> RestoresOfAsync(MessageObject message)
    {
        var found = new List<RestoredHere>();
        if (message.EmailId is not { Length: > 0 } emailId)
        {
            return found;
        }
        await foreach (var record in AuditLog.ReadAllAsync(new AuditFilter(Action: OfficerActions.Restore, Text: emailId)))
        {
            using var details = System.Text.Json.JsonDocument.Parse(record.Details);
            if (!details.RootElement.TryGetProperty("stored", out var stored) || stored.GetString() is not { } lines
                || !details.RootElement.TryGetProperty("job", out var job))
            {
                continue;
            }
            foreach (var line in lines.Split('\n'))
            {
                // Folder, UID (or "?"), GUID and key, separated by tabs, as Api.RestoreStarter.Outcome writes them.
                var parts = line.Split('\t');
                if (parts.Length == 4 && string.Equals(parts[2], emailId, StringComparison.OrdinalIgnoreCase))
                {
                    found.Add(new RestoredHere(record.Time, record.Officer, job.GetString() ?? "", parts[0], parts[1] == "?" ? null : parts[1]));
                }
            }
        }
        return found;
    }

    private bool AnyFlags => _message?.Locations.Any(l => l.Flags.Count > 0) == true;

    /// <summary>The folder's name now, and the name it had when the message arrived when that was another.</summary>
    private (string Now, string? Then) FolderNamesOf(MessageLocation location)
    {
        var then = location.FolderName ?? location.FolderId;
        return _folderNamesNow.TryGetValue(location.FolderId, out var now) && !string.Equals(now, then, StringComparison.Ordinal)
            ? (now, then)
            : (then, null);
    }

    private async Task LoadContentAsync(MessageObject message)
    {
        if (message.PayloadSha256 is not { } sha)
        {
            _contentError = "The message's bytes were not kept, so only its history is shown.";
            return;
        }
        if (await OffCircuit.Read(() => Payloads.GetAsync(sha)) is not { } payload)
        {
            _contentError = $"The payload {sha} is missing from the payload store.";
            return;
        }
        // The payload was found: kept, then, by the planner's own rule.
        _bytesKept = Bonnie.Pipeline.Restore.RestorePlanner.KeptBytesOf(message) is not null;
        try
        {
            _content = MessageContent.Parse(payload);
        }
        catch (FormatException ex)
        {
            _contentError = "The stored bytes do not parse as a message: " + ex.Message + " The raw .eml can still be downloaded.";
        }
    }

    private static Color ColorOf(TimelineKind kind) => kind switch
    {
        TimelineKind.Arrived => Color.Success,
        TimelineKind.Read => Color.Info,
        TimelineKind.Flagged => Color.Warning,
        TimelineKind.Moved or TimelineKind.Copied => Color.Primary,
        // A mark for deletion is not a removal: the message is still there.
        TimelineKind.Deleted => Color.Warning,
        TimelineKind.Removed => Color.Error,
        _ => Color.Default,
    };

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", Culture) + " UTC";
}
