using System.Globalization;
using Bonnie.Shared.Storage;
using Bonnie.Web.Audit;
using Bonnie.Web.Messages;
using Bonnie.Web.Officers;
using Bonnie.Web.Search;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace Bonnie.Web.Components.Pages;

public sealed partial class MessageHistory
{
    private const int EventLimit = 10_000;
    private static readonly CultureInfo Culture = CultureInfo.InvariantCulture;

    private MessageObject? _message;
    private IReadOnlyList<TimelineEntry> _timeline = [];
    private MessageContent? _content;
    private string? _contentError;
    private bool _loading = true;
    private string? _loadedKey;

    [Parameter]
    public string Key { get; set; } = "";

    [Inject]
    private IBonnieStore Store { get; set; } = default!;

    [Inject]
    private IPayloadStore Payloads { get; set; } = default!;

    [Inject]
    private IOfficerAudit Audit { get; set; } = default!;

    [Inject]
    private OfficerCircuit Circuit { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    private string PayloadText => _message?.PayloadStatus switch
    {
        PayloadStatus.Stored => "kept byte-exact",
        PayloadStatus.DigestMismatch => "kept, but its SHA-1 does not match the GUID Cyrus reported",
        PayloadStatus.Missing => "not available: no source could give the bytes",
        _ => "not kept",
    } + (_message?.PayloadSha256 is { } sha ? $" (SHA-256 {sha})" : "");

    protected override async Task OnParametersSetAsync()
    {
        // Loaded (and audited) once the circuit is live, not again during prerendering.
        if (!RendererInfo.IsInteractive || Key == _loadedKey)
        {
            return;
        }
        _loadedKey = Key;
        _loading = true;
        _message = null;
        _content = null;
        _contentError = null;
        try
        {
            if (ItemLinks.Decode(Key) is not { } key || await Store.GetMessageAsync(key) is not { } message)
            {
                return;
            }
            await Audit.RecordPageReadAsync(AuthenticationState, Circuit, OfficerActions.MessageViewed, key);

            var changes = await Store.GetChangesAsync(ObjectKind.Message, key);
            var events = await Store.GetEventsForObjectAsync(ObjectKind.Message, key, EventLimit);
            _timeline = MessageTimeline.Build(message, changes, events);
            _message = message;
            await LoadContentAsync(message);
        }
        finally
        {
            _loading = false;
        }
    }

    private async Task LoadContentAsync(MessageObject message)
    {
        if (message.PayloadSha256 is not { } sha)
        {
            _contentError = "The message's bytes were not kept, so only its history is shown.";
            return;
        }
        if (await Payloads.GetAsync(sha) is not { } payload)
        {
            _contentError = $"The payload {sha} is missing from the payload store.";
            return;
        }
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
        TimelineKind.Deleted or TimelineKind.Removed => Color.Error,
        _ => Color.Default,
    };

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", Culture) + " UTC";
}
